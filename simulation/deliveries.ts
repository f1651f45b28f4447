/**
 * Webhook deliveries as GitHub sends them: `workflow_job` payloads built from the `queued` example in
 * @octokit/webhooks-examples (GitHub's own shapes), signed with `X-Hub-Signature-256` over the raw body.
 */
import { createHmac, randomUUID } from "node:crypto";

export interface Delivery {
  /** A label for output (replay files may name their deliveries). */
  name?: string;
  headers: Record<string, string>;
  /** The raw body, exactly as signed. */
  body: string;
}

export interface QueuedJobSpec {
  jobId: number;
  runId?: number;
  labels: string[];
  /** Organization login (the stack's GitHub owner). */
  owner: string;
  repository?: string;
  /**
   * Absent: a delivery of the organization webhook the stack creates (GitHub puts no `installation` in it, the
   * launcher looks the installation up). Present: a delivery of the GitHub App's own webhook.
   */
  installationId?: number;
  action?: "queued" | "in_progress" | "completed" | "waiting";
}

interface WebhookExample {
  name: string;
  examples: Array<Record<string, unknown> & { action?: string }>;
}

let template: Record<string, unknown> | undefined;

function queuedTemplate(): Record<string, unknown> {
  if (!template) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const all = require("@octokit/webhooks-examples") as WebhookExample[];
    const found = all.find((e) => e.name === "workflow_job")?.examples.find((e) => e.action === "queued");
    if (!found) throw new Error("@octokit/webhooks-examples has no workflow_job queued example");
    template = found;
  }
  return structuredClone(template);
}

/** The `workflow_job` payload of a job, from GitHub's example with our ids, labels, owner and installation. */
export function workflowJobPayload(spec: QueuedJobSpec): Record<string, unknown> {
  const payload = queuedTemplate() as Record<string, Record<string, unknown>> & { action: string };
  const repo = spec.repository ?? "app";
  const runId = spec.runId ?? spec.jobId * 10;
  payload.action = spec.action ?? "queued";
  Object.assign(payload.workflow_job, {
    id: spec.jobId,
    run_id: runId,
    run_attempt: 1,
    labels: spec.labels,
    status: spec.action ?? "queued",
    run_url: `https://api.github.com/repos/${spec.owner}/${repo}/actions/runs/${runId}`,
    runner_id: null,
    runner_name: null,
    runner_group_id: null,
    runner_group_name: null,
  });
  Object.assign(payload.repository, { name: repo, full_name: `${spec.owner}/${repo}` });
  Object.assign(payload.repository.owner as Record<string, unknown>, { login: spec.owner, type: "Organization" });
  if (spec.installationId === undefined) delete payload.installation;
  else payload.installation = { id: spec.installationId, node_id: payload.installation?.node_id };
  return payload;
}

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
