/**
 * Loading the stack configuration: `parseStackConfig` is pure (raw key/value map in, typed object or one
 * `ConfigError` out) so that every bad input can be tested without Pulumi; `loadStackConfig` feeds it from the
 * Pulumi runtime.
 */
import { bakedDiskIssues } from "../runner-images/config";
import * as pulumi from "@pulumi/pulumi";
import { crossChecks, mixesNetworkModes } from "./checks";
import { ConfigError, formatIssue } from "./errors";
import { PROJECT } from "./primitives";
import { createdNetworkSchema, type StackConfig, stackConfigSchema } from "./schema";

/** What the parser knows besides the project's keys. */
export interface ParseContext {
  /** `github:owner`, the GitHub provider's owner, when the stack file sets it. */
  githubOwner?: string;
  /** The stack file messages name; default `Pulumi.<stack>.yaml`. */
  file?: string;
}

/**
 * Validates raw config values (already JSON-decoded: objects, numbers, strings) for a stack.
 * `raw` holds the project's keys without the `cirunners:` prefix. The schema and the checks across keys run
 * together, so one run reports every problem.
 */
export function parseStackConfig(
  raw: Record<string, unknown>,
  stack: string,
  region: string | undefined,
  context: ParseContext = {},
): StackConfig {
  const file = context.file ?? `Pulumi.${stack}.yaml`;
  // Pulumi.yaml declares optional string keys with an empty default: empty means "not set".
  const given = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== ""));
  const result = stackConfigSchema.safeParse(given, { reportInput: true });
  // A network with keys of both modes matches neither branch: the cross check says why, instead of "unknown key".
  const mixed = mixesNetworkModes(given);
  const schemaIssues = result.success
    ? []
    : result.error.issues.filter((issue) => !(mixed && issue.path[0] === "network"));
  const problems = [
    ...crossChecks(given, { stack, region, githubOwner: context.githubOwner, file }),
    ...schemaIssues.flatMap(formatIssue),
  ];
  // Checks that need the defaults filled in (a pool's disk against the baked image's volume) run on the parsed config.
  if (result.success) problems.push(...bakedDiskIssues(result.data.runners.pools, result.data.runnerImages));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems, file);
  const parsed = result.data;
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
  const prefix = `${PROJECT}:`;
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = decode(value);
  }
  return parseStackConfig(raw, pulumi.getStack(), new pulumi.Config("aws").get("region"), {
    githubOwner: new pulumi.Config("github").get("owner"),
  });
}
