/**
 * A burst of jobs through GitHub's side of the pipeline (the stand-in creates and delivers them, assigns them to
 * whatever runner fits, cancels some): issue 12's bench case — N jobs, a share cancelled before they start, a share
 * asking for fewer labels than their pool (`self-hosted, linux`: any pool's runner can take them). Simulated time
 * moves a minute at a time while jobs remain, so the reconciler, redeliver function and reaper run as scheduled.
 * Reports the run's accounting (simulation/accounting.ts: duplicate runners, runners for jobs cancelled before they
 * started, runners that never came online) and the calls per job by service.
 */
import { type RunSummary, summarize } from "./accounting";
import { CALLERS } from "./callers";
import type { Pipeline } from "./pipeline";
import { MINUTE_MS } from "./scheduler";
import { poolWith, pools, queueJob, settle, until } from "./scenarios/kit";

export interface LedgerBurstOptions {
  jobs: number;
  /** Share of jobs cancelled right after they are queued (default 0.1). */
  cancelShare?: number;
  /** Share of jobs asking for fewer labels than their pool (default 0.1). */
  subsetShare?: number;
  log?: (line: string) => void;
}

export interface LedgerBurstResult {
  jobs: number;
  cancelled: number;
  fewerLabels: number;
  summary: RunSummary;
  /** Calls per job seen: DynamoDB, SQS (functions and Lambda's poller), EC2 (functions), GitHub (every route). */
  callsPerJob: { dynamodb: number; sqs: number; ec2: number; github: number };
  simulatedMinutes: number;
  wallSeconds: number;
}

/** Callers whose AWS calls the pipeline makes (the simulated instances and the harness are not the pipeline). */
const PIPELINE_CALLERS = new Set<string>([
  CALLERS.webhook,
  CALLERS.launcher,
  CALLERS.reaper,
  CALLERS.reconciler,
  CALLERS.redeliver,
  CALLERS.eventSource,
]);

export async function runLedgerBurst(pipeline: Pipeline, options: LedgerBurstOptions): Promise<LedgerBurstResult> {
  const log = options.log ?? (() => undefined);
  const wallStart = Date.now();
  const simStart = pipeline.clock.now();
  const awsStart = pipeline.proxy.calls.length;
  const githubStart = pipeline.github.requests.length;
  const all = pools(pipeline);
  const total = all.reduce((sum, p) => sum + (p.maxRunners ?? 10), 0);
  const weighted = all.flatMap((pool) =>
    Array.from({ length: Math.max(1, Math.round(((pool.maxRunners ?? 10) / total) * 20)) }, () => pool),
  );
  const cancelEvery = Math.round(1 / (options.cancelShare ?? 0.1));
  const subsetEvery = Math.round(1 / (options.subsetShare ?? 0.1));
  const fewer = poolWith(pipeline, ["self-hosted", "linux", "x64"]).labels.slice(0, 2);
  let cancelled = 0;
  let fewerLabels = 0;
  const jobs = Array.from({ length: options.jobs }, (_, i) => {
    const subset = i % subsetEvery === subsetEvery - 1;
    if (subset) fewerLabels += 1;
    const job = queueJob(pipeline, subset ? fewer : weighted[i % weighted.length].labels, { durationMs: 300 });
    if (i % cancelEvery === cancelEvery - 1) {
      pipeline.github.cancelJob(job.id);
      cancelled += 1;
    }
    return job;
  });
  log(`ledger burst: ${options.jobs} jobs queued (${cancelled} cancelled, ${fewerLabels} with fewer labels)`);
  await settle(pipeline);
  const open = () => jobs.filter((j) => j.status !== "completed").length;
  for (let minute = 0; open() > 0 && minute < 60; minute++) {
    await pipeline.scheduler.advance(MINUTE_MS);
    log(`  +${minute + 1} simulated min: ${open()} job(s) not completed`);
  }
  await until("every job completed", () => open() === 0, 300_000);
  await pipeline.scheduler.advance(5 * MINUTE_MS);
  await settle(pipeline);
  const now = pipeline.clock.now();
  const summary = summarize(pipeline.github, pipeline.instances.values(), now);
  const calls = pipeline.proxy.calls.slice(awsStart).filter((c) => PIPELINE_CALLERS.has(c.caller));
  const per = (service: string) =>
    Math.round((calls.filter((c) => c.service === service).length / options.jobs) * 100) / 100;
  const githubCalls = pipeline.github.requests.length - githubStart;
  return {
    jobs: options.jobs,
    cancelled,
    fewerLabels,
    summary,
    callsPerJob: {
      dynamodb: per("dynamodb"),
      sqs: per("sqs"),
      ec2: per("ec2"),
      github: Math.round((githubCalls / options.jobs) * 100) / 100,
    },
    simulatedMinutes: Math.round((now - simStart) / MINUTE_MS),
    wallSeconds: Math.round((Date.now() - wallStart) / 1000),
  };
}
