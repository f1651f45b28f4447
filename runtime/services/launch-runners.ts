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
import { type AwsLocation, ec2Arn } from "../../contract/arn.js";
import { runnerParameterName, TAG } from "../../contract/names.js";
import type { RuntimePool } from "../../contract/pool.js";
import type { RunnerTarget } from "../../contract/runner-target.js";
import { createFleet, ec2ErrorCode, tagInstance, terminateInstances } from "../adapters/ec2.js";
import type { GitHubApp } from "../adapters/github/app-auth.js";
import { gitHubErrorReason, isRetryableGitHubError } from "../adapters/github/errors.js";
import { deleteRunner, generateJitConfig, type JitConfig } from "../adapters/github/runners.js";
import { deleteParameters, putRunnerParameter } from "../adapters/ssm.js";
import { matchFleet, withoutInstances } from "../core/launch/assign.js";
import {
  buildFleetOverrides,
  type FleetInstance,
  type Lifecycle,
  onDemandFallbackCount,
} from "../core/launch/fleet.js";
import type { FailureReason } from "../core/launch/plan.js";
import { fleetTags, type RunnerLabels, runnerTags } from "../core/launch/runner.js";
import type { Log } from "../shared/lambda.js";

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

/** A runner that exists on GitHub and on EC2, with its config in SSM. */
export interface LaunchedRunner {
  key: string;
  runnerName: string;
  runnerId: number;
  instanceId: string;
  lifecycle: Lifecycle;
  /** Epoch ms when the fleet call that started the instance returned. */
  fleetLaunchedAt: number;
}

export interface LaunchFailure {
  key: string;
  reason: FailureReason;
  detail: string;
}

/** A runner the caller withdrew right before its parameter was written (`LaunchHooks.starting`): ended unbooted. */
export interface WithdrawnRunner {
  key: string;
  runnerName: string;
  instanceId: string;
  reason: string;
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
    await deleteRunners(match.surplus, deps);
    for (const runner of match.surplus) failed.push({ key: runner.request.key, reason, detail });
  }
  // Instances beyond the request count (never expected) are not anyone's runner.
  await terminateQuietly(match.extraInstanceIds, deps);

  const fleetTaggedRunner = single !== undefined;
  let { instances, runners } = match;
  if (hooks.withdraw && runners.length > 0) {
    const out = await hooks.withdraw(
      runners.map((r, i) => ({ key: r.request.key, instanceId: instances[i].instanceId })),
    );
    const kept = withoutInstances(runners, instances, out);
    if (kept.gone.length > 0) {
      await Promise.all([terminateQuietly([...out], deps), deleteRunners(kept.gone, deps)]);
      for (const r of kept.gone)
        failed.push({ key: r.request.key, reason: "capacity", detail: "pool over maxRunners" });
      ({ runners, instances } = kept);
    }
  }
  const configured = { ...fleet, instances, fleetTaggedRunner, starting: hooks.starting };
  const withdrawn: WithdrawnRunner[] = [];
  const launched = await configureInstances(pool, runners, configured, env, deps, failed, withdrawn);
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

/** Writes each instance's parameter (and its runner tags when the fleet served several runners). */
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
  withdrawn: WithdrawnRunner[],
): Promise<LaunchedRunner[]> {
  const { instances, launchedAt: fleetLaunchedAt } = fleet;
  const unwanted: JitRunner[] = [];
  const results = await Promise.allSettled(
    runners.map(async (runner, i) => {
      const { instanceId, lifecycle } = instances[i];
      if (!fleet.fleetTaggedRunner) await tagInstance(deps.ec2, instanceId, runnerTags(runner.request));
      const { key, runnerName } = runner.request;
      const verdict = await fleet.starting?.({
        key,
        runnerName,
        runnerId: runner.runnerId,
        instanceId,
        lifecycle,
        fleetLaunchedAt,
      });
      if (verdict) {
        unwanted.push(runner);
        withdrawn.push({ key, runnerName, instanceId, reason: verdict.withdraw });
        return;
      }
      await putRunnerParameter(deps.ssm, {
        name: runnerParameterName(env.parameterPrefix, instanceId),
        value: runner.encodedJitConfig,
        description: `JIT config of runner ${runner.request.runnerName}`,
        tags: [
          { Key: TAG.instanceArn, Value: ec2Arn(env.location, `instance/${instanceId}`) },
          { Key: TAG.stack, Value: env.stack },
          { Key: TAG.pool, Value: pool.name },
        ],
      });
    }),
  );
  if (withdrawn.length > 0)
    // No parameter was written for these: their runners never came online, so nothing can have taken them.
    await Promise.all([
      terminateQuietly(
        withdrawn.map((w) => w.instanceId),
        deps,
      ),
      deleteRunners(unwanted, deps),
    ]);
  const launched: LaunchedRunner[] = [];
  const broken: { runner: JitRunner; instanceId: string; error: unknown }[] = [];
  results.forEach((result, i) => {
    const { request, runnerId } = runners[i];
    const { instanceId, lifecycle } = instances[i];
    if (unwanted.includes(runners[i])) return;
    if (result.status === "fulfilled")
      launched.push({
        key: request.key,
        runnerName: request.runnerName,
        runnerId,
        instanceId,
        lifecycle,
        fleetLaunchedAt,
      });
    else broken.push({ runner: runners[i], instanceId, error: result.reason });
  });
  if (broken.length === 0) return launched;
  const instanceIds = broken.map((b) => b.instanceId);
  deps.log.error("writing runner parameters failed: terminating those instances", {
    instances: instanceIds,
    errors: broken.map((b) => String(b.error)),
  });
  await Promise.all([
    terminateQuietly(instanceIds, deps),
    deleteRunners(
      broken.map((b) => b.runner),
      deps,
    ),
    // A parameter may exist when only the tagging failed.
    deleteParameters(
      deps.ssm,
      instanceIds.map((id) => runnerParameterName(env.parameterPrefix, id)),
    ).catch(() => undefined),
  ]);
  for (const b of broken)
    failed.push({ key: b.runner.request.key, reason: "parameter-error", detail: String(b.error) });
  return launched;
}

/** Deletes runners from GitHub; failures are logged (the reaper removes offline runners later). */
async function deleteRunners(runners: JitRunner[], deps: LaunchDeps): Promise<void> {
  await Promise.all(
    runners.map(async ({ request, runnerId }) => {
      try {
        await deleteRunner(await deps.github.installationClient(request.installationId), request.target, runnerId);
      } catch (error) {
        deps.log.error("could not delete JIT runner; the reaper will remove it", {
          runnerName: request.runnerName,
          runnerId,
          error: String(error),
        });
      }
    }),
  );
}

/** Terminates instances; a failure is logged (the reaper terminates orphans later). */
async function terminateQuietly(instanceIds: string[], deps: LaunchDeps): Promise<void> {
  try {
    await terminateInstances(deps.ec2, instanceIds);
  } catch (error) {
    deps.log.error("could not terminate instances; the reaper will", { instanceIds, error: String(error) });
  }
}
