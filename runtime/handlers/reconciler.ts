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
import { ENV } from "../../contract/names.js";
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

/** JobsQueued (approval granted), JobsCancelled, JobsExpired, CapacityWaits and IdleRunnersEnded per pool. */
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
  }
  for (const wait of report.capacityWaits) count(METRIC.capacityWaits, wait.pool);
  for (const idle of report.idleRunnersEnded) count(METRIC.idleRunnersEnded, idle.pool);
  for (const [key, value] of counts) {
    const [metric, pool] = key.split("\u0000");
    const single = sink.singleMetric();
    single.addDimension(POOL_DIMENSION, pool);
    single.addMetric(metric, MetricUnit.Count, value);
  }
}

export function createReconcilerHandler(
  settings: ReconcileSettings,
  deps: Omit<ReconcileDependencies, "log" | "now">,
): Handler<unknown, ReconcilerResult> {
  return async (_event, context) => {
    logger.addContext(context);
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
