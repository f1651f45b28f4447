/** The launcher's settings, read from the environment the component sets (names in `ENV`). */
import { ENV } from "../../contract/names.js";
import type { RuntimePool } from "../../contract/pool.js";
import { awsIdentityFromArn, type LaunchEnvironment } from "./launch.js";

export interface LauncherSettings extends LaunchEnvironment {
  pools: RuntimePool[];
  scope: "org" | "repo";
  /** Organization (or user) that owns the runners. */
  owner: string;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

function jsonArray(env: NodeJS.ProcessEnv, name: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(required(env, name));
  } catch (error) {
    throw new Error(`environment variable ${name} is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) throw new Error(`environment variable ${name} must be a JSON array`);
  return value;
}

function parsePool(value: unknown, index: number): RuntimePool {
  const p = value as Partial<RuntimePool>;
  const where = `${ENV.pools}[${index}]`;
  if (typeof p?.name !== "string" || !p.name) throw new Error(`${where}.name must be a non-empty string`);
  if (!Array.isArray(p.labels) || p.labels.length === 0) throw new Error(`${where}.labels must be a non-empty array`);
  if (!Array.isArray(p.instanceTypes) || p.instanceTypes.length === 0)
    throw new Error(`${where}.instanceTypes must be a non-empty array`);
  if (p.architecture !== "x64" && p.architecture !== "arm64")
    throw new Error(`${where}.architecture must be x64 or arm64`);
  if (!Number.isInteger(p.maxRunners) || (p.maxRunners as number) < 1)
    throw new Error(`${where}.maxRunners must be a positive integer`);
  if (typeof p.launchTemplateId !== "string" || !p.launchTemplateId.startsWith("lt-"))
    throw new Error(`${where}.launchTemplateId must be a launch template id (lt-...)`);
  return {
    name: p.name,
    labels: p.labels,
    instanceTypes: p.instanceTypes,
    architecture: p.architecture,
    maxRunners: p.maxRunners as number,
    spot: p.spot === true,
    launchTemplateId: p.launchTemplateId,
  };
}

/**
 * Reads and checks the launcher's environment. Partition, region and account come from the function's own ARN
 * (the invocation context), so building instance ARNs costs no API call.
 */
export function readLauncherSettings(env: NodeJS.ProcessEnv, functionArn: string): LauncherSettings {
  const pools = jsonArray(env, ENV.pools).map(parsePool);
  const subnetIds = jsonArray(env, ENV.subnetIds);
  if (subnetIds.length === 0 || !subnetIds.every((s) => typeof s === "string" && s.startsWith("subnet-"))) {
    throw new Error(`${ENV.subnetIds} must be a non-empty JSON array of subnet ids`);
  }
  const scope = env[ENV.runnerScope] ?? "org";
  if (scope !== "org" && scope !== "repo")
    throw new Error(`${ENV.runnerScope} must be "org" or "repo", got ${JSON.stringify(scope)}`);
  const rawGroup = env[ENV.runnerGroupId] ?? "1";
  const runnerGroupId = Number(rawGroup);
  if (!Number.isInteger(runnerGroupId) || runnerGroupId < 1)
    throw new Error(`${ENV.runnerGroupId} must be a positive integer, got ${JSON.stringify(rawGroup)}`);
  const identity = awsIdentityFromArn(functionArn);
  return {
    pools,
    scope,
    owner: required(env, ENV.githubOwner),
    stack: required(env, ENV.stack),
    parameterPrefix: required(env, ENV.runnerParameterPrefix),
    subnetIds: subnetIds as string[],
    runnerGroupId,
    ...identity,
  };
}
