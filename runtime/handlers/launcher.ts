/**
 * Launcher Lambda: SQS FIFO batches of launch requests → single-use EC2 runners, through the job ledger
 * (`services/launch-jobs.ts`).
 *
 * Partial batch failures: only a message that can never succeed (malformed, unknown pool) is reported in
 * `batchItemFailures`; after `maxReceiveCount` receives SQS moves it to the (alarmed) dead-letter queue. Capacity
 * waits and failed launches are acknowledged: the job waits in the ledger, not in the queue. The FIFO rule is
 * Powertools' `SqsFifoPartialProcessorAsync` with `skipGroupOnError`.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { ENV } from "../../contract/names.js";
import { readSettings, type SettingsOf } from "../../contract/settings.js";
import { METRIC, POOL_DIMENSION } from "../../contract/metrics.js";
import type { GitHubApp } from "../adapters/github/app-auth.js";
import { type Ledger, ledgerOf } from "../adapters/ledger.js";
import { JobBatch, type JobLaunchEnvironment } from "../services/launch-jobs.js";
import { LiveCapacity } from "../services/live-capacity.js";
import { gitHubAppFrom, launchEnvironmentFrom } from "../shared/clients.js";
import { type Handler, perContainer, powertools } from "../shared/lambda.js";

export const { logger, metrics } = powertools("launcher");

/** Reasons that need a person (the message will reach the DLQ), logged as errors rather than warnings. */
export interface LauncherContainer {
  env: JobLaunchEnvironment;
  ledger: Ledger;
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
    const batch = new JobBatch(records, container.env, { ...container, log: logger, now: () => new Date() });
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
  const perPool = (name: string, pool: string) => {
    const single = metrics.singleMetric();
    single.addDimension(POOL_DIMENSION, pool);
    single.addMetric(name, MetricUnit.Count, 1);
  };
  for (const outcome of batch.outcomes.values()) {
    const { jobId, pool } = outcome.message;
    switch (outcome.kind) {
      case "launched": {
        perPool(METRIC.jobsLaunched, pool);
        const { runner } = outcome;
        const latency = runner.fleetLaunchedAt - Date.parse(outcome.message.enqueuedAt);
        if (Number.isFinite(latency) && latency >= 0)
          metrics.addMetric(METRIC.launchLatency, MetricUnit.Milliseconds, latency);
        logger.info("runner launched", {
          jobId,
          pool,
          runnerName: runner.runnerName,
          instanceId: runner.instanceId,
          lifecycle: runner.lifecycle,
        });
        break;
      }
      case "skipped":
        logger.info("launch request skipped", { jobId, pool, reason: outcome.reason });
        break;
      case "capacity-wait":
        perPool(METRIC.capacityWaits, pool);
        logger.info("job waits for capacity", { jobId, pool, nextAttemptAt: outcome.nextAttemptAt });
        break;
      case "launch-failed":
        perPool(METRIC.launchFailures, pool);
        logger.warn("launch failed; retried with backoff", {
          jobId,
          pool,
          ...outcome.failure,
          attempts: outcome.attempts,
          nextAttemptAt: outcome.nextAttemptAt,
        });
        break;
    }
  }
  for (const { itemIdentifier } of response.batchItemFailures) {
    const failure = batch.failures.get(itemIdentifier);
    // A message Powertools skipped (an earlier one of its group failed) has no failure of its own.
    if (failure)
      logger.error("message can never succeed; it goes to the dead-letter queue", {
        messageId: itemIdentifier,
        ...failure,
      });
    else logger.warn("message returned to the queue behind a failed one of its group", { messageId: itemIdentifier });
  }
  metrics.publishStoredMetrics();
}

/** Settings and clients of one container. */
export function launcherContainer(context: Pick<Context, "invokedFunctionArn">, env = process.env): LauncherContainer {
  const settings = readSettings("launcher", env);
  const ec2 = new EC2Client({ maxAttempts: 4 });
  const ssm = new SSMClient({ maxAttempts: 6 });
  return {
    env: launchEnvironment(settings, context.invokedFunctionArn),
    ledger: ledgerOf(new DynamoDBClient({}), settings[ENV.ledgerTable]),
    ec2,
    ssm,
    github: gitHubAppFrom(settings, ssm),
    capacity: new LiveCapacity(ec2, settings[ENV.stack]),
  };
}

export const handler = perContainer((context) => createLauncherHandler(launcherContainer(context)));
