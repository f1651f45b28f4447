/**
 * Warm pool: a scheduled function that, for the pools with a warm pool, keeps `size` idle ephemeral runners
 * online during the configured days and hours, so the first jobs of the day do not wait for a boot.
 *
 * Inside the hours it counts the pool's idle online runners on GitHub plus the warm instances still booting,
 * and starts the deficit (capped by the pool's `maxRunners`) through the launcher's core, tagging them
 * `cirunners:warm`. Outside the hours it removes idle warm runners from GitHub and terminates their
 * instances, so nothing idles overnight (busy ones finish their job and power off as usual).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { CreateTagsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { Context } from "aws-lambda";
import type { Octokit } from "@octokit/core";
import { ENV, TAG } from "../../contract/names.js";
import type { RuntimePool } from "../../contract/pool.js";
import { getInstallationOctokit, getOwnerInstallationId } from "../shared/github.js";
import { launchRunners, makeRunnerName, type LaunchDeps, type RunnerRequest } from "../launcher/launch.js";
import { readLauncherSettings, type LauncherSettings } from "../launcher/settings.js";
import {
  deleteRunner,
  describeStackInstances,
  listRunners,
  terminateInstances,
  type StackInstance,
} from "../reaper/sources.js";
import {
  countWarmCapacity,
  isWithinWarmHours,
  parseWarmPools,
  selectWarmSurplus,
  warmDeficit,
  warmRunnerPrefix,
  type WarmPoolSpec,
} from "../warm-pool/schedule.js";

export interface WarmPoolSettings extends LauncherSettings {
  warmPools: WarmPoolSpec[];
  bootGraceMinutes: number;
}

/** Reads the launcher's settings plus the warm pools; every problem names the variable. */
export function readWarmPoolSettings(env: NodeJS.ProcessEnv, functionArn: string): WarmPoolSettings {
  const launcher = readLauncherSettings(env, functionArn);
  const warmPools = parseWarmPools(env[ENV.warmPools], ENV.warmPools);
  for (const warm of warmPools) {
    const pool = launcher.pools.find((p) => p.name === warm.pool);
    if (!pool) throw new Error(`${ENV.warmPools}: pool ${JSON.stringify(warm.pool)} is not in ${ENV.pools}`);
    if (warm.size > pool.maxRunners)
      throw new Error(
        `${ENV.warmPools}: pool ${warm.pool} wants ${warm.size} warm runners but maxRunners is ${pool.maxRunners}`,
      );
  }
  // A repository runner serves one repository only: there is no single place to keep a warm runner.
  if (warmPools.length > 0 && launcher.scope !== "org")
    throw new Error(
      `${ENV.warmPools}: warm pools need ${ENV.runnerScope} "org", got ${JSON.stringify(launcher.scope)}`,
    );
  const rawGrace = env[ENV.bootGraceMinutes] || "10";
  const bootGraceMinutes = Number(rawGrace);
  if (!Number.isFinite(bootGraceMinutes) || bootGraceMinutes <= 0)
    throw new Error(`${ENV.bootGraceMinutes} must be a positive number, got ${JSON.stringify(rawGrace)}`);
  return { ...launcher, warmPools, bootGraceMinutes };
}

export interface WarmPoolDependencies {
  ec2: EC2Client;
  ssm: SSMClient;
  /** Installation id of the runners' owner. */
  installationId: () => Promise<number>;
  octokit: (installationId: number) => Promise<Octokit>;
  now: () => Date;
  logger: Logger | Pick<Logger, "info" | "warn" | "error">;
}

export interface WarmPoolResult {
  pool: string;
  withinHours: boolean;
  idleOnline: number;
  booting: number;
  live: number;
  /** Runners asked for (the deficit). */
  requested: number;
  launched: string[];
  failed: number;
  /** Outside hours: idle warm runners removed and their instances terminated. */
  retired: string[];
}

/** One warm-pool run over every configured pool. */
export async function maintainWarmPools(
  settings: WarmPoolSettings,
  deps: WarmPoolDependencies,
): Promise<WarmPoolResult[]> {
  const now = deps.now();
  const plans = settings.warmPools.map((warm) => ({
    warm,
    pool: settings.pools.find((p) => p.name === warm.pool) as RuntimePool,
    withinHours: isWithinWarmHours(warm, now),
  }));
  if (plans.length === 0) return [];

  const instances = await describeStackInstances(deps.ec2, settings.stack, ["pending", "running"]);
  const installationId = await deps.installationId();
  const octokit = await deps.octokit(installationId);
  const ourNames = new Set(instances.map((i) => i.runnerName).filter(Boolean));
  const runners = (await listRunners(octokit, [{ kind: "org", org: settings.owner }])).filter((r) =>
    ourNames.has(r.name),
  );

  const launchDeps: LaunchDeps = { ec2: deps.ec2, ssm: deps.ssm, octokit: deps.octokit, logger: deps.logger };
  const results: WarmPoolResult[] = [];
  for (const { warm, pool, withinHours } of plans) {
    const poolInstances = instances
      .filter((i) => i.pool === pool.name)
      .map((i: StackInstance) => ({
        ...i,
        warm: i.warm || Boolean(i.runnerName?.startsWith(warmRunnerPrefix(pool.name))),
      }));
    const counts = countWarmCapacity({
      instances: poolInstances,
      runners,
      now,
      bootGraceMinutes: settings.bootGraceMinutes,
    });
    const result: WarmPoolResult = {
      pool: pool.name,
      withinHours,
      ...counts,
      requested: 0,
      launched: [],
      failed: 0,
      retired: [],
    };
    results.push(result);

    if (!withinHours) {
      const surplus = selectWarmSurplus({ instances: poolInstances, runners });
      const released: string[] = [];
      for (const entry of surplus) {
        try {
          if (await deleteRunner(octokit, "org", settings.owner, { runnerId: entry.runnerId }))
            released.push(entry.instanceId);
        } catch (error) {
          deps.logger.warn("could not remove an idle warm runner", {
            runnerName: entry.runnerName,
            error: error as Error,
          });
        }
      }
      result.retired = await terminateInstances(deps.ec2, released);
      continue;
    }

    result.requested = warmDeficit({ size: warm.size, ...counts, maxRunners: pool.maxRunners });
    if (result.requested === 0) continue;
    const requests: RunnerRequest[] = Array.from({ length: result.requested }, (_, i) => ({
      key: `warm-${pool.name}-${i}`,
      runnerName: makeRunnerName(pool.name, "warm"),
      installationId,
      target: { scope: "org", org: settings.owner },
    }));
    const launch = await launchRunners(pool, requests, settings, launchDeps);
    result.launched = launch.launched.map((r) => r.instanceId);
    result.failed = launch.failed.length;
    if (result.launched.length > 0) {
      await deps.ec2.send(
        new CreateTagsCommand({ Resources: result.launched, Tags: [{ Key: TAG.warm, Value: "true" }] }),
      );
    }
    if (launch.failed.length > 0)
      deps.logger.warn("some warm runners did not start", { pool: pool.name, failures: launch.failed });
  }
  deps.logger.info("warm pool run", { results });
  return results;
}

// ---- Lambda wiring ---------------------------------------------------------------------------------------

const logger = new Logger({ serviceName: "warm-pool" });
const metrics = new Metrics({ namespace: "cirunners", serviceName: "warm-pool" });
let clients: { ec2: EC2Client; ssm: SSMClient } | undefined;

export const handler = async (
  _event: unknown,
  context: Pick<Context, "invokedFunctionArn">,
): Promise<WarmPoolResult[]> => {
  const settings = readWarmPoolSettings(process.env, context.invokedFunctionArn);
  clients ??= { ec2: new EC2Client({}), ssm: new SSMClient({}) };
  const results = await maintainWarmPools(settings, {
    ...clients,
    installationId: () => getOwnerInstallationId(settings.owner, "org"),
    octokit: getInstallationOctokit,
    now: () => new Date(),
    logger,
  });
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
