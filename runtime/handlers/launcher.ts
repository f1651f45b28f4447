/**
 * Launcher Lambda: SQS FIFO batches of queued jobs → single-use EC2 runners (`services/launch-jobs.ts`).
 *
 * Partial batch failures: every message that did not get a runner (malformed, over capacity, GitHub or EC2
 * trouble, behind a failed message of its group) is reported in `batchItemFailures` and comes back; after
 * `maxReceiveCount` receives SQS moves it to the dead-letter queue. The FIFO rule is Powertools'
 * `SqsFifoPartialProcessorAsync` with `skipGroupOnError`: a message after a failed one in its group is not processed.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { ENV } from "../../contract/names.js";
import { readSettings, type SettingsOf } from "../../contract/settings.js";
import type { GitHubApp } from "../adapters/github/app-auth.js";
import { JobBatch, type JobLaunchEnvironment } from "../services/launch-jobs.js";
import { LiveCapacity } from "../services/live-capacity.js";
import { gitHubAppFrom, launchEnvironmentFrom } from "../shared/clients.js";
import { type Handler, perContainer, powertools } from "../shared/lambda.js";

export const { logger, metrics } = powertools("launcher");

/** Reasons that need a person (the message will reach the DLQ), logged as errors rather than warnings. */
const PERMANENT_REASONS = new Set(["malformed", "unknown-pool", "github-permanent"]);

export interface LauncherContainer {
  env: JobLaunchEnvironment;
  ec2: EC2Client;
  ssm: SSMClient;
  github: GitHubApp;
  capacity: LiveCapacity;
}

/** The job launch environment from the settings; partition, region and account from the function's own ARN. */
export function launchEnvironment(settings: SettingsOf<"launcher">, functionArn: string): JobLaunchEnvironment {
  return {
    ...launchEnvironmentFrom(settings, functionArn),
    pools: settings[ENV.pools],
    scope: settings[ENV.runnerScope],
    owner: settings[ENV.githubOwner],
  };
}

export function createLauncherHandler(container: LauncherContainer): Handler<SQSEvent, SQSBatchResponse> {
  return async (event, context) => {
    logger.addContext(context);
    const records = event.Records.map((r) => ({
      messageId: r.messageId,
      groupId: r.attributes.MessageGroupId ?? r.messageId,
      body: r.body,
    }));
    const batch = new JobBatch(records, container.env, { ...container, log: logger });
    const response = await processPartialResponse(
      event,
      async (record: SQSRecord) => batch.launch(record.messageId),
      new SqsFifoPartialProcessorAsync(),
      { context, skipGroupOnError: true, throwOnFullBatchFailure: false },
    );
    report(batch, response);
    return response;
  };
}

function report(batch: JobBatch, response: SQSBatchResponse): void {
  for (const job of batch.launched.values()) {
    metrics.addMetric("JobsLaunched", MetricUnit.Count, 1);
    const latency = job.fleetLaunchedAt - Date.parse(job.message.enqueuedAt);
    if (Number.isFinite(latency) && latency >= 0) metrics.addMetric("LaunchLatency", MetricUnit.Milliseconds, latency);
    logger.info("runner launched", {
      jobId: job.message.jobId,
      pool: job.pool,
      runnerName: job.runnerName,
      instanceId: job.instanceId,
      lifecycle: job.lifecycle,
    });
  }
  const byReason = new Map<string, number>();
  for (const { itemIdentifier } of response.batchItemFailures) {
    // A message Powertools skipped (an earlier one of its group failed) has no failure of its own.
    const failure = batch.failures.get(itemIdentifier) ?? {
      reason: "fifo-blocked",
      detail: "an earlier message of its group failed",
    };
    byReason.set(failure.reason, (byReason.get(failure.reason) ?? 0) + 1);
    const level = PERMANENT_REASONS.has(failure.reason) ? "error" : "warn";
    logger[level]("message returned to the queue", { messageId: itemIdentifier, ...failure });
  }
  for (const [reason, count] of byReason) {
    const single = metrics.singleMetric();
    single.addDimension("Reason", reason);
    single.addMetric("LaunchFailures", MetricUnit.Count, count);
  }
  if (batch.launched.size > 0) metrics.publishStoredMetrics();
}

/** Settings and clients of one container. */
export function launcherContainer(context: Pick<Context, "invokedFunctionArn">, env = process.env): LauncherContainer {
  const settings = readSettings("launcher", env);
  const ec2 = new EC2Client({ maxAttempts: 4 });
  const ssm = new SSMClient({ maxAttempts: 6 });
  return {
    env: launchEnvironment(settings, context.invokedFunctionArn),
    ec2,
    ssm,
    github: gitHubAppFrom(settings, ssm),
    capacity: new LiveCapacity(ec2, settings[ENV.stack]),
  };
}

export const handler = perContainer((context) => createLauncherHandler(launcherContainer(context)));
