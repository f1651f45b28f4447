/** Warm-pool Lambda (scheduled): keeps idle runners online during the warm hours (`services/maintain-warm-pools.ts`). */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { Context } from "aws-lambda";
import { ENV } from "../../contract/names.js";
import { readSettings, type SettingsOf } from "../../contract/settings.js";
import { joinWarmPools } from "../core/warm-pool/schedule.js";
import type { LaunchDeps } from "../services/launch-runners.js";
import { maintainWarmPools, type WarmPoolEnvironment, type WarmPoolResult } from "../services/maintain-warm-pools.js";
import { gitHubAppFrom, launchEnvironmentFrom } from "../shared/clients.js";
import { type Handler, perContainer, powertools } from "../shared/lambda.js";

const { logger, metrics } = powertools("warm-pool");

/** The warm pools joined with their pools (checked), and where to launch; location from the function's ARN. */
export function warmPoolEnvironment(settings: SettingsOf<"warm-pool">, functionArn: string): WarmPoolEnvironment {
  return {
    ...launchEnvironmentFrom(settings, functionArn),
    owner: settings[ENV.githubOwner],
    warmPools: joinWarmPools(settings[ENV.warmPools], settings[ENV.pools], settings[ENV.runnerScope]),
    bootGraceMinutes: settings[ENV.bootGraceMinutes],
  };
}

export function createWarmPoolHandler(
  env: WarmPoolEnvironment,
  deps: Omit<LaunchDeps, "log">,
): Handler<unknown, WarmPoolResult[]> {
  return async (_event, context) => {
    logger.addContext(context);
    const results = await maintainWarmPools(env, { ...deps, log: logger, now: () => new Date() });
    for (const result of results) {
      // A single metric is flushed (dimensions included) on its first addMetric: one per value.
      for (const [name, value] of [
        ["WarmRunnersLaunched", result.launched.length],
        ["WarmRunnersRetired", result.retired.length],
        ["WarmLaunchFailures", result.failed],
      ] as const) {
        const single = metrics.singleMetric();
        single.addDimension("Pool", result.pool);
        single.addMetric(name, MetricUnit.Count, value);
      }
    }
    return results;
  };
}

export const handler = perContainer((context: Context) => {
  const settings = readSettings("warm-pool");
  const ssm = new SSMClient({});
  return createWarmPoolHandler(warmPoolEnvironment(settings, context.invokedFunctionArn), {
    ec2: new EC2Client({}),
    ssm,
    github: gitHubAppFrom(settings, ssm),
  });
});
