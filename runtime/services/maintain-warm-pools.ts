/**
 * One warm-pool run: for the pools with a warm pool, keep `size` idle ephemeral runners online during the
 * configured days and hours, so the first jobs of the day do not wait for a boot.
 *
 * Inside the hours it counts the pool's idle online runners on GitHub plus the warm instances still booting, and
 * starts the deficit (capped by the pool's `maxRunners`) through the launch service, tagged `cirunners:warm`.
 * Outside the hours it removes idle warm runners from GitHub and terminates their instances, so nothing idles
 * overnight (busy ones finish their job and power off as usual).
 */
import { TAG } from "../../contract/names.js";
import type { RuntimePool, WarmPool } from "../../contract/pool.js";
import { type RunnerTarget, runnerTargetFor } from "../../contract/runner-target.js";
import { describeStackInstances, LIVE_STATES, type StackInstance, terminateInstances } from "../adapters/ec2.js";
import type { GitHubClient } from "../adapters/github/app-auth.js";
import { deleteRunner, type GitHubRunner, listRunners } from "../adapters/github/runners.js";
import { makeRunnerName, warmRunnerPrefix } from "../core/launch/runner.js";
import { countWarmCapacity, isWithinWarmHours, selectWarmSurplus, warmDeficit } from "../core/warm-pool/schedule.js";
import { type LaunchDeps, type LaunchEnvironment, launchRunners } from "./launch-runners.js";

export interface WarmPoolEnvironment extends LaunchEnvironment {
  owner: string;
  bootGraceMinutes: number;
  /** Each warm pool with its pool (`joinWarmPools`). */
  warmPools: { warm: WarmPool; pool: RuntimePool }[];
}

export interface WarmPoolDependencies extends LaunchDeps {
  now: () => Date;
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

const WARM_TAGS = { [TAG.warm]: "true" };

export async function maintainWarmPools(
  env: WarmPoolEnvironment,
  deps: WarmPoolDependencies,
): Promise<WarmPoolResult[]> {
  if (env.warmPools.length === 0) return [];
  const now = deps.now();
  const target = runnerTargetFor("org", env.owner, "");
  const instances = await describeStackInstances(deps.ec2, env.stack, LIVE_STATES);
  const installationId = await deps.github.installationId(target);
  const client = await deps.github.installationClient(installationId);
  const ourNames = new Set(instances.map((i) => i.runnerName).filter(Boolean));
  const runners = (await listRunners(client, target)).filter((r) => ourNames.has(r.name));

  const results: WarmPoolResult[] = [];
  for (const { warm, pool } of env.warmPools) {
    // Instances started before warm runners were tagged are recognized by their runner name.
    const poolInstances = instances
      .filter((i) => i.pool === pool.name)
      .map((i) => ({ ...i, warm: i.warm || Boolean(i.runnerName?.startsWith(warmRunnerPrefix(pool.name))) }));
    const counts = countWarmCapacity({
      instances: poolInstances,
      runners,
      now,
      bootGraceMinutes: env.bootGraceMinutes,
    });
    const withinHours = isWithinWarmHours(warm, now);
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
      result.retired = await retireIdle(poolInstances, runners, client, target, deps);
      continue;
    }
    result.requested = warmDeficit({ size: warm.size, ...counts, maxRunners: pool.maxRunners });
    if (result.requested === 0) continue;
    const requests = Array.from({ length: result.requested }, (_, i) => ({
      key: `warm-${pool.name}-${i}`,
      runnerName: makeRunnerName(pool.name, "warm"),
      installationId,
      target,
    }));
    const launch = await launchRunners(pool, requests, env, deps, WARM_TAGS);
    result.launched = launch.launched.map((r) => r.instanceId);
    result.failed = launch.failed.length;
    if (launch.failed.length > 0)
      deps.log.warn("some warm runners did not start", { pool: pool.name, failures: launch.failed });
  }
  deps.log.info("warm pool run", { results });
  return results;
}

/** Removes idle warm runners from GitHub, then terminates the instances of those GitHub let go. */
async function retireIdle(
  instances: StackInstance[],
  runners: GitHubRunner[],
  client: GitHubClient,
  target: RunnerTarget,
  deps: WarmPoolDependencies,
): Promise<string[]> {
  const released: string[] = [];
  for (const entry of selectWarmSurplus({ instances, runners })) {
    try {
      if (await deleteRunner(client, target, entry.runnerId)) released.push(entry.instanceId);
    } catch (error) {
      deps.log.warn("could not remove an idle warm runner", { runnerName: entry.runnerName, error: String(error) });
    }
  }
  return terminateInstances(deps.ec2, released);
}
