/**
 * The reconciler's decisions about one ledger record. Pure: the record, the time and (when asked for) GitHub's
 * view of the job in; the one thing to do out. The service reads, asks GitHub when `planJob` says so, and makes
 * each move a conditional write, so a record a webhook delivery moved meanwhile is simply left for the next run.
 *
 * Rules:
 * - A `queued` job past GitHub's 24-hour queue limit is `expired`: GitHub has failed it.
 * - A `queued` job that is due is launched (one message on the job queue; the launcher claims it). After a long
 *   wait (capacity, an outage: its record unchanged for `recheckAfterMs`) GitHub is asked first whether the job
 *   still waits, so a job cancelled while deliveries were lost gets no runner.
 * - A `launching` record that is due outlived the launcher's lease (a crashed launcher): back to `queued`, one
 *   more attempt.
 * - A `launched` job inside the boot grace is left alone (its runner is booting). After it, GitHub is asked: a job
 *   no longer queued moves on (running, done, cancelled); a job still queued keeps its runner (booting slowly).
 * - A `waiting` job (environment approval) is asked about: approved (queued) → `queued` and launched; completed →
 *   `cancelled`.
 */
import { GITHUB_QUEUE_LIMIT_MS, type JobMove, type JobRecord } from "../../../contract/ledger.js";

/** A workflow job as GitHub reports it (`actions/get-job-for-workflow-run`). */
export interface GitHubJob {
  /** queued, in_progress, completed, waiting, requested, pending. */
  status: string;
  conclusion: string | null;
  runnerName: string | null;
}

export interface PlanOptions {
  now: Date;
  bootGraceMs: number;
  /** A queued record unchanged this long is checked at GitHub before it is launched again. */
  recheckAfterMs: number;
}

export const RECHECK_AFTER_MS = 10 * 60 * 1000;

export type Step =
  | { kind: "none"; reason: string }
  | { kind: "launch" }
  | { kind: "check" }
  | { kind: "move"; move: JobMove; reason: string };

const age = (iso: string | undefined, now: Date) => (iso ? now.getTime() - Date.parse(iso) : Number.POSITIVE_INFINITY);

/** What to do with a record before asking GitHub. */
export function planJob(record: JobRecord, options: PlanOptions): Step {
  const { now } = options;
  switch (record.state) {
    case "queued":
      if (age(record.queuedAt, now) >= GITHUB_QUEUE_LIMIT_MS)
        return { kind: "move", move: { state: "expired" }, reason: "past GitHub's 24-hour queue limit" };
      return age(record.updatedAt, now) >= options.recheckAfterMs ? { kind: "check" } : { kind: "launch" };
    case "launching":
      return {
        kind: "move",
        move: {
          state: "queued",
          attempts: record.attempts + 1,
          nextAttemptAt: null,
          lastError: "the launcher's claim expired before it recorded a runner",
        },
        reason: "launch lease expired",
      };
    case "launched": {
      // The grace runs from the newest launch (a relaunched job boots its latest runner). Compared as epoch ms:
      // Math.max of the ISO strings themselves would be NaN.
      const newest = Math.max(...record.runners.map((r) => Date.parse(r.launchedAt)));
      const since = Number.isFinite(newest) ? newest : Date.parse(record.updatedAt);
      return now.getTime() - since <= options.bootGraceMs
        ? { kind: "none", reason: "runner booting" }
        : { kind: "check" };
    }
    case "waiting":
      return { kind: "check" };
    default:
      return { kind: "none", reason: `${record.state} needs nothing` };
  }
}

/** What to do once GitHub said where the job stands (`undefined`: GitHub no longer knows the job). */
export function planAfterCheck(record: JobRecord, job: GitHubJob | undefined, now: Date): Step {
  if (!job || job.status === "completed") {
    const ran = Boolean(job?.runnerName);
    // done needs a run: only states that may reach it directly with a runner named; otherwise cancelled.
    const state = ran && record.state !== "waiting" ? "done" : "cancelled";
    return {
      kind: "move",
      move: {
        state,
        completedAt: now.toISOString(),
        ...(ran && !record.ranOn ? { ranOn: job?.runnerName as string } : {}),
      },
      reason: job ? `GitHub reports the job completed (${job.conclusion ?? "no conclusion"})` : "GitHub has no job",
    };
  }
  if (job.status === "in_progress")
    return {
      kind: "move",
      move: { state: "running", ...(job.runnerName && !record.ranOn ? { ranOn: job.runnerName } : {}) },
      reason: "GitHub reports the job in progress",
    };
  if (job.status === "queued") {
    if (record.state === "waiting")
      return { kind: "move", move: { state: "queued", nextAttemptAt: null }, reason: "approval granted" };
    if (record.state === "queued") return { kind: "launch" };
    return { kind: "none", reason: "still queued at GitHub: its runner is booting" };
  }
  return { kind: "none", reason: `GitHub reports the job ${job.status}` };
}
