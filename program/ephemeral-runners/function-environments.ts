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

/** The variables of starting runners: the launcher's without the ledger. */
export type LaunchEnvironment = Omit<FunctionEnvironment<"launcher">, typeof ENV.ledgerTable>;

/**
 * What every function that starts runners is told (launcher, warm pool, reconciler). The warm pool's runners have
 * no job, so the ledger table is added only where jobs are launched.
 */
export function launchEnvironment(args: LaunchEnvironmentArgs): LaunchEnvironment {
  return {
    ...githubAppEnvironment(args.github),
    [ENV.stack]: args.stack,
    [ENV.pools]: pulumi.output(args.launchTemplateIds).apply((ids) => JSON.stringify(runtimePools(args.pools, ids))),
    [ENV.subnetIds]: pulumi.output(args.subnetIds).apply((ids) => JSON.stringify(ids)),
    [ENV.runnerParameterPrefix]: args.parameterPrefix,
    ...(args.runnerGroupId ? { [ENV.runnerGroupId]: args.runnerGroupId.apply(String) } : {}),
  };
}

/** The launcher's environment: starting runners, and the ledger it claims each job in before launching. */
export function launcherEnvironment(
  launch: LaunchEnvironment,
  ledgerTable: pulumi.Input<string>,
): FunctionEnvironment<"launcher"> {
  return { ...launch, [ENV.ledgerTable]: ledgerTable };
}

/**
 * The reconciler's: the launcher's (it relaunches), the job queue (it hands jobs back to the launcher) and the boot
 * grace (a launched job's runner is given that long to come online before it counts as lost).
 */
export function reconcilerEnvironment(args: {
  launch: LaunchEnvironment;
  ledgerTable: pulumi.Input<string>;
  jobQueueUrl: pulumi.Input<string>;
  runners: RunnersConfig;
}): FunctionEnvironment<"reconciler"> {
  return {
    ...args.launch,
    [ENV.ledgerTable]: args.ledgerTable,
    [ENV.jobQueueUrl]: args.jobQueueUrl,
    [ENV.bootGraceMinutes]: String(args.runners.bootGraceMinutes),
  };
}

/**
 * The repositories whose webhooks the stack owns (`CIRUNNERS_REPOSITORIES`): the configured ones in repo scope; none
 * in org scope, where one organization hook delivers every repository's jobs (the org-scope `repositories` list
 * only narrows the runner group).
 */
export function ownedRepositories(github: GitHubConfig): string {
  return JSON.stringify(github.scope === "repo" ? github.repositories : []);
}

/** The redeliver function's: the App, the stack's webhook targets and their hook ids (`{ "<targetKey>": id }`). */
export function redeliverEnvironment(args: {
  github: GitHubConfig;
  hookIds: pulumi.Input<Record<string, number>>;
}): FunctionEnvironment<"redeliver"> {
  return {
    ...githubAppEnvironment(args.github),
    [ENV.repositories]: ownedRepositories(args.github),
    [ENV.webhookHookIds]: pulumi.output(args.hookIds).apply((ids) => JSON.stringify(ids)),
  };
}

/** The warm pool's environment: the launch environment plus each warm pool's schedule. */
export function warmPoolEnvironment(
  launch: LaunchEnvironment,
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
  ledgerTable: pulumi.Input<string>;
}): FunctionEnvironment<"reaper"> {
  return {
    ...githubAppEnvironment(args.github),
    [ENV.stack]: args.stack,
    [ENV.ledgerTable]: args.ledgerTable,
    [ENV.runnerParameterPrefix]: args.parameterPrefix,
    [ENV.bootGraceMinutes]: String(args.runners.bootGraceMinutes),
    [ENV.maxJobHours]: String(args.runners.maxJobHours),
  };
}

export function runnerCacheEnvironment(args: {
  github: GitHubConfig;
  runners: RunnersConfig;
  cacheBucket: pulumi.Input<string>;
  /** The baked-image pipelines it starts on a new runner version; none (the variable unset) without baked pools. */
  imagePipelineArns?: pulumi.Input<string[]>;
}): FunctionEnvironment<"runner-cache"> {
  return {
    // The App's installation token reads the release: anonymous calls share Lambda's IP addresses' 60 an hour.
    ...githubAppEnvironment(args.github),
    [ENV.runnerCacheBucket]: args.cacheBucket,
    // Only the architectures matter here; no launch template ids.
    [ENV.pools]: JSON.stringify(runtimePools(args.runners.pools)),
    [ENV.runnerVersion]: args.runners.runnerVersion,
    ...(args.imagePipelineArns
      ? { [ENV.imagePipelineArns]: pulumi.output(args.imagePipelineArns).apply((arns) => JSON.stringify(arns)) }
      : {}),
  };
}

/**
 * The webhook's: it records each job in the ledger and, to route a job, needs the owner, the scope and (repo scope)
 * the repositories the stack serves, so a delivery for any other repository is refused.
 */
export function webhookEnvironment(args: {
  poolsJson: string;
  jobQueueUrl: pulumi.Input<string>;
  webhookSecretArn: pulumi.Input<string>;
  ledgerTable: pulumi.Input<string>;
  github: GitHubConfig;
}): FunctionEnvironment<"webhook"> {
  return {
    [ENV.pools]: args.poolsJson,
    [ENV.jobQueueUrl]: args.jobQueueUrl,
    [ENV.webhookSecretArn]: args.webhookSecretArn,
    [ENV.ledgerTable]: args.ledgerTable,
    [ENV.githubOwner]: args.github.owner,
    [ENV.runnerScope]: args.github.scope,
    [ENV.repositories]: ownedRepositories(args.github),
  };
}
