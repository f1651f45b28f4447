/**
 * The checked-in stack files (`Pulumi.<stack>.yaml`) as the program sees them: `loadStackConfig` in
 * program/config/load.ts takes the project's keys without their `cirunners:` prefix, the AWS region and the
 * `github:owner` key, and hands them to `parseStackConfig`. This reads the same keys from the file, so tests of the
 * config, the components and the stack previews all read a stack file one way.
 *
 * YAML already yields decoded values (objects, numbers, strings), which is what load.ts's JSON decoding of
 * Pulumi's string-encoded config produces, so no decoding happens here.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import type { ParseContext, StackConfig } from "../program/config";

const ROOT = path.resolve(__dirname, "..");

/** A stack file's inputs to `parseStackConfig`. */
export interface StackFile {
  /** The project's keys without the `cirunners:` prefix, as load.ts passes them. */
  raw: Record<string, unknown>;
  /** `aws:region`. */
  region: string;
  /** `github:owner`, which the config's cross checks compare with `github.owner`. */
  context: ParseContext;
}

// The config module imports @pulumi/pulumi, which must see a test's mocks first: required when called, not at load.
function configModule(): typeof import("../program/config") {
  return require("../program/config");
}

/** Reads `Pulumi.<stack>.yaml` at the repository root. */
export function readStackFile(stack: string): StackFile {
  const { PROJECT } = configModule();
  const config = parseYaml(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config as Record<
    string,
    unknown
  >;
  const prefix = `${PROJECT}:`;
  const raw = Object.fromEntries(
    Object.entries(config)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
  const githubOwner = config["github:owner"] as string | undefined;
  return { raw, region: config["aws:region"] as string, context: { githubOwner } };
}

/** `Pulumi.<stack>.yaml` parsed and validated exactly as the program does at start-up. */
export function loadStackFile(stack: string): StackConfig {
  const { raw, region, context } = readStackFile(stack);
  return configModule().parseStackConfig(raw, stack, region, context);
}
