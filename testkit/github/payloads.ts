/**
 * `workflow_job` webhook payloads as GitHub sends them, built from GitHub's published examples
 * (@octokit/webhooks-examples: `queued` with status `queued` or `waiting`, `waiting`, `in_progress`, `completed`)
 * with a job's own ids, labels, repository, runner and times. Used by the stand-in's hook deliveries and by the
 * simulation's hand-made deliveries.
 */

export type WorkflowJobAction = "queued" | "waiting" | "in_progress" | "completed";
export type WorkflowJobStatus = "queued" | "waiting" | "in_progress" | "completed";
export type WorkflowJobConclusion = "success" | "failure" | "cancelled" | null;

export interface WorkflowJobFields {
  jobId: number;
  runId?: number;
  runAttempt?: number;
  labels: string[];
  /** Organization login. */
  owner: string;
  repository?: string;
  repositoryId?: number;
  /** Present: an App webhook delivery (carries `installation`); absent: an organization webhook's. */
  installationId?: number;
  action?: WorkflowJobAction;
  /** Default: the action's own status (`queued` → queued). */
  status?: WorkflowJobStatus;
  conclusion?: WorkflowJobConclusion;
  runnerId?: number | null;
  runnerName?: string | null;
  runnerGroupId?: number | null;
  createdAt?: string;
  startedAt?: string;
  completedAt?: string | null;
}

interface WebhookExample {
  name: string;
  examples: Array<Record<string, unknown> & { action?: string; workflow_job?: { status?: string } }>;
}

let examples: WebhookExample["examples"] | undefined;

/** GitHub's example for an action (for `queued`, the one whose job status is `queued`). */
function exampleFor(action: WorkflowJobAction): Record<string, unknown> {
  if (!examples) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const all = require("@octokit/webhooks-examples") as WebhookExample[];
    examples = all.find((e) => e.name === "workflow_job")?.examples ?? [];
  }
  const found = examples.find((e) => e.action === action && e.workflow_job?.status === action);
  if (!found) throw new Error(`@octokit/webhooks-examples has no workflow_job ${action} example`);
  return structuredClone(found);
}

export function workflowJobPayload(fields: WorkflowJobFields): Record<string, unknown> {
  const action = fields.action ?? "queued";
  const payload = exampleFor(action) as Record<string, Record<string, unknown>> & { action: string };
  const repo = fields.repository ?? "app";
  const runId = fields.runId ?? fields.jobId * 10;
  payload.action = action;
  const job = payload.workflow_job;
  Object.assign(job, {
    id: fields.jobId,
    run_id: runId,
    run_attempt: fields.runAttempt ?? 1,
    labels: fields.labels,
    status: fields.status ?? action,
    conclusion: fields.conclusion ?? null,
    run_url: `https://api.github.com/repos/${fields.owner}/${repo}/actions/runs/${runId}`,
    url: `https://api.github.com/repos/${fields.owner}/${repo}/actions/jobs/${fields.jobId}`,
    runner_id: fields.runnerId ?? null,
    runner_name: fields.runnerName ?? null,
    runner_group_id: fields.runnerId ? (fields.runnerGroupId ?? null) : null,
    runner_group_name: fields.runnerId && fields.runnerGroupId ? "cirunners" : null,
  });
  if (fields.createdAt) job.created_at = fields.createdAt;
  if (fields.startedAt) job.started_at = fields.startedAt;
  if (fields.completedAt !== undefined) job.completed_at = fields.completedAt;
  Object.assign(payload.repository, {
    name: repo,
    full_name: `${fields.owner}/${repo}`,
    ...(fields.repositoryId ? { id: fields.repositoryId } : {}),
  });
  Object.assign(payload.repository.owner as Record<string, unknown>, { login: fields.owner, type: "Organization" });
  if (fields.installationId === undefined) delete payload.installation;
  else payload.installation = { id: fields.installationId, node_id: payload.installation?.node_id };
  return payload;
}
