/**
 * The launch core: turns N runner requests for one pool into N single-use EC2 runners.
 *
 *   1. a just-in-time runner config per request from GitHub (in parallel);
 *   2. ONE `CreateFleet` (instant) for all of them — spot first when the pool allows it, then one on-demand
 *      fleet for the remainder when spot reported capacity errors;
 *   3. per instance, its JIT config as a SecureString parameter named by instance id and tagged with the
 *      instance's ARN (the instance role may read and delete only that one), plus its job tags.
 *
 * Invariant, kept on every partial failure: no JIT runner without an instance, no instance without its config.
 * Surplus runners (the fleet started fewer instances) are deleted from GitHub; an instance whose parameter
 * cannot be written is terminated and its runner deleted. Used by the launcher (jobs) and the warm pool
 * (idle runners named `<pool>-warm-<random>`).
 */
import { randomBytes, randomUUID } from "node:crypto";
import {
  CreateFleetCommand,
  CreateTagsCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Tag,
} from "@aws-sdk/client-ec2";
import { DeleteParametersCommand, PutParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import type { Octokit } from "@octokit/core";
import { TAG, runnerParameterName } from "../../contract/names.js";
import type { RuntimePool } from "../../contract/pool.js";
import { gitHubErrorReason, isRetryableGitHubError } from "../shared/github.js";
import {
  buildCreateFleetInput,
  buildFleetOverrides,
  isSpotCapacityError,
  onDemandFallbackCount,
  summarizeFleet,
  type FleetInstance,
  type FleetOutcome,
  type Lifecycle,
} from "./fleet.js";
import type { FailureReason } from "./plan.js";

/** Where runners are registered. */
export type RunnerTarget = { scope: "org"; org: string } | { scope: "repo"; owner: string; repo: string };

export interface RunnerRequest {
  /** The caller's key for this request (the SQS message id for jobs). */
  key: string;
  runnerName: string;
  installationId: number;
  target: RunnerTarget;
  /** Job tags (absent for warm runners). */
  jobId?: number;
  repository?: string;
}

export interface LaunchEnvironment {
  stack: string;
  region: string;
  accountId: string;
  /** "aws", "aws-cn", "aws-us-gov". */
  partition: string;
  subnetIds: string[];
  parameterPrefix: string;
  /** Runner group for org runners; repo runners use the default group 1. */
  runnerGroupId: number;
}

export interface LaunchLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface LaunchDeps {
  ec2: EC2Client;
  ssm: SSMClient;
  /** Installation-authenticated Octokit (`getInstallationOctokit`). */
  octokit(installationId: number): Promise<Octokit>;
  /**
   * The App installation that may register runners at a target, for jobs whose message has none (deliveries from
   * organization or repository webhooks). Cached by the implementation (`getTargetInstallationId`).
   */
  installationFor?(target: RunnerTarget): Promise<number>;
  logger?: LaunchLogger;
  now?: () => number;
}

/** A runner that exists on GitHub and on EC2, with its config in SSM. */
export interface LaunchedRunner {
  key: string;
  runnerName: string;
  runnerId: number;
  instanceId: string;
  lifecycle: Lifecycle;
  installationId: number;
  target: RunnerTarget;
  parameterName: string;
  /** Epoch ms when the fleet call that started the instance returned. */
  fleetLaunchedAt: number;
}

export interface LaunchFailure {
  key: string;
  reason: FailureReason;
  detail: string;
  /** Whether a later attempt may succeed (the message goes back to the queue either way). */
  retryable: boolean;
}

export interface LaunchResult {
  launched: LaunchedRunner[];
  failed: LaunchFailure[];
}

/** `<pool>-<id>-<6 hex>`: unique per attempt, so a redelivered job never collides with its earlier runner. */
export function makeRunnerName(
  pool: string,
  id: number | string,
  random: () => string = () => randomBytes(3).toString("hex"),
): string {
  return `${pool}-${id}-${random()}`;
}

export function instanceArn(
  env: Pick<LaunchEnvironment, "partition" | "region" | "accountId">,
  instanceId: string,
): string {
  return `arn:${env.partition}:ec2:${env.region}:${env.accountId}:instance/${instanceId}`;
}

/** Partition, region and account of a Lambda function's ARN (the invocation context has it: no STS call). */
export function awsIdentityFromArn(arn: string): { partition: string; region: string; accountId: string } {
  const match = /^arn:(aws[a-z-]*):[a-z0-9-]+:([a-z0-9-]+):(\d{12}):/.exec(arn);
  if (!match) throw new Error(`cannot read partition, region and account from ARN ${JSON.stringify(arn)}`);
  return { partition: match[1], region: match[2], accountId: match[3] };
}

const silentLogger: LaunchLogger = { info() {}, warn() {}, error() {} };

function runnersPath(target: RunnerTarget): string {
  return target.scope === "org"
    ? `/orgs/${encodeURIComponent(target.org)}/actions/runners`
    : `/repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(target.repo)}/actions/runners`;
}

interface JitRunner {
  request: RunnerRequest;
  runnerId: number;
  encodedJitConfig: string;
}

async function generateJitConfig(
  pool: RuntimePool,
  request: RunnerRequest,
  env: LaunchEnvironment,
  deps: LaunchDeps,
): Promise<JitRunner> {
  const octokit = await deps.octokit(request.installationId);
  const response = await octokit.request(`POST ${runnersPath(request.target)}/generate-jitconfig`, {
    name: request.runnerName,
    runner_group_id: request.target.scope === "org" ? env.runnerGroupId : 1,
    labels: pool.labels,
    work_folder: "_work",
  });
  const data = response.data as { runner?: { id?: number }; encoded_jit_config?: string };
  if (typeof data.runner?.id !== "number" || typeof data.encoded_jit_config !== "string") {
    throw new Error(`generate-jitconfig answered without runner.id or encoded_jit_config for ${request.runnerName}`);
  }
  return { request, runnerId: data.runner.id, encodedJitConfig: data.encoded_jit_config };
}

/** Deletes runners from GitHub; failures are logged (the reaper removes offline runners later). */
export async function deleteRunners(
  runners: Array<{ runnerId: number; installationId: number; target: RunnerTarget; runnerName: string }>,
  deps: LaunchDeps,
): Promise<void> {
  const logger = deps.logger ?? silentLogger;
  await Promise.all(
    runners.map(async (runner) => {
      try {
        const octokit = await deps.octokit(runner.installationId);
        await octokit.request(`DELETE ${runnersPath(runner.target)}/{runner_id}`, { runner_id: runner.runnerId });
      } catch (error) {
        logger.error("could not delete JIT runner; the reaper will remove it", {
          runnerName: runner.runnerName,
          runnerId: runner.runnerId,
          error: String(error),
        });
      }
    }),
  );
}

/** Terminates instances in one call; a failure is logged (the reaper terminates orphans later). */
async function terminate(instanceIds: string[], deps: LaunchDeps): Promise<void> {
  if (instanceIds.length === 0) return;
  try {
    await deps.ec2.send(new TerminateInstancesCommand({ InstanceIds: instanceIds }));
  } catch (error) {
    (deps.logger ?? silentLogger).error("could not terminate instances; the reaper will", {
      instanceIds,
      error: String(error),
    });
  }
}

/**
 * Undoes launched runners (e.g. FIFO: a message failed before them in their group): terminates the instances,
 * deletes the parameters and the GitHub runners.
 */
export async function rollBackRunners(runners: LaunchedRunner[], deps: LaunchDeps): Promise<void> {
  if (runners.length === 0) return;
  const names = runners.map((r) => r.parameterName);
  await Promise.all([
    terminate(
      runners.map((r) => r.instanceId),
      deps,
    ),
    deleteRunners(runners, deps),
    ...chunk(names, 10).map(async (batch) => {
      try {
        await deps.ssm.send(new DeleteParametersCommand({ Names: batch }));
      } catch (error) {
        (deps.logger ?? silentLogger).error("could not delete runner parameters", {
          names: batch,
          error: String(error),
        });
      }
    }),
  ]);
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function errorCode(error: unknown): string {
  const e = error as { name?: string; Code?: string; code?: string };
  return e?.Code ?? e?.code ?? e?.name ?? "Unknown";
}

async function createFleet(
  pool: RuntimePool,
  count: number,
  lifecycle: Lifecycle,
  tags: Tag[],
  env: LaunchEnvironment,
  deps: LaunchDeps,
): Promise<FleetOutcome> {
  const input = buildCreateFleetInput({
    launchTemplateId: pool.launchTemplateId!,
    overrides: buildFleetOverrides(pool.instanceTypes, env.subnetIds),
    count,
    lifecycle,
    tags,
    clientToken: randomUUID(),
  });
  try {
    return summarizeFleet(await deps.ec2.send(new CreateFleetCommand(input)), lifecycle);
  } catch (error) {
    // Some capacity problems come back as an API error instead of an entry in `Errors`.
    if (lifecycle === "spot" && isSpotCapacityError(errorCode(error)))
      return { instances: [], errors: [{ code: errorCode(error), message: String(error) }] };
    throw error;
  }
}

function fleetTags(pool: RuntimePool, env: LaunchEnvironment, single: RunnerRequest | undefined): Tag[] {
  const tags: Tag[] = [
    { Key: TAG.stack, Value: env.stack },
    { Key: TAG.pool, Value: pool.name },
    { Key: "Name", Value: single?.runnerName ?? `${env.stack}-${pool.name}-runner` },
  ];
  if (single) tags.push(...jobTags(single));
  return tags;
}

/** The per-runner tags (a fleet for several runners gets them afterwards, one `CreateTags` per instance). */
function jobTags(request: RunnerRequest): Tag[] {
  const tags: Tag[] = [{ Key: TAG.runnerName, Value: request.runnerName }];
  if (request.jobId !== undefined) tags.push({ Key: TAG.jobId, Value: String(request.jobId) });
  if (request.repository !== undefined) tags.push({ Key: TAG.repository, Value: request.repository });
  return tags;
}

/** Starts one runner per request for `pool`. Never throws for a per-request problem: it reports it in `failed`. */
export async function launchRunners(
  pool: RuntimePool,
  requests: RunnerRequest[],
  env: LaunchEnvironment,
  deps: LaunchDeps,
): Promise<LaunchResult> {
  const logger = deps.logger ?? silentLogger;
  const now = deps.now ?? Date.now;
  const failed: LaunchFailure[] = [];
  if (requests.length === 0) return { launched: [], failed };
  if (!pool.launchTemplateId) {
    return {
      launched: [],
      failed: requests.map((r) => ({
        key: r.key,
        reason: "fleet-error",
        detail: `pool ${pool.name} has no launch template id`,
        retryable: false,
      })),
    };
  }

  // 1. JIT configs.
  const jitResults = await Promise.allSettled(requests.map((request) => generateJitConfig(pool, request, env, deps)));
  const jitRunners: JitRunner[] = [];
  jitResults.forEach((result, i) => {
    if (result.status === "fulfilled") jitRunners.push(result.value);
    else {
      const retryable = isRetryableGitHubError(result.reason);
      logger.warn("generate-jitconfig failed", {
        runnerName: requests[i].runnerName,
        retryable,
        status: gitHubErrorReason(result.reason),
        error: String(result.reason),
      });
      failed.push({
        key: requests[i].key,
        reason: retryable ? "github-retryable" : "github-permanent",
        detail: String(result.reason),
        retryable,
      });
    }
  });
  if (jitRunners.length === 0) return { launched: [], failed };

  // 2. One fleet (plus an on-demand fallback only after spot capacity errors).
  const tags = fleetTags(pool, env, jitRunners.length === 1 ? jitRunners[0].request : undefined);
  const instances: FleetInstance[] = [];
  const fleetErrors: string[] = [];
  let fleetLaunchedAt = 0;
  try {
    const first = await createFleet(pool, jitRunners.length, pool.spot ? "spot" : "on-demand", tags, env, deps);
    fleetLaunchedAt = now();
    instances.push(...first.instances);
    fleetErrors.push(...first.errors.map((e) => `${e.code}: ${e.message}`));
    const fallback = pool.spot ? onDemandFallbackCount(jitRunners.length, first) : 0;
    if (fallback > 0) {
      logger.info("spot capacity short, falling back to on-demand", {
        pool: pool.name,
        count: fallback,
        errors: first.errors.map((e) => e.code),
      });
      const second = await createFleet(pool, fallback, "on-demand", tags, env, deps);
      fleetLaunchedAt = now();
      instances.push(...second.instances);
      fleetErrors.push(...second.errors.map((e) => `${e.code}: ${e.message}`));
    }
  } catch (error) {
    // Instances from a first (spot) fleet that did succeed still get their configs below.
    logger.error("CreateFleet failed", { pool: pool.name, error: String(error) });
    fleetErrors.push(`${errorCode(error)}: ${String(error)}`);
  }

  // Instances beyond the request count (never expected) are terminated; runners without an instance are deleted.
  const assigned = jitRunners.slice(0, instances.length);
  const surplusRunners = jitRunners.slice(instances.length);
  const extraInstances = instances.slice(jitRunners.length);
  if (surplusRunners.length > 0) {
    const detail = `fleet started ${instances.length} of ${jitRunners.length} instances: ${fleetErrors.join("; ") || "no error reported"}`;
    logger.warn("fleet shortfall: deleting surplus JIT runners", {
      pool: pool.name,
      surplus: surplusRunners.length,
      detail,
    });
    await deleteRunners(
      surplusRunners.map((r) => ({
        ...r,
        installationId: r.request.installationId,
        target: r.request.target,
        runnerName: r.request.runnerName,
      })),
      deps,
    );
    const reason: FailureReason =
      instances.length === 0 && fleetErrors.every((e) => !isSpotCapacityError(e.split(":")[0]))
        ? "fleet-error"
        : "fleet-capacity";
    for (const runner of surplusRunners) failed.push({ key: runner.request.key, reason, detail, retryable: true });
  }
  await terminate(
    extraInstances.map((i) => i.instanceId),
    deps,
  );

  // 3. Parameters (and job tags when the fleet served several runners).
  const needsJobTags = jitRunners.length > 1;
  const finished = await Promise.allSettled(
    assigned.map(async (runner, i) => {
      const instance = instances[i];
      const parameterName = runnerParameterName(env.parameterPrefix, instance.instanceId);
      if (needsJobTags) {
        await deps.ec2.send(
          new CreateTagsCommand({
            Resources: [instance.instanceId],
            Tags: [...jobTags(runner.request), { Key: "Name", Value: runner.request.runnerName }],
          }),
        );
      }
      await deps.ssm.send(
        new PutParameterCommand({
          Name: parameterName,
          Type: "SecureString",
          Value: runner.encodedJitConfig,
          // A JIT config is usually under 4 KB; Intelligent-Tiering moves a larger one to the advanced tier.
          Tier: "Intelligent-Tiering",
          Description: `JIT config of runner ${runner.request.runnerName}`,
          Tags: [
            { Key: TAG.instanceArn, Value: instanceArn(env, instance.instanceId) },
            { Key: TAG.stack, Value: env.stack },
            { Key: TAG.pool, Value: pool.name },
          ],
        }),
      );
      return { parameterName };
    }),
  );
  const launched: LaunchedRunner[] = [];
  const broken: Array<{ runner: JitRunner; instance: FleetInstance; error: unknown }> = [];
  finished.forEach((result, i) => {
    const runner = assigned[i];
    const instance = instances[i];
    if (result.status === "fulfilled") {
      launched.push({
        key: runner.request.key,
        runnerName: runner.request.runnerName,
        runnerId: runner.runnerId,
        instanceId: instance.instanceId,
        lifecycle: instance.lifecycle,
        installationId: runner.request.installationId,
        target: runner.request.target,
        parameterName: result.value.parameterName,
        fleetLaunchedAt,
      });
    } else broken.push({ runner, instance, error: result.reason });
  });
  if (broken.length > 0) {
    logger.error("writing runner parameters failed: terminating those instances", {
      instances: broken.map((b) => b.instance.instanceId),
      errors: broken.map((b) => String(b.error)),
    });
    await Promise.all([
      terminate(
        broken.map((b) => b.instance.instanceId),
        deps,
      ),
      deleteRunners(
        broken.map((b) => ({
          runnerId: b.runner.runnerId,
          installationId: b.runner.request.installationId,
          target: b.runner.request.target,
          runnerName: b.runner.request.runnerName,
        })),
        deps,
      ),
      // A parameter may exist when only the tagging failed.
      ...chunk(
        broken.map((b) => runnerParameterName(env.parameterPrefix, b.instance.instanceId)),
        10,
      ).map((names) => deps.ssm.send(new DeleteParametersCommand({ Names: names })).catch(() => undefined)),
    ]);
    for (const b of broken)
      failed.push({ key: b.runner.request.key, reason: "parameter-error", detail: String(b.error), retryable: true });
  }
  return { launched, failed };
}
