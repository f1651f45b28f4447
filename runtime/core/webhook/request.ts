/**
 * Reading the HTTP request API Gateway hands over (payload format 2.0): method, headers and the raw body.
 * Everything here runs before the webhook secret is loaded or any byte is hashed, so it must stay cheap.
 */
import type { Rejection } from "./outcome.js";

/**
 * Largest body accepted, in bytes. GitHub caps payloads at 25 MB, but a `workflow_job` delivery is a few
 * kilobytes (the largest example in @octokit/webhooks-examples is under 10 KB): 1 MiB leaves room for long label
 * lists and step arrays while keeping an attacker from making us hash megabytes.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The parts of an API Gateway HTTP API (payload 2.0) event the webhook reads. */
export interface HttpEvent {
  requestContext?: { http?: { method?: string } };
  headers?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

/** A request that passed the method and size checks: lower-cased header names, the body as UTF-8 text. */
export interface WebhookRequest {
  headers: Record<string, string>;
  /** The raw body decoded as UTF-8; it encodes back to exactly the bytes GitHub signed. */
  body: string;
}

/**
 * Header names are case-insensitive: keys are lower-cased. Repeated names (in any case) are joined with a
 * comma the way HTTP folds them, so an ambiguous signature header can never match.
 */
export function normalizeHeaders(headers: HttpEvent["headers"]): Record<string, string> {
  const normalized: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (typeof value !== "string") continue;
    const key = name.toLowerCase();
    normalized[key] = key in normalized ? `${normalized[key]},${value}` : value;
  }
  return normalized;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Checks the method and the body size (before decoding or hashing anything) and returns the body as text.
 * API Gateway base64-encodes bodies it does not consider text (`isBase64Encoded`); the size limit applies to the
 * decoded bytes, computed from the encoded length without decoding.
 */
export function readRequest(event: HttpEvent, maxBodyBytes: number = MAX_BODY_BYTES): WebhookRequest | Rejection {
  const method = event.requestContext?.http?.method;
  if (method !== "POST") {
    return reject(
      405,
      "method-not-allowed",
      `method ${method ?? "(none)"} is not allowed: GitHub delivers webhooks with POST`,
    );
  }
  const encoded = typeof event.body === "string" ? event.body : "";
  const base64 = event.isBase64Encoded === true;
  const size = base64 ? Buffer.byteLength(encoded, "base64") : Buffer.byteLength(encoded, "utf8");
  if (size > maxBodyBytes) {
    return reject(413, "body-too-large", `body of ${size} bytes is over the limit of ${maxBodyBytes} bytes`);
  }
  if (size === 0) return reject(400, "body-empty", "body is empty: expected the webhook's JSON payload");
  let body = encoded;
  if (base64) {
    try {
      body = utf8.decode(Buffer.from(encoded, "base64"));
    } catch {
      return reject(400, "body-not-utf8", "body is not valid UTF-8: expected the webhook's JSON payload");
    }
    if (body.length === 0) return reject(400, "body-empty", "body is empty: expected the webhook's JSON payload");
  }
  return { headers: normalizeHeaders(event.headers), body };
}

function reject(status: Rejection["status"], reason: Rejection["reason"], message: string): Rejection {
  return { kind: "reject", status, reason, message };
}
