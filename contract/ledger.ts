/**
 * The job ledger: one record per GitHub job, shared by the webhook (records what GitHub says), the launcher (claims
 * a job before launching), the reconciler (retries, capacity waits, cancellations, expiry), the reaper (asks
 * whether a runner's job is still live) and the program (table schema, IAM, dashboard).
 *
 * Every write is conditional on the state it read, so deliveries, redeliveries and retries can repeat freely and
 * one job still gets one runner. States only move along `TRANSITIONS`; the two moves back to `queued` (a failed
 * launch, a runner taken by another job) count an attempt.
 */
import * as z from "zod/mini";
import "./zod";

export const JOB_STATES = [
  /** Waiting for an environment's approval (`workflow_job.status: "waiting"`): no runner until it can run. */
  "waiting",
  /** Needs a runner: launched as soon as its pool has capacity and `nextAttemptAt` has passed. */
  "queued",
  /** Claimed by one launcher invocation (conditional write) that is starting an instance for it. */
  "launching",
  /** An instance and its just-in-time runner exist for it; GitHub has not reported the job running yet. */
  "launched",
  /** GitHub reported `in_progress` (on any runner). */
  "running",
  /** Completed after running. */
  "done",
  /** Completed or cancelled before it ran: its runner, if any, is ended. */
  "cancelled",
  /** Still without a runner after GitHub's 24-hour queue limit. */
  "expired",
] as const;

export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(["done", "cancelled", "expired"]);

/** The moves a record may make; anything else is refused by the conditional write. */
export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  waiting: ["queued", "running", "done", "cancelled", "expired"],
  queued: ["waiting", "launching", "running", "done", "cancelled", "expired"],
  launching: ["launched", "queued", "running", "done", "cancelled", "expired"],
  launched: ["queued", "running", "done", "cancelled", "expired"],
  running: ["done"],
  done: [],
  cancelled: [],
  expired: [],
};

export function canMove(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** GitHub fails a self-hosted job that no runner picked up after 24 hours in the queue. */
export const GITHUB_QUEUE_LIMIT_MS = 24 * 60 * 60 * 1000;

/** Records outlive the queue limit by a day so late deliveries of a finished job still find it (DynamoDB TTL). */
export const LEDGER_RETENTION_MS = 2 * GITHUB_QUEUE_LIMIT_MS;

/** A runner launched for a job. `jobId` on the runner's tags and this entry tie the two together. */
export const launchedRunnerSchema = z.object({
  instanceId: z.string().check(z.minLength(1)),
  runnerName: z.string().check(z.minLength(1)),
  runnerId: z.optional(z.number().check(z.int(), z.positive())),
  launchedAt: z.iso.datetime(),
  /** Set once the runner is known to be ended (terminated and deregistered). */
  endedAt: z.optional(z.iso.datetime()),
  /**
   * Another job started on this runner (`workflow_job.runner_name`): it no longer serves this record's job. Runners
   * are not bound to the job they were launched for (GitHub gives a job to any idle runner whose labels fit).
   */
  takenBy: z.optional(z.number().check(z.int(), z.positive())),
  /**
   * This runner was handed to that job, whose record lists it too: this job ran on a runner it took from that job,
   * so its own runner serves the other job instead of a new launch (the swap). The other record is the holder.
   */
  transferredTo: z.optional(z.number().check(z.int(), z.positive())),
});
export type LaunchedRunner = z.infer<typeof launchedRunnerSchema>;

export const jobRecordSchema = z.object({
  jobId: z.number().check(z.int(), z.positive()),
  runId: z.number().check(z.int(), z.positive()),
  runAttempt: z.number().check(z.int(), z.positive()),
  repository: z.string().check(z.minLength(1)),
  owner: z.string().check(z.minLength(1)),
  installationId: z.optional(z.number().check(z.int(), z.positive())),
  labels: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  /** The pool routing chose, or undefined for a job no pool serves (recorded only when it ran on our runner). */
  pool: z.optional(z.string().check(z.minLength(1))),
  state: z.enum(JOB_STATES),
  /** Increases by one with every write: the optimistic-concurrency guard next to the state condition. */
  version: z.number().check(z.int(), z.nonnegative()),
  runners: z._default(z.array(launchedRunnerSchema), []),
  /** Name of the runner GitHub reported the job on (`workflow_job.runner_name`), ours or not. */
  ranOn: z.optional(z.string()),
  /** Launch attempts so far (failed launches and stolen runners). */
  attempts: z._default(z.number().check(z.int(), z.nonnegative()), 0),
  /** Earliest time the next launch may be tried (capped exponential backoff after a failure). */
  nextAttemptAt: z.optional(z.iso.datetime()),
  lastError: z.optional(z.string()),
  /** When GitHub queued the job (`workflow_job.created_at`, else the first delivery's arrival). */
  queuedAt: z.iso.datetime(),
  startedAt: z.optional(z.iso.datetime()),
  completedAt: z.optional(z.iso.datetime()),
  updatedAt: z.iso.datetime(),
  /** DynamoDB TTL attribute: epoch seconds. */
  expiresAt: z.number().check(z.int(), z.positive()),
});
export type JobRecord = z.infer<typeof jobRecordSchema>;

/** The table's key and its one index (the reconciler's work list: jobs that may need a runner, by due time). */
export const LEDGER_KEYS = {
  partitionKey: "jobId",
  /** Sparse GSI: only records in `waiting`, `queued`, `launching` or `launched` carry `dueAt`; keyed by pool. */
  dueIndex: "due",
  dueIndexPartitionKey: "pool",
  dueIndexSortKey: "dueAt",
  /** The index carries whole records (projection ALL): the reconciler reads its work list without a second read. */
  dueIndexProjection: "ALL",
  ttlAttribute: "expiresAt",
} as const;

/** A record as first written: the ledger adds version, runners, attempts, timestamps and TTL. */
export type NewJobRecord = Omit<JobRecord, "version" | "runners" | "attempts" | "updatedAt" | "expiresAt"> & {
  attempts?: number;
};

/** A record's move to `state`; `null` removes an optional field, `undefined` leaves it as it is. */
export interface JobMove {
  state: JobState;
  attempts?: number;
  nextAttemptAt?: string | null;
  lastError?: string | null;
  ranOn?: string;
  startedAt?: string;
  completedAt?: string;
}
