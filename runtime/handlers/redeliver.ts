/**
 * Redeliver Lambda (scheduled, every 5 minutes): asks GitHub to redeliver the stack's failed webhook deliveries
 * (`services/redeliver-deliveries.ts`), since GitHub never does so by itself. A webhook outage, API Gateway
 * throttling or a timeout then costs a job a few minutes instead of the job.
 */
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { SSMClient } from "@aws-sdk/client-ssm";
import { METRIC } from "../../contract/metrics.js";
import { ENV } from "../../contract/names.js";
import { readSettings, type SettingsOf } from "../../contract/settings.js";
import { DEFAULT_REDELIVERY_POLICY } from "../core/redeliver/select.js";
import {
  type RedeliverDependencies,
  type RedeliverReport,
  type RedeliverSettings,
  redeliverFailedDeliveries,
} from "../services/redeliver-deliveries.js";
import { gitHubAppFrom } from "../shared/clients.js";
import { type Handler, perContainer, powertools } from "../shared/lambda.js";

const { logger, metrics } = powertools("redeliver");

export interface RedeliverResult {
  redelivered: number;
  failures: number;
}

export function redeliverSettings(settings: SettingsOf<"redeliver">): RedeliverSettings {
  return {
    scope: settings[ENV.runnerScope],
    owner: settings[ENV.githubOwner],
    repositories: settings[ENV.repositories],
    hookIds: settings[ENV.webhookHookIds],
    policy: DEFAULT_REDELIVERY_POLICY,
  };
}

export function publishRedeliverMetrics(report: RedeliverReport, sink: Metrics = metrics): void {
  sink.addMetric(METRIC.redeliveries, MetricUnit.Count, report.redelivered.length);
  sink.publishStoredMetrics();
}

export function createRedeliverHandler(
  settings: RedeliverSettings,
  deps: Omit<RedeliverDependencies, "log" | "now">,
): Handler<unknown, RedeliverResult> {
  return async (_event, context) => {
    logger.addContext(context);
    const report = await redeliverFailedDeliveries(settings, { ...deps, now: () => new Date(), log: logger });
    publishRedeliverMetrics(report);
    if (report.missingHooks.length > 0)
      logger.error("targets without a webhook id: their failed deliveries are not recovered", {
        targets: report.missingHooks,
      });
    return { redelivered: report.redelivered.length, failures: report.failures.length };
  };
}

export const handler = perContainer(() => {
  const settings = readSettings("redeliver");
  const ssm = new SSMClient({});
  return createRedeliverHandler(redeliverSettings(settings), { github: gitHubAppFrom(settings, ssm) });
});
