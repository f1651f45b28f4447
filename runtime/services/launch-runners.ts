/**
 * The launch service: N runner requests for one pool → N single-use EC2 runners. Used by the launcher (jobs)
 * and the warm pool (idle runners, which pass `TAG.warm` as an extra tag).
 *
 *   1. a just-in-time runner config per request from GitHub (in parallel);
 *   2. ONE `CreateFleet` (instant) for all of them — spot first when the pool allows it, then one on-demand
 *      fleet for the remainder when spot reported capacity errors;
 *   3. per instance, its JIT config as a SecureString parameter named by instance id and tagged with the
 *      instance's ARN (the instance role may read and delete only that one), plus its runner tags.
 *
 * Invariant, kept on every partial failure: no JIT runner without an instance, no instance without its config.
 * Surplus runners (the fleet started fewer instances) are deleted from GitHub; an instance whose parameter
 * cannot be written is terminated and its runner deleted.
 */
import { randomUUID } from "node:crypto";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { AwsLocation } from "../../contract/arn.js";
import { runnerParameterName } from "../../contract/names.js";
import type { RuntimePool } from "../../contract/pool.js";
import type { RunnerTarget } from "../../contract/runner-target.js";
import { createFleet, ec2ErrorCode, tagInstance } from "../adapters/ec2.js";
import type { GitHubApp } from "../adapters/github/app-auth.js";
import { gitHubErrorReason, isRetryableGitHubError } from "../adapters/github/errors.js";
import { generateJitConfig, type JitConfig } from "../adapters/github/runners.js";
import { putRunnerParameter } from "../adapters/ssm.js";
import { matchFleet, withoutInstances } from "../core/launch/assign.js";
import {
  buildFleetOverrides,
  type FleetInstance,
  type Lifecycle,
  onDemandFallbackCount,
} from "../core/launch/fleet.js";
import { jitParameter } from "../core/launch/jit-parameter.js";
import {
  type LaunchedRunner,
  type LaunchFailure,
  launchedRunner,
  sortConfigured,
  type WithdrawnRunner,
} from "../core/launch/outcome.js";
import { fleetTags, type RunnerLabels, runnerTags } from "../core/launch/runner.js";
import type { Log } from "../shared/lambda.js";
import { withdrawUnbooted } from "./withdraw-runners.js";

export type { LaunchedRunner, LaunchFailure, WithdrawnRunner } from "../core/launch/outcome.js";

export interface RunnerRequest extends RunnerLabels {
  /** The caller's key for this request (the SQS message id for jobs). */
  key: string;
  installationId: number;
  target: RunnerTarget;
}

export interface LaunchEnvironment {
  stack: string;
  location: AwsLocation;
  subnetIds: string[];
  parameterPrefix: string;
  /** Runner group for org runners; repo runners use the default group 1. */
  runnerGroupId: number;
}

export interface LaunchDeps {
  ec2: EC2Client;
  ssm: SSMClient;
  github: GitHubApp;
  log: Log;
}

export interface LaunchResult {
  launched: LaunchedRunner[];
  failed: LaunchFailure[];
  /** Runners `starting` withdrew: their instances terminated and runners deleted before anything could boot. */
  withdrawn: WithdrawnRunner[];
}

interface JitRunner extends JitConfig {
  request: RunnerRequest;
}

/**
 * What a caller may do between the fleet and the runners' parameters: before the parameter is written an instance
 * cannot start its runner, so nothing can have taken it yet.
 */
export interface LaunchHooks {
  /** The started instances to withdraw (terminated, runners deleted, reported as `capacity` failures). */
  withdraw?(started: { key: string; instanceId: string }[]): Promise<ReadonlySet<string>>;
  /**
   * Called for each runner right before its parameter is written (a throw fails that runner). `{ withdraw }`: the
   * runner is no longer wanted (its job ended meanwhile); it is ended without ever booting.
   */
  starting?(runner: LaunchedRunner): Promise<{ withdraw: string } | undefined>;
}

/** Starts one runner per request. Never throws for a per-request problem: it reports it in `failed`. */
export async function launchRunners(
  pool: RuntimePool,
  requests: RunnerRequest[],
  env: LaunchEnvironment,
  deps: LaunchDeps,
  extraTags: Record<string, string> = {},
  hooks: LaunchHooks = {},
): Promise<LaunchResult> {
  const failed: LaunchFailure[] = [];
  if (!pool.launchTemplateId) {
    const detail = `pool ${pool.name} has no launch template id`;
    return {
      launched: [],
      failed: requests.map((r) => ({ key: r.key, reason: "fleet-error", detail })),
      withdrawn: [],
    };
  }
  const jitRunners = await registerRunners(pool, requests, env, deps, failed);
  if (jitRunners.length === 0) return { launched: [], failed, withdrawn: [] };

  const single = jitRunners.length === 1 ? jitRunners[0].request : undefined;
  const fleet = await startInstances(
    pool,
    jitRunners.length,
    env,
    deps,
    fleetTags(env.stack, pool.name, extraTags, single),
  );
  const match = matchFleet(jitRunners, fleet);
  if (match.shortfall) {
    const { reason, detail } = match.shortfall;
    deps.log.warn("fleet shortfall: deleting surplus JIT runners", {
      pool: pool.name,
      surplus: match.surplus.length,
      detail,
    });
    for (const runner of match.surplus) failed.push({ key: runner.request.key, reason, detail });
  }
  // Instances beyond the request count (never expected, and never with a shortfall) are not anyone's runner.
  await withdrawUnbooted({ runners: match.surplus, instanceIds: match.extraInstanceIds }, deps);

  let { instances, runners } = match;
  if (hooks.withdraw && runners.length > 0) {
    const out = await hooks.withdraw(
      runners.map((r, i) => ({ key: r.request.key, instanceId: instances[i].instanceId })),
    );
    const kept = withoutInstances(runners, instances, out);
    if (kept.gone.length > 0) {
      await withdrawUnbooted({ runners: kept.gone, instanceIds: [...out] }, deps);
      for (const r of kept.gone)
        failed.push({ key: r.request.key, reason: "capacity", detail: "pool over maxRunners" });
      ({ runners, instances } = kept);
    }
  }
  const configured = { ...fleet, instances, fleetTaggedRunner: single !== undefined, starting: hooks.starting };
  const { launched, withdrawn } = await configureInstances(pool, runners, configured, env, deps, failed);
  return { launched, failed, withdrawn };
}

async function registerRunners(
  pool: RuntimePool,
  requests: RunnerRequest[],
  env: LaunchEnvironment,
  deps: LaunchDeps,
  failed: LaunchFailure[],
): Promise<JitRunner[]> {
  const results = await Promise.allSettled(
    requests.map(async (request) => {
      const client = await deps.github.installationClient(request.installationId);
      const config = await generateJitConfig(client, request.target, {
        name: request.runnerName,
        runnerGroupId: request.target.kind === "org" ? env.runnerGroupId : 1,
        labels: pool.labels,
      });
      return { ...config, request };
    }),
  );
  return results.flatMap((result, i) => {
    if (result.status === "fulfilled") return [result.value];
    const retryable = isRetryableGitHubError(result.reason);
    deps.log.warn("generate-jitconfig failed", {
      runnerName: requests[i].runnerName,
      retryable,
      status: gitHubErrorReason(result.reason),
      error: String(result.reason),
    });
    failed.push({
      key: requests[i].key,
      reason: retryable ? "github-retryable" : "github-permanent",
      detail: String(result.reason),
    });
    return [];
  });
}

/** One fleet, plus an on-demand fallback only after spot capacity errors. Never throws. */
async function startInstances(
  pool: RuntimePool,
  count: number,
  env: LaunchEnvironment,
  deps: LaunchDeps,
  tags: ReturnType<typeof fleetTags>,
): Promise<{ instances: FleetInstance[]; errors: string[]; launchedAt: number }> {
  const overrides = buildFleetOverrides(pool.instanceTypes, env.subnetIds);
  const request = (lifecycle: Lifecycle, n: number) =>
    createFleet(deps.ec2, {
      launchTemplateId: pool.launchTemplateId as string,
      overrides,
      count: n,
      lifecycle,
      tags,
      clientToken: randomUUID(),
    });
  const instances: FleetInstance[] = [];
  const errors: string[] = [];
  let launchedAt = 0;
  try {
    const first = await request(pool.spot ? "spot" : "on-demand", count);
    launchedAt = Date.now();
    instances.push(...first.instances);
    errors.push(...first.errors.map((e) => `${e.code}: ${e.message}`));
    const fallback = pool.spot ? onDemandFallbackCount(count, first) : 0;
    if (fallback > 0) {
      deps.log.info("spot capacity short, falling back to on-demand", {
        pool: pool.name,
        count: fallback,
        errors: first.errors.map((e) => e.code),
      });
      const second = await request("on-demand", fallback);
      launchedAt = Date.now();
      instances.push(...second.instances);
      errors.push(...second.errors.map((e) => `${e.code}: ${e.message}`));
    }
  } catch (error) {
    // Instances from a first (spot) fleet that did succeed still get their configs.
    deps.log.error("CreateFleet failed", { pool: pool.name, error: String(error) });
    errors.push(`${ec2ErrorCode(error)}: ${String(error)}`);
  }
  return { instances, errors, launchedAt };
}

/**
 * Writes each instance's parameter (and its runner tags when the fleet served several runners), unless the caller
 * withdraws the runner first. Withdrawn and broken runners are undone before this returns.
 */
async function configureInstances(
  pool: RuntimePool,
  runners: JitRunner[],
  fleet: {
    instances: FleetInstance[];
    launchedAt: number;
    fleetTaggedRunner: boolean;
    starting?: LaunchHooks["starting"];
  },
  env: LaunchEnvironment,
  deps: LaunchDeps,
  failed: LaunchFailure[],
): Promise<{ launched: LaunchedRunner[]; withdrawn: WithdrawnRunner[] }> {
  const { instances, launchedAt } = fleet;
  const results = await Promise.allSettled(
    runners.map(async (runner, i) => {
      const { instanceId } = instances[i];
      if (!fleet.fleetTaggedRunner) await tagInstance(deps.ec2, instanceId, runnerTags(runner.request));
      const verdict = await fleet.starting?.(launchedRunner(runner, instances[i], launchedAt));
      if (verdict) return verdict;
      const parameter = { runnerName: runner.request.runnerName, encodedJitConfig: runner.encodedJitConfig };
      await putRunnerParameter(deps.ssm, jitParameter(env, pool.name, instanceId, parameter));
      return undefined;
    }),
  );
  const { launched, withdrawn, broken } = sortConfigured(runners, instances, results, launchedAt);
  // No parameter was written for the withdrawn: their runners never came online, so nothing can have taken them.
  const unwanted = { runners: withdrawn.map((w) => w.runner), instanceIds: withdrawn.map((w) => w.entry.instanceId) };
  if (withdrawn.length > 0) await withdrawUnbooted(unwanted, deps);
  if (broken.length > 0) {
    const instanceIds = broken.map((b) => b.instanceId);
    deps.log.error("writing runner parameters failed: terminating those instances", {
      instances: instanceIds,
      errors: broken.map((b) => b.failure.detail),
    });
    // A parameter may exist when only the tagging failed.
    const parameterNames = instanceIds.map((id) => runnerParameterName(env.parameterPrefix, id));
    await withdrawUnbooted({ runners: broken.map((b) => b.runner), instanceIds, parameterNames }, deps);
    failed.push(...broken.map((b) => b.failure));
  }
  return { launched, withdrawn: withdrawn.map((w) => w.entry) };
}
