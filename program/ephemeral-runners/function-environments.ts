/**
 * What the ephemeral runners' functions are told: each environment typed against the function's settings schema
 * (`contract/settings.ts`), and the pools in the contract's `RuntimePool` shape.
 */
import * as pulumi from "@pulumi/pulumi";
import { ENV } from "../../contract/names";
import type { RuntimePool } from "../../contract/pool";
import type { GitHubConfig, RunnerPool, RunnersConfig } from "../config";
import type { FunctionEnvironment } from "../shared/environment";

/**
 * The pools as the functions see them (`CIRUNNERS_POOLS`). Only the launcher and the warm pool need each pool's
 * launch template id; the webhook and the runner cache get the pools without.
 */
export function runtimePools(
  pools: readonly RunnerPool[],
  launchTemplateIds?: Readonly<Record<string, string>>,
): RuntimePool[] {
  return pools.map(({ name, labels, instanceTypes, architecture, maxRunners, spot }) => ({
    name,
    labels,
    instanceTypes,
    architecture,
    maxRunners,
    spot,
    ...(launchTemplateIds ? { launchTemplateId: launchTemplateIds[name] } : {}),
  }));
}

/** The GitHub App and where runners register: read by every function that calls GitHub as the App. */
function githubAppEnvironment(github: GitHubConfig) {
  return {
    [ENV.appId]: String(github.appId),
    [ENV.appPrivateKeyParameter]: github.appPrivateKeyParameter,
    [ENV.githubApiUrl]: github.apiUrl,
    [ENV.githubOwner]: github.owner,
    [ENV.runnerScope]: github.scope,
  };
}

export interface LaunchEnvironmentArgs {
  stack: string;
  github: GitHubConfig;
  pools: readonly RunnerPool[];
  /** Launch template id of each pool, by pool name. */
  launchTemplateIds: pulumi.Input<Record<string, string>>;
  subnetIds: pulumi.Input<string[]>;
  parameterPrefix: string;
  /** Org scope: the runner group's id; repo scope: undefined (the function's default applies). */
  runnerGroupId?: pulumi.Output<number>;
}

/** The launcher's environment; the warm pool starts runners the same way and extends it. */
export function launcherEnvironment(args: LaunchEnvironmentArgs): FunctionEnvironment<"launcher"> {
  return {
    ...githubAppEnvironment(args.github),
    [ENV.stack]: args.stack,
    [ENV.pools]: pulumi.output(args.launchTemplateIds).apply((ids) => JSON.stringify(runtimePools(args.pools, ids))),
    [ENV.subnetIds]: pulumi.output(args.subnetIds).apply((ids) => JSON.stringify(ids)),
    [ENV.runnerParameterPrefix]: args.parameterPrefix,
    ...(args.runnerGroupId ? { [ENV.runnerGroupId]: args.runnerGroupId.apply(String) } : {}),
  };
}

/** The warm pool's environment: the launcher's plus each warm pool's schedule. */
export function warmPoolEnvironment(
  launch: FunctionEnvironment<"launcher">,
  runners: RunnersConfig,
): FunctionEnvironment<"warm-pool"> | undefined {
  const warmPools = runners.pools.flatMap((pool) => (pool.warmPool ? [{ pool: pool.name, ...pool.warmPool }] : []));
  if (warmPools.length === 0) return undefined;
  return {
    ...launch,
    [ENV.bootGraceMinutes]: String(runners.bootGraceMinutes),
    [ENV.warmPools]: JSON.stringify(warmPools),
  };
}

export function reaperEnvironment(args: {
  stack: string;
  github: GitHubConfig;
  runners: RunnersConfig;
  parameterPrefix: string;
}): FunctionEnvironment<"reaper"> {
  return {
    ...githubAppEnvironment(args.github),
    [ENV.stack]: args.stack,
    [ENV.runnerParameterPrefix]: args.parameterPrefix,
    [ENV.bootGraceMinutes]: String(args.runners.bootGraceMinutes),
    [ENV.maxJobHours]: String(args.runners.maxJobHours),
  };
}

export function runnerCacheEnvironment(args: {
  github: GitHubConfig;
  runners: RunnersConfig;
  cacheBucket: pulumi.Input<string>;
}): FunctionEnvironment<"runner-cache"> {
  return {
    // The App's installation token reads the release: anonymous calls share Lambda's IP addresses' 60 an hour.
    ...githubAppEnvironment(args.github),
    [ENV.runnerCacheBucket]: args.cacheBucket,
    // Only the architectures matter here; no launch template ids.
    [ENV.pools]: JSON.stringify(runtimePools(args.runners.pools)),
    [ENV.runnerVersion]: args.runners.runnerVersion,
  };
}

export function webhookEnvironment(args: {
  poolsJson: string;
  jobQueueUrl: pulumi.Input<string>;
  webhookSecretParameter: pulumi.Input<string>;
}): FunctionEnvironment<"webhook"> {
  return {
    [ENV.pools]: args.poolsJson,
    [ENV.jobQueueUrl]: args.jobQueueUrl,
    [ENV.webhookSecretParameter]: args.webhookSecretParameter,
  };
}
