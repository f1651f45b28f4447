/**
 * Hand-made webhook deliveries as GitHub sends them: `workflow_job` payloads built from GitHub's examples
 * (testkit/github/payloads.ts), signed with `X-Hub-Signature-256` over the raw body.
 */
import { createHmac, randomUUID } from "node:crypto";
import { type WorkflowJobFields, workflowJobPayload } from "../testkit/github/payloads";

export interface Delivery {
  /** A label for output (replay files may name their deliveries). */
  name?: string;
  headers: Record<string, string>;
  /** The raw body, exactly as signed. */
  body: string;
}

/** A `workflow_job` delivery's fields (testkit/github/payloads.ts builds the payload from GitHub's examples). */
export type QueuedJobSpec = WorkflowJobFields;

export { workflowJobPayload };

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

/** A signed delivery of a `workflow_job` event (`signature: "wrong"` signs with another secret). */
export function workflowJobDelivery(
  spec: QueuedJobSpec,
  secret: string,
  options: { deliveryId?: string; name?: string; signature?: "valid" | "wrong" } = {},
): Delivery {
  const body = JSON.stringify(workflowJobPayload(spec));
  const key = options.signature === "wrong" ? `${secret}-not-the-secret` : secret;
  return {
    name: options.name,
    headers: {
      "Content-Type": "application/json",
      "User-Agent": "GitHub-Hookshot/simulation",
      "X-GitHub-Event": "workflow_job",
      "X-GitHub-Delivery": options.deliveryId ?? randomUUID(),
      "X-GitHub-Hook-ID": "1",
      "X-GitHub-Hook-Installation-Target-Type": "organization",
      "X-Hub-Signature-256": signBody(key, body),
    },
    body,
  };
}
