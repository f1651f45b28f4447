/**
 * Webhook signature check: `X-Hub-Signature-256` is `sha256=` followed by the hex HMAC-SHA256 of the raw body
 * under the webhook secret. The comparison is constant-time (`@octokit/webhooks-methods` uses timingSafeEqual).
 */
import type { Rejection } from "./outcome.js";

type WebhooksMethods = typeof import("@octokit/webhooks-methods");
let webhooksMethods: Promise<WebhooksMethods> | undefined;

/**
 * @octokit/webhooks-methods publishes only an ESM "import" entry. A dynamic import resolves it both in the
 * esbuild bundle (where it is inlined) and under the CommonJS test runtime; it is loaded once.
 */
function loadWebhooksMethods(): Promise<WebhooksMethods> {
  webhooksMethods ??= import("@octokit/webhooks-methods");
  return webhooksMethods;
}

const SIGNATURE_256 = /^sha256=[0-9a-f]{64}$/;

export type SignatureCheck = { kind: "valid" } | Rejection;

/**
 * Verifies the delivery's signature over `body` (the raw body as UTF-8 text; see `readRequest`), with
 * lower-cased `headers`. The legacy `X-Hub-Signature` (HMAC-SHA1) is never enough on its own.
 */
export async function verifySignature(
  secret: string,
  body: string,
  headers: Record<string, string>,
): Promise<SignatureCheck> {
  if (secret.length === 0) throw new Error("the webhook secret is empty: check its value in Secrets Manager");
  const signature = headers["x-hub-signature-256"];
  if (signature === undefined || signature === "") {
    if (headers["x-hub-signature"]) {
      return reject("signature-sha1-only", "X-Hub-Signature (HMAC-SHA1) is not accepted: send X-Hub-Signature-256");
    }
    return reject("signature-missing", "missing header X-Hub-Signature-256: is the webhook's secret set?");
  }
  if (!SIGNATURE_256.test(signature)) {
    return reject("signature-malformed", 'X-Hub-Signature-256 must be "sha256=" followed by 64 lower-case hex digits');
  }
  // verify() refuses an empty payload; there is nothing to authenticate in one anyway.
  if (body.length === 0 || !(await (await loadWebhooksMethods()).verify(secret, body, signature))) {
    return reject(
      "signature-mismatch",
      "X-Hub-Signature-256 does not match the body (wrong secret, or the body was altered)",
    );
  }
  return { kind: "valid" };
}

function reject(reason: Rejection["reason"], message: string): Rejection {
  return { kind: "reject", status: 401, reason, message };
}
