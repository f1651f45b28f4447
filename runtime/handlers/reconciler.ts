/**
 * Reconciler Lambda (scheduled every minute): moves the job ledger's due jobs on and ends runners that ended jobs
 * left idle (`services/reconcile-jobs.ts`).
 */
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";
import { METRIC, POOL_DIMENSION } from "../../contract/metrics.js";
import { ENV, parseRunnerName } from "../../contract/names.js";
import { readSettings, type SettingsOf } from "../../contract/settings.js";
import { ledgerOf } from "../adapters/ledger.js";
import {
  DEFAULT_PAGE_SIZE,
  type ReconcileDependencies,
  type ReconcileReport,
  type ReconcileSettings,
  reconcileJobs,
} from "../services/reconcile-jobs.js";
import { gitHubAppFrom } from "../shared/clients.js";
import { type Handler, perContainer, powertools } from "../shared/lambda.js";

const { logger, metrics } = powertools("reconciler");

/** Jobs the run could not move on (each is tried again next minute): stored per run, so every run is flushed. */
export const RECONCILE_FAILURES = "ReconcileFailures";

export interface ReconcilerResult {
  enqueued: number;
  moved: number;
  idleRunnersEnded: number;
  failures: number;
}

export function reconcilerSettings(settings: SettingsOf<"reconciler">): ReconcileSettings {
  return {
    stack: settings[ENV.stack],
    pools: settings[ENV.pools],
    scope: settings[ENV.runnerScope],
    owner: settings[ENV.githubOwner],
    queueUrl: settings[ENV.jobQueueUrl],
    bootGraceMinutes: settings[ENV.bootGraceMinutes],
    pageSize: DEFAULT_PAGE_SIZE,
  };
}

/**
 * Per pool: JobsQueued (approval granted), JobsStarted and JobsCompleted (GitHub's job API told what the webhook
 * did not: a lost or late delivery; QueueToStartSeconds for a start it recorded, when GitHub gave the start time),
 * JobsCancelled, JobsExpired, CapacityWaits and IdleRunnersEnded; then the
 * run's ReconcileFailures, flushed with the stored metrics. A move is reported only when its conditional write
 * landed, so a job the webhook moved first is counted there and not here.
 */
export function publishReconcileMetrics(report: ReconcileReport, sink: Metrics = metrics): void {
  const counts = new Map<string, number>();
  const count = (metric: string, pool: string | undefined) => {
    const key = `${metric}\u0000${pool ?? "unknown"}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  for (const move of report.moved) {
    if (move.to === "expired") count(METRIC.jobsExpired, move.pool);
    if (move.to === "cancelled") count(METRIC.jobsCancelled, move.pool);
    // The webhook counts a job queued on its first delivery; a waiting job is counted when its approval is seen.
    if (move.from === "waiting" && move.to === "queued") count(METRIC.jobsQueued, move.pool);
    // As the webhook counts them: started only on one of our runners (the name says so), completed after running.
    if (move.to === "running" && move.ranOn && parseRunnerName(move.ranOn)) count(METRIC.jobsStarted, move.pool);
    if (move.to === "done") count(METRIC.jobsCompleted, move.pool);
  }
  for (const move of report.moved) {
    // As the webhook does for a start it records: only on one of our runners, once per job (the move set startedAt).
    if (move.queueToStartSeconds === undefined || !move.ranOn || !parseRunnerName(move.ranOn)) continue;
    const single = sink.singleMetric();
    single.addDimension(POOL_DIMENSION, move.pool ?? "unknown");
    single.addMetric(METRIC.queueToStartSeconds, MetricUnit.Seconds, move.queueToStartSeconds);
  }
  for (const wait of report.capacityWaits) count(METRIC.capacityWaits, wait.pool);
  for (const idle of report.idleRunnersEnded) count(METRIC.idleRunnersEnded, idle.pool);
  for (const [key, value] of counts) {
    const [metric, pool] = key.split("\u0000");
    const single = sink.singleMetric();
    single.addDimension(POOL_DIMENSION, pool);
    single.addMetric(metric, MetricUnit.Count, value);
  }
  sink.addMetric(RECONCILE_FAILURES, MetricUnit.Count, report.failures.length);
}

export function createReconcilerHandler(
  settings: ReconcileSettings,
  deps: Omit<ReconcileDependencies, "log" | "now">,
): Handler<unknown, ReconcilerResult> {
  return async (_event, context) => {
    logger.addContext(context);
    try {
      const report = await reconcileJobs(settings, { ...deps, now: () => new Date(), log: logger });
      publishReconcileMetrics(report);
      logger.info("reconciler run", {
        enqueued: report.enqueued,
        moved: report.moved,
        capacityWaits: report.capacityWaits.length,
        idleRunnersEnded: report.idleRunnersEnded,
        failures: report.failures,
      });
      return {
        enqueued: report.enqueued.length,
        moved: report.moved.length,
        idleRunnersEnded: report.idleRunnersEnded.length,
        failures: report.failures.length,
      };
    } catch (error) {
      // A run that fails as a whole (EC2, the ledger or the queue unreachable) is one failure on the same graph.
      metrics.addMetric(RECONCILE_FAILURES, MetricUnit.Count, 1);
      throw error;
    } finally {
      // Stored metrics live in the module's Metrics across invocations: unflushed, they would be lost or published
      // with the next run's.
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = perContainer(() => {
  const settings = readSettings("reconciler");
  const ssm = new SSMClient({});
  return createReconcilerHandler(reconcilerSettings(settings), {
    ledger: ledgerOf(new DynamoDBClient({}), settings[ENV.ledgerTable]),
    ec2: new EC2Client({}),
    sqs: new SQSClient({}),
    github: gitHubAppFrom(settings, ssm),
  });
});
