/**
 * A job's lifecycle as the webhook sees it: from one `workflow_job` delivery and the job's ledger record (if any)
 * to the one conditional write that records it, and what follows once that write lands. Pure; the service
 * (services/record-job.ts) reads, writes, and on a refused write decides again from the record it got back.
 *
 * GitHub's `workflow_job` actions (GitHub docs, "Webhook events and payloads", workflow_job): `queued`, `waiting`,
 * `in_progress`, `completed`. A job behind an environment's protection rules is announced with
 * `workflow_job.status: "waiting"` — GitHub's own example payloads (@octokit/webhooks-examples, workflow_job
 * `queued` and `waiting`, repository lineville/elastic-machines-testing) show a `queued` delivery carrying status
 * `waiting`. Such a job gets no runner until a delivery says it is `queued` (status `queued`): a runner started
 * earlier would idle until the approval, and another job could take it.
 *
 * Deliveries arrive late, twice, or out of order (redeliveries, retries): a delivery that would move the record
 * backwards or nowhere (`queued` after `in_progress`, a second `completed`) decides nothing.
 */
import { canMove, type JobMove, type JobRecord, type JobState, type NewJobRecord } from "../../../contract/ledger.js";
import { parseRunnerName } from "../../../contract/names.js";

export const JOB_ACTIONS = ["queued", "waiting", "in_progress", "completed"] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

/** The job's identity, as a delivery states it. */
export type JobFacts = Pick<
  JobRecord,
  "jobId" | "runId" | "runAttempt" | "repository" | "owner" | "installationId" | "labels"
>;

export interface JobDelivery {
  action: JobAction;
  /** `workflow_job.status`: `queued`, `waiting`, `in_progress`, `completed`. */
  status?: string;
  job: JobFacts;
  /** The pool routing chose for the job's labels, if any. */
  pool?: string;
  /** `workflow_job.runner_name`: the runner the job runs (or ran) on; GitHub sets it from `in_progress` on. */
  runnerName?: string;
  /** `workflow_job.created_at`: when GitHub queued the job. */
  createdAt?: string;
  /** `workflow_job.started_at`. */
  startedAt?: string;
  /** `workflow_job.completed_at`. */
  completedAt?: string;
}

export type Write =
  | { kind: "create"; record: NewJobRecord }
  | { kind: "move"; jobId: number; from: JobState; version: number; move: JobMove };

/** What a delivery recorded, for metrics and logs. */
export type Outcome = "queued" | "waiting" | "started" | "completed" | "cancelled" | "relaunch";

export interface Decision {
  write: Write;
  outcome: Outcome;
  /** Once the write lands, this job needs a launch: one message on the job queue. */
  enqueue: boolean;
  /** The job the runner was launched for (its name), when not this job: core/jobs/swap.ts decides what it needs. */
  tookRunnerOf?: number;
}

export type Verdict = Decision | { write: undefined; reason: string };

/** True when the delivery says the job waits for an approval. */
function isWaiting(delivery: JobDelivery): boolean {
  return delivery.action === "waiting" || (delivery.action === "queued" && delivery.status === "waiting");
}

/** The job this stack launched the runner for, when that is not the job itself. */
function runnerTakenFrom(delivery: JobDelivery): number | undefined {
  if (!delivery.runnerName) return undefined;
  const parsed = parseRunnerName(delivery.runnerName);
  return parsed && parsed.jobId !== "warm" && parsed.jobId !== delivery.job.jobId ? parsed.jobId : undefined;
}

function target(delivery: JobDelivery, current: JobRecord | undefined): JobState | undefined {
  switch (delivery.action) {
    case "queued":
    case "waiting":
      if (isWaiting(delivery)) return current ? (current.state === "queued" ? "waiting" : undefined) : "waiting";
      return current ? (current.state === "waiting" ? "queued" : undefined) : "queued";
    case "in_progress":
      return "running";
    case "completed":
      // A job ran when it was reported running, or when GitHub names the runner it ran on (a job cancelled
      // before any runner took it completes with `runner_name: null`).
      return current?.state === "running" || delivery.runnerName ? "done" : "cancelled";
  }
}

/** The write one delivery calls for, given the job's current record (undefined: none yet). */
export function decideDelivery(delivery: JobDelivery, current: JobRecord | undefined, now: Date): Verdict {
  const to = target(delivery, current);
  if (!to)
    return { write: undefined, reason: `a ${describe(delivery)} delivery moves a ${current?.state} job nowhere` };
  if (current && !canMove(current.state, to))
    return { write: undefined, reason: `a ${describe(delivery)} delivery cannot move a ${current.state} job` };

  const firstRun = (to === "running" || to === "done") && !current?.ranOn && Boolean(delivery.runnerName);
  const move: JobMove = { state: to };
  if (firstRun) {
    move.ranOn = delivery.runnerName;
    if (delivery.startedAt) move.startedAt = delivery.startedAt;
  }
  if (to === "done" || to === "cancelled") move.completedAt = delivery.completedAt ?? now.toISOString();
  const outcome: Outcome =
    to === "running" ? "started" : to === "done" ? "completed" : (to as "queued" | "waiting" | "cancelled");
  const decision = {
    outcome,
    enqueue: to === "queued",
    tookRunnerOf: firstRun ? runnerTakenFrom(delivery) : undefined,
  };
  if (current)
    return {
      ...decision,
      write: { kind: "move", jobId: current.jobId, from: current.state, version: current.version, move },
    };
  const record: NewJobRecord = {
    ...delivery.job,
    pool: delivery.pool,
    queuedAt: delivery.createdAt ?? now.toISOString(),
    ...move,
    nextAttemptAt: undefined,
    lastError: undefined,
  };
  return { ...decision, write: { kind: "create", record } };
}

function describe(delivery: JobDelivery): string {
  return delivery.status && delivery.status !== delivery.action
    ? `${delivery.action} (status ${delivery.status})`
    : delivery.action;
}
