/**
 * Loading the stack configuration: `parseStackConfig` is pure (raw key/value map in, typed object or one
 * `ConfigError` out) so that every bad input can be tested without Pulumi; `loadStackConfig` feeds it from the
 * Pulumi runtime.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, describe, formatIssue } from "./errors";
import { awsRegion, PROJECT } from "./primitives";
import { createdNetworkSchema, type StackConfig, stackConfigSchema } from "./schema";

/**
 * Validates raw config values (already JSON-decoded: objects, numbers, strings) for a stack.
 * `raw` holds the project's keys without the `cirunners:` prefix.
 */
export function parseStackConfig(raw: Record<string, unknown>, stack: string, region: string | undefined): StackConfig {
  const problems: string[] = [];
  if (!region) problems.push(`aws:region: expected an AWS region like eu-west-1, found nothing`);
  else if (!awsRegion.safeParse(region).success)
    problems.push(`aws:region: expected an AWS region like eu-west-1, found ${describe(region)}`);
  // Pulumi.yaml declares optional string keys with an empty default: empty means "not set".
  const given = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== ""));
  const result = stackConfigSchema.safeParse(given, { reportInput: true });
  if (!result.success) problems.push(...result.error.issues.flatMap(formatIssue));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  const parsed = result.data;
  if (parsed.github.scope === "repo") {
    parsed.runners.pools.forEach((pool, i) => {
      // A repository runner serves one repository, so an idle warm runner could not take any job of the pool.
      if (pool.warmPool)
        problems.push(
          `${PROJECT}:runners.pools[${i}].warmPool: warm pools need github.scope "org" (an idle repository runner serves only one repository), found scope "repo"`,
        );
    });
  }
  parsed.codebuild?.regions.forEach((r, i) => {
    const where = `${PROJECT}:codebuild.regions[${i}]`;
    if (r.vpcId === undefined && r.privateSubnetIds !== undefined)
      problems.push(`${where}.vpcId: expected the VPC of the given privateSubnetIds, found nothing`);
    if (r.vpcId !== undefined && r.privateSubnetIds === undefined)
      problems.push(`${where}.privateSubnetIds: expected the private subnets of ${r.vpcId}, found nothing`);
    if (r.vpcId === undefined && r.privateSubnetIds === undefined && r.region !== region) {
      problems.push(
        `${where}.vpcId: expected a VPC id and privateSubnetIds for ${r.region} (only the stack's own region ${region} can use the stack's network), found nothing`,
      );
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  if (parsed.codebuild && !parsed.github.apiUrl.startsWith("https://api.github.com")) {
    throw new ConfigError([
      `${PROJECT}:codebuild: CodeBuild-hosted runners need github.com; found github.apiUrl ${parsed.github.apiUrl}`,
    ]);
  }
  return {
    ...parsed,
    stack,
    region: region as string,
    network: parsed.network ?? createdNetworkSchema.parse({}),
  };
}

/** Decodes a config value the way `Config.getObject` does, keeping plain strings as strings. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Reads and validates the whole stack configuration from the Pulumi runtime. */
export function loadStackConfig(): StackConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = decode(value);
  }
  return parseStackConfig(raw, pulumi.getStack(), new pulumi.Config("aws").get("region"));
}
