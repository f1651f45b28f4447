/**
 * One reconciler run (every minute): the ledger's due jobs per pool are moved on (`core/reconcile/plan.ts`), and
 * runners left idle by ended jobs are ended (`core/reconcile/idle.ts`).
 *
 * Launches go through the launcher: a due job becomes one message on the job queue, exactly as the webhook sends
 * it, and the launcher claims `queued → launching` conditionally before it starts anything. One launch path means
 * one place for capacity accounting, spot fallback, partial-failure clean-up and the backoff written on failure,
 * and this function stays short: it never waits on CreateFleet. The message carries the record's version (the queue's
 * deduplication id), so a job the launcher has not yet taken is not sent twice within SQS's 5-minute window.
 *
 * Work is bounded: at most `pageSize` due jobs per pool and run, so a backlog takes several runs instead of timing
 * the function out. Each record is handled on its own; a failure is logged and retried on the next run.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { encodeJobMessage } from "../../contract/job.js";
import type { JobRecord } from "../../contract/ledger.js";
import type { RuntimePool } from "../../contract/pool.js";
import { type RunnerScope, runnerTargetFor } from "../../contract/runner-target.js";
import { describeStackInstances, LIVE_STATES, terminateInstances } from "../adapters/ec2.js";
import type { GitHubApp } from "../adapters/github/app-auth.js";
import { getJob as getGitHubJob } from "../adapters/github/jobs.js";
import { deleteRunner, findRunnerByName } from "../adapters/github/runners.js";
import { deferJob, dueJobs, getJob, type Ledger, markRunnerEnded, moveJob } from "../adapters/ledger.js";
import { sendJobMessage } from "../adapters/sqs.js";
import { handedOnTo, type IdleRunner, idleRunnersOfEndedJobs, jobIdsOf, launchBudget } from "../core/reconcile/idle.js";
import { MAX_HAND_OVERS, servingRunners } from "../core/jobs/swap.js";
import {
  queueToStartSeconds,
  planAfterCheck,
  planJob,
  planRunnerCheck,
  RECHECK_AFTER_MS,
  type RunnerView,
  type Step,
} from "../core/reconcile/plan.js";
import type { Log } from "../shared/lambda.js";

export interface ReconcileSettings {
  stack: string;
  pools: RuntimePool[];
  scope: RunnerScope;
  owner: string;
  queueUrl: string;
  bootGraceMinutes: number;
  /** Due jobs read per pool and run. */
  pageSize: number;
}

export interface ReconcileDependencies {
  ledger: Ledger;
  ec2: EC2Client;
  sqs: SQSClient;
  github: GitHubApp;
  now: () => Date;
  log: Log;
}

export interface ReconcileReport {
  /** Job ids sent to the launcher. */
  enqueued: number[];
  /**
   * Moves made, per job: "queued→expired" and so on; `ranOn` is the runner the record names after the move;
   * `queueToStartSeconds` when this move recorded the job's start (the webhook had not).
   */
  moved: {
    jobId: number;
    pool?: string;
    from: string;
    to: string;
    reason: string;
    ranOn?: string;
    queueToStartSeconds?: number;
  }[];
  /** Due jobs left queued because their pool is full. */
  capacityWaits: { jobId: number; pool: string }[];
  idleRunnersEnded: IdleRunner[];
  failures: { jobId?: number; instanceId?: string; error: string }[];
}

export const DEFAULT_PAGE_SIZE = 25;

/**
 * A waiting job is asked about again after this long. Its due time moves on after each check, so waiting jobs
 * rotate to the back of the due index and never fill the per-run page ahead of jobs that can launch.
 */
export const WAITING_POLL_MS = 60_000;

export async function reconcileJobs(
  settings: ReconcileSettings,
  deps: ReconcileDependencies,
): Promise<ReconcileReport> {
  const report: ReconcileReport = { enqueued: [], moved: [], capacityWaits: [], idleRunnersEnded: [], failures: [] };
  const now = deps.now();
  const live = await describeStackInstances(deps.ec2, settings.stack, LIVE_STATES);
  const liveIds = new Set(live.map((i) => i.instanceId));
  for (const pool of settings.pools) {
    let budget = launchBudget(pool.maxRunners, live.filter((i) => i.pool === pool.name).length);
    for (const record of await dueJobs(deps.ledger, pool.name, now, settings.pageSize)) {
      try {
        const outcome = await reconcileJob(record, settings, deps, now, budget > 0, report, liveIds);
        if (outcome === "enqueued") budget -= 1;
      } catch (error) {
        report.failures.push({ jobId: record.jobId, error: String(error) });
        deps.log.warn("could not reconcile a job", { jobId: record.jobId, state: record.state, error: String(error) });
      }
    }
  }
  await endIdleRunners(live, settings, deps, now, report);
  return report;
}

function startOf(queuedAt: string, startedAt: string | undefined): { queueToStartSeconds?: number } {
  const seconds = queueToStartSeconds(queuedAt, startedAt);
  return seconds === undefined ? {} : { queueToStartSeconds: seconds };
}

async function reconcileJob(
  record: JobRecord,
  settings: ReconcileSettings,
  deps: ReconcileDependencies,
  now: Date,
  hasCapacity: boolean,
  report: ReconcileReport,
  liveIds: ReadonlySet<string>,
): Promise<"enqueued" | "done"> {
  let step: Step = planJob(record, {
    now,
    bootGraceMs: settings.bootGraceMinutes * 60_000,
    recheckAfterMs: RECHECK_AFTER_MS,
  });
  if (step.kind === "check") {
    const target = runnerTargetFor(settings.scope, settings.owner, record.repository);
    const client = await deps.github.clientFor(target, record.installationId);
    step = planAfterCheck(record, await getGitHubJob(client, record.repository, record.jobId), now);
    if (step.kind === "check-runner") {
      await checkRunner(record, settings, deps, now, report, liveIds);
      return "done";
    }
  }
  if (step.kind === "none" && record.state === "waiting") {
    await deferJob(deps.ledger, record, new Date(now.getTime() + WAITING_POLL_MS).toISOString());
    return "done";
  }
  let current = record;
  if (step.kind === "move") {
    const result = await moveJob(deps.ledger, record.jobId, record.state, record.version, step.move, now);
    if (!result.moved) return "done"; // a delivery moved it first: the next run sees the new state
    current = result.record;
    report.moved.push({
      jobId: record.jobId,
      pool: record.pool,
      from: record.state,
      to: step.move.state,
      reason: step.reason,
      ...(current.ranOn ? { ranOn: current.ranOn } : {}),
      ...startOf(current.queuedAt, step.move.startedAt),
    });
    if (current.state !== "queued") return "done";
  } else if (step.kind !== "launch") return "done";
  if (!hasCapacity) {
    report.capacityWaits.push({ jobId: current.jobId, pool: current.pool as string });
    return "done";
  }
  await enqueue(current, settings, deps, now);
  report.enqueued.push(current.jobId);
  return "enqueued";
}

/**
 * A launched job GitHub still queues after the boot grace: its runner is looked up (GitHub by name, EC2 from this
 * run's instance list). A runner that failed to start sends the job back to `queued` with a backoff (due again
 * then, and launched by a later run) and is ended: deregistered unless busy, its instance terminated.
 */
async function checkRunner(
  record: JobRecord,
  settings: ReconcileSettings,
  deps: ReconcileDependencies,
  now: Date,
  report: ReconcileReport,
  liveIds: ReadonlySet<string>,
): Promise<void> {
  const target = runnerTargetFor(settings.scope, settings.owner, record.repository);
  const client = await deps.github.clientFor(target, record.installationId);
  const serving = servingRunners(record)[0];
  const view: RunnerView | undefined = serving && {
    runnerName: serving.runnerName,
    instanceId: serving.instanceId,
    github: await findRunnerByName(client, target, serving.runnerName),
    instanceLive: liveIds.has(serving.instanceId),
  };
  const step = planRunnerCheck(record, view, now);
  if (step.kind === "none") return;
  const moved = await moveJob(deps.ledger, record.jobId, record.state, record.version, step.move, now);
  if (!moved.moved) return; // a delivery moved it first (it started, or was cancelled): the next run sees that
  report.moved.push({ jobId: record.jobId, pool: record.pool, from: record.state, to: "queued", reason: step.reason });
  if (!step.end) return;
  const { github, instanceId, instanceLive } = step.end;
  if (github && !github.busy && !(await deleteRunner(client, target, github.id))) return; // it took a job meanwhile
  if (instanceLive) await terminateInstances(deps.ec2, [instanceId]);
  await markRunnerEnded(deps.ledger, moved.record, instanceId, now);
}

/** The job's launch message, as the webhook sends it, without a delivery id; deduplicated per record version. */
async function enqueue(record: JobRecord, settings: ReconcileSettings, deps: ReconcileDependencies, now: Date) {
  const message = {
    version: 1 as const,
    recordVersion: record.version,
    pool: record.pool as string,
    jobId: record.jobId,
    runId: record.runId,
    runAttempt: record.runAttempt,
    repository: record.repository,
    owner: record.owner,
    ...(record.installationId ? { installationId: record.installationId } : {}),
    labels: record.labels,
    enqueuedAt: now.toISOString(),
  };
  const body = encodeJobMessage(message);
  if (!body.ok) throw new Error(`job ${record.jobId} cannot be sent to the launcher: ${body.reason}`);
  await sendJobMessage(deps.sqs, settings.queueUrl, message, body.value);
}

/** Ends runners whose job ended before they took it: deregistered at GitHub first, then terminated. */
async function endIdleRunners(
  live: Awaited<ReturnType<typeof describeStackInstances>>,
  settings: ReconcileSettings,
  deps: ReconcileDependencies,
  now: Date,
  report: ReconcileReport,
): Promise<void> {
  const records = new Map<number, JobRecord>();
  // The jobs the runners' names name, then the jobs runners were handed on to (a swap chain is short).
  let wanted = jobIdsOf(live);
  for (let hop = 0; wanted.length > 0 && hop < MAX_HAND_OVERS; hop++) {
    for (const jobId of wanted) {
      const record = await getJob(deps.ledger, jobId);
      if (record) records.set(jobId, record);
    }
    wanted = handedOnTo(records).filter((id) => !wanted.includes(id));
  }
  for (const idle of idleRunnersOfEndedJobs(live, records, now)) {
    const record = records.get(idle.jobId) as JobRecord;
    try {
      const target = runnerTargetFor(settings.scope, settings.owner, idle.repository ?? record.repository);
      const client = await deps.github.clientFor(target, record.installationId);
      const runner = await findRunnerByName(client, target, idle.runnerName);
      // Busy: another job took it, let it run. A refused removal (422) means the same, a moment later.
      if (runner?.busy) continue;
      if (runner && !(await deleteRunner(client, target, runner.id))) continue;
      await terminateInstances(deps.ec2, [idle.instanceId]);
      await markRunnerEnded(deps.ledger, record, idle.instanceId, now);
      report.idleRunnersEnded.push(idle);
    } catch (error) {
      report.failures.push({ jobId: idle.jobId, instanceId: idle.instanceId, error: String(error) });
      deps.log.warn("could not end an idle runner", { ...idle, error: String(error) });
    }
  }
}
