/** Reaper Lambda (scheduled): ends what the normal path left behind (`services/reap.ts`). */
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import { METRIC } from "../../contract/metrics.js";
import { ENV } from "../../contract/names.js";
import { readSettings, type SettingsOf } from "../../contract/settings.js";
import { ledgerOf } from "../adapters/ledger.js";
import { type ReaperDependencies, type ReaperSettings, type ReapReport, reap } from "../services/reap.js";
import { gitHubAppFrom } from "../shared/clients.js";
import { type Handler, perContainer, powertools } from "../shared/lambda.js";

const { logger, metrics } = powertools("reaper");

export interface ReaperResult {
  terminated: number;
  deregistered: number;
  deletedParameters: number;
}

export function reaperSettings(settings: SettingsOf<"reaper">): ReaperSettings {
  return {
    stack: settings[ENV.stack],
    parameterPrefix: settings[ENV.runnerParameterPrefix],
    bootGraceMinutes: settings[ENV.bootGraceMinutes],
    maxJobHours: settings[ENV.maxJobHours],
    owner: settings[ENV.githubOwner],
    scope: settings[ENV.runnerScope],
  };
}

/** Emits ReapedInstances (per Reason), DeregisteredRunners and DeletedRunnerParameters. */
export function publishReapMetrics(report: ReapReport, sink: Metrics = metrics): void {
  const byReason = new Map<string, number>();
  for (const t of report.terminated) byReason.set(t.reason, (byReason.get(t.reason) ?? 0) + 1);
  for (const [reason, count] of byReason) {
    const single = sink.singleMetric();
    single.addDimension("Reason", reason);
    single.addMetric(METRIC.reapedInstances, MetricUnit.Count, count);
  }
  sink.addMetric(METRIC.deregisteredRunners, MetricUnit.Count, report.deregistered.length);
  sink.addMetric(METRIC.deletedRunnerParameters, MetricUnit.Count, report.deletedParameters.length);
  sink.publishStoredMetrics();
}

export function createReaperHandler(
  settings: ReaperSettings,
  deps: Omit<ReaperDependencies, "log" | "now">,
): Handler<unknown, ReaperResult> {
  return async (_event, context) => {
    logger.addContext(context);
    const report = await reap(settings, { ...deps, now: () => new Date(), log: logger });
    publishReapMetrics(report);
    return {
      terminated: report.terminated.length,
      deregistered: report.deregistered.length,
      deletedParameters: report.deletedParameters.length,
    };
  };
}

export const handler = perContainer(() => {
  const settings = readSettings("reaper");
  const ssm = new SSMClient({});
  return createReaperHandler(reaperSettings(settings), {
    ec2: new EC2Client({}),
    ssm,
    github: gitHubAppFrom(settings, ssm),
    ledger: ledgerOf(new DynamoDBClient({}), settings[ENV.ledgerTable]),
  });
});
