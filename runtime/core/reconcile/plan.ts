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
 *   no longer queued moves on (running, done, cancelled). For a job still queued its runner is looked at
 *   (`planRunnerCheck`): online and idle, GitHub will give it the job; offline, unknown to GitHub or on an instance
 *   that is gone, it failed to start (bootstrap failed, instance lost) and never will: the job goes back to
 *   `queued` (one more attempt, backoff) and that runner is ended. Without this the job would wait for a dead
 *   runner until GitHub fails it at 24 hours.
 * - A `waiting` job (environment approval) is asked about: approved (queued) → `queued` and launched; completed →
 *   `cancelled`.
 */
import { GITHUB_QUEUE_LIMIT_MS, type JobMove, type JobRecord } from "../../../contract/ledger.js";
import { after, launchRetryDelayMs } from "../jobs/backoff.js";

/** A workflow job as GitHub reports it (`actions/get-job-for-workflow-run`). */
export interface GitHubJob {
  /** queued, in_progress, completed, waiting, requested, pending. */
  status: string;
  conclusion: string | null;
  runnerName: string | null;
  /** `started_at`: when a runner took the job (the adapter passes it on when GitHub gives it). */
  startedAt?: string | null;
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
  /** GitHub still queues a launched job past the boot grace: look at its runner (`planRunnerCheck`). */
  | { kind: "check-runner" }
  | { kind: "move"; move: JobMove; reason: string };

/** The runner a launched job counts on, as GitHub and EC2 report it now. */
export interface RunnerView {
  runnerName: string;
  instanceId: string;
  /** GitHub's runner of that name, or undefined when GitHub has none. */
  github?: { id: number; status: string; busy: boolean };
  /** Its instance is pending or running. */
  instanceLive: boolean;
}

export type RunnerStep =
  | { kind: "none"; reason: string }
  /** Back to `queued` (`move`); `end` is the dead runner to deregister and terminate, if there is one. */
  | { kind: "relaunch"; move: JobMove; reason: string; end?: RunnerView };

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

/** GitHub's start time for a record that has none yet (the webhook missed the job's `in_progress`). */
function startedAtOf(record: JobRecord, job: GitHubJob | undefined): { startedAt?: string } {
  return job?.startedAt && !record.startedAt ? { startedAt: job.startedAt } : {};
}

/**
 * Seconds from GitHub queueing the job to a runner taking it, for a start the reconciler recorded (`startedAt` set
 * by its move); undefined when it did not record the start or the times are not usable.
 */
export function queueToStartSeconds(queuedAt: string | undefined, startedAt: string | undefined): number | undefined {
  const queued = Date.parse(queuedAt ?? "");
  const started = Date.parse(startedAt ?? "");
  return started >= queued ? (started - queued) / 1000 : undefined;
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
        ...(ran ? startedAtOf(record, job) : {}),
      },
      reason: job ? `GitHub reports the job completed (${job.conclusion ?? "no conclusion"})` : "GitHub has no job",
    };
  }
  if (job.status === "in_progress")
    return {
      kind: "move",
      move: {
        state: "running",
        ...(job.runnerName && !record.ranOn ? { ranOn: job.runnerName } : {}),
        ...startedAtOf(record, job),
      },
      reason: "GitHub reports the job in progress",
    };
  if (job.status === "queued") {
    if (record.state === "waiting")
      return { kind: "move", move: { state: "queued", nextAttemptAt: null }, reason: "approval granted" };
    if (record.state === "queued") return { kind: "launch" };
    if (record.state === "launched") return { kind: "check-runner" };
    return { kind: "none", reason: "still queued at GitHub: its runner is booting" };
  }
  return { kind: "none", reason: `GitHub reports the job ${job.status}` };
}

/**
 * A launched job GitHub still queues after the boot grace, and the runner it counts on (the newest that still
 * serves it; undefined: none does). A busy runner is left alone: another job took it, and that job's `in_progress`
 * (or its redelivery) settles who needs a runner (core/jobs/swap.ts).
 */
export function planRunnerCheck(record: JobRecord, runner: RunnerView | undefined, now: Date): RunnerStep {
  const attempts = record.attempts + 1;
  const requeue = (reason: string, end?: RunnerView): RunnerStep => ({
    kind: "relaunch",
    reason,
    ...(end ? { end } : {}),
    move: { state: "queued", attempts, nextAttemptAt: after(now, launchRetryDelayMs(attempts)), lastError: reason },
  });
  if (!runner) return requeue("no runner serves the job");
  if (runner.github?.busy) return { kind: "none", reason: `runner ${runner.runnerName} is busy with another job` };
  if (!runner.instanceLive) return requeue(`the instance of runner ${runner.runnerName} is gone`, runner);
  if (!runner.github) return requeue(`runner ${runner.runnerName} is not registered at GitHub`, runner);
  if (runner.github.status !== "online")
    return requeue(`runner ${runner.runnerName} is ${runner.github.status} after the boot grace`, runner);
  return { kind: "none", reason: `runner ${runner.runnerName} is online and idle: GitHub will assign the job` };
}
