/**
 * Launcher Lambda: SQS FIFO batches of queued jobs → single-use EC2 runners. Thin: settings, clients, logging and
 * metrics here; decisions in plan.ts/fleet.ts, the work in batch.ts/launch.ts.
 *
 * Partial batch failures: every message that did not get a runner (malformed, over capacity, GitHub or EC2
 * trouble, FIFO-blocked) is reported in `batchItemFailures` and comes back; after `maxReceiveCount` receives
 * SQS moves it to the dead-letter queue. Powertools' FIFO processor with `skipGroupOnError` returns a failed
 * message together with the later messages of its group; batch.ts has already made the outcomes agree.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { getInstallationOctokit, getTargetInstallationId } from "../shared/github.js";
import { processJobBatch, type BatchFailure } from "../launcher/batch.js";
import type { LaunchDeps } from "../launcher/launch.js";
import { readLauncherSettings } from "../launcher/settings.js";

export const logger = new Logger({ serviceName: "launcher" });
export const metrics = new Metrics({ namespace: "cirunners", serviceName: "launcher" });

/** Raised for a record the batch could not launch; the processor turns it into a batch item failure. */
export class LaunchFailedError extends Error {
  constructor(readonly failure: BatchFailure) {
    super(`${failure.reason}: ${failure.detail}`);
    this.name = "LaunchFailedError";
  }
}

export interface LauncherClients {
  ec2: EC2Client;
  ssm: SSMClient;
}

/** Builds the handler; clients default to ones created on first use (after the endpoint environment is set). */
export function createHandler(
  clients?: () => LauncherClients,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  let defaults: LauncherClients | undefined;
  const getClients =
    clients ??
    (() => (defaults ??= { ec2: new EC2Client({ maxAttempts: 4 }), ssm: new SSMClient({ maxAttempts: 6 }) }));

  return async (event, context) => {
    logger.addContext(context);
    const settings = readLauncherSettings(process.env, context.invokedFunctionArn);
    const { ec2, ssm } = getClients();
    const deps: LaunchDeps = {
      ec2,
      ssm,
      octokit: getInstallationOctokit,
      installationFor: getTargetInstallationId,
      logger,
    };
    const records = event.Records.map((r) => ({
      messageId: r.messageId,
      groupId: r.attributes.MessageGroupId ?? r.messageId,
      body: r.body,
    }));
    const result = await processJobBatch(records, settings, deps);

    for (const job of result.launched) {
      metrics.addMetric("JobsLaunched", MetricUnit.Count, 1);
      const latency = job.fleetLaunchedAt - Date.parse(job.message.enqueuedAt);
      if (Number.isFinite(latency) && latency >= 0)
        metrics.addMetric("LaunchLatency", MetricUnit.Milliseconds, latency);
      logger.info("runner launched", {
        jobId: job.message.jobId,
        pool: job.pool,
        runnerName: job.runnerName,
        instanceId: job.instanceId,
        lifecycle: job.lifecycle,
      });
    }
    const byReason = new Map<string, number>();
    for (const failure of result.failures.values()) {
      byReason.set(failure.reason, (byReason.get(failure.reason) ?? 0) + 1);
      const level =
        failure.reason === "malformed" || failure.reason === "unknown-pool" || failure.reason === "github-permanent"
          ? "error"
          : "warn";
      logger[level]("message returned to the queue", { ...failure });
    }
    for (const [reason, count] of byReason) {
      const single = metrics.singleMetric();
      single.addDimension("Reason", reason);
      single.addMetric("LaunchFailures", MetricUnit.Count, count);
    }
    if (result.launched.length > 0) metrics.publishStoredMetrics();

    return processPartialResponse(
      event,
      async (record: SQSRecord) => {
        const failure = result.failures.get(record.messageId);
        if (failure) throw new LaunchFailedError(failure);
      },
      new SqsFifoPartialProcessorAsync(),
      { context, skipGroupOnError: true, throwOnFullBatchFailure: false },
    );
  };
}

export const handler = createHandler();
