/**
 * Runs the real Pulumi program under Pulumi's mocks with a stack's configuration and collects every resource it
 * declares, then evaluates the policy pack over them. No AWS account and no Pulumi CLI are involved.
 *
 * The Pulumi runtime is process-global: run one preview per process (the CLI does).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseYaml, YAMLParseError } from "yaml";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, settleRegistrations, type RecordedResource } from "../../testkit/pulumi-mocks";
import { fromWire } from "../../testkit/wire";

export interface PreviewResource {
  /** Pulumi type token. */
  type: string;
  name: string;
  urn: string;
  /** URN of the parent resource; undefined for the stack's direct children. */
  parent?: string;
  /** Inputs as `pulumi up` would send them; secrets shown as "[secret]". */
  inputs: Record<string, unknown>;
}

export interface PreviewViolation {
  policy: string;
  enforcementLevel: string;
  type: string;
  name: string;
  urn?: string;
  message: string;
}

export interface PreviewResult {
  stack: string;
  project: string;
  resources: PreviewResource[];
  violations: PreviewViolation[];
  /** The program's stack outputs as far as the mocks resolve them (undefined: known only after deployment). */
  outputs?: Record<string, unknown>;
}

export interface PreviewOptions {
  stack: string;
  /** Directory holding Pulumi.yaml and the stack files (default: the repository root). */
  projectDir?: string;
  /** Program entry (default: package.json's `main`, as the Pulumi CLI's Node.js host picks it). */
  program?: string;
  /** Stack file (default: Pulumi.<stack>.yaml in projectDir). */
  stackFile?: string;
  /** Policy config, as `pulumi preview --policy-pack-config` takes it: { "<policy>": { enforcementLevel, ... } }. */
  policyConfig?: Record<string, Record<string, unknown>>;
}

/** A stack or project file problem: named key, what was found. */
export class PreviewInputError extends Error {}

/** Parses a YAML file; a syntax error names the file, line and column instead of throwing the parser's trace. */
function readYaml(file: string): unknown {
  try {
    return parseYaml(fs.readFileSync(file, "utf8"));
  } catch (error) {
    if (!(error instanceof YAMLParseError)) throw error;
    const where = error.linePos ? `:${error.linePos[0].line}:${error.linePos[0].col}` : "";
    // The parser's message repeats the offending line with a caret under it: keep only its first line.
    throw new PreviewInputError(`${path.basename(file)}${where}: YAML syntax error: ${error.message.split("\n")[0]}`);
  }
}

function stringifyConfigValue(key: string, value: unknown, file: string): string {
  if (value !== null && typeof value === "object" && !Array.isArray(value) && "secure" in (value as object)) {
    throw new PreviewInputError(
      `${file}: ${key} is an encrypted secret, which the offline preview cannot decrypt; keep secrets in AWS and name them in config`,
    );
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

function qualify(key: string, project: string): string {
  return key.includes(":") ? key : `${project}:${key}`;
}

/** Reads Pulumi.yaml defaults and the stack file into the flat `namespace:key` → string map the runtime uses. */
export function readStackConfig(
  projectDir: string,
  stack: string,
  stackFile?: string,
): { project: string; config: Record<string, string> } {
  const projectFile = path.join(projectDir, "Pulumi.yaml");
  if (!fs.existsSync(projectFile)) throw new PreviewInputError(`no Pulumi.yaml in ${projectDir}`);
  const project = readYaml(projectFile) as {
    name?: string;
    config?: Record<string, unknown>;
  };
  if (!project?.name) throw new PreviewInputError(`${projectFile}: expected a project name`);
  const config: Record<string, string> = {};
  for (const [key, spec] of Object.entries(project.config ?? {})) {
    const declared = spec as { default?: unknown; value?: unknown } | null;
    const value = declared && typeof declared === "object" ? (declared.value ?? declared.default) : declared;
    if (value !== undefined && value !== null)
      config[qualify(key, project.name)] = stringifyConfigValue(key, value, projectFile);
  }
  const file = stackFile ?? path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    const stacks = fs
      .readdirSync(projectDir)
      .filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))
      .map((f) => f.split(".")[1]);
    throw new PreviewInputError(`no stack file ${path.basename(file)}; stacks here: ${stacks.join(", ") || "none"}`);
  }
  const stackDoc = (readYaml(file) ?? {}) as { config?: Record<string, unknown> };
  for (const [key, value] of Object.entries(stackDoc.config ?? {})) {
    config[qualify(key, project.name)] = stringifyConfigValue(key, value, file);
  }
  return { project: project.name, config };
}

/** The policy pack's evaluator, loaded lazily so that a preview of resources alone never needs it. */
async function evaluatePolicies(
  resources: RecordedResource[],
  policyConfig: PreviewOptions["policyConfig"],
): Promise<PreviewViolation[]> {
  const { evaluate, UNKNOWN } = await import("../../policy/evaluate");
  const evalResources = resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    parent: r.parentUrn,
    provider: r.provider,
    dependencies: r.dependencies,
    propertyDependencies: r.propertyDependencies,
    props: fromWire(r.wireInputs, { secrets: "reveal", unknown: UNKNOWN }) as Record<string, unknown>,
  }));
  const violations = await evaluate(evalResources, { config: policyConfig as never });
  return violations.map((v) => ({
    policy: v.policy,
    enforcementLevel: v.enforcementLevel,
    type: v.type,
    name: v.name,
    urn: v.urn,
    message: v.message,
  }));
}

/**
 * Validates the policy config before the program runs: the pack's evaluator rejects unknown policy names and bad
 * levels or properties (as `pulumi preview --policy-pack-config` does); evaluating no resources checks only that.
 */
export async function checkPolicyConfig(policyConfig: PreviewOptions["policyConfig"]): Promise<void> {
  if (policyConfig === undefined) return;
  const { evaluate } = await import("../../policy/evaluate");
  try {
    await evaluate([], { config: policyConfig as never });
  } catch (error) {
    const message = (error as Error).message.replace(/^Invalid policy pack config:\s*/, "");
    throw new PreviewInputError(`--policy-config: ${message.split(/\n\s*/).join("; ")}`);
  }
}

/** Resolves the program's exports (Outputs, possibly nested) to plain values; unknowns become undefined. */
async function stackOutputs(exports: Record<string, unknown>): Promise<Record<string, unknown>> {
  const entries = await Promise.all(
    Object.entries(exports)
      .filter(([name]) => name !== "default" && name !== "__esModule")
      .map(async ([name, value]) => {
        // A value the mocks leave unknown never reaches apply: give up on it after a moment.
        const resolved = await Promise.race([
          new Promise<unknown>((resolve) =>
            (pulumi.output(value as pulumi.Input<object>) as pulumi.Output<unknown>).apply((v) => resolve(v)),
          ),
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 2000).unref()),
        ]);
        return [name, resolved] as const;
      }),
  );
  return Object.fromEntries(entries);
}

/** Runs the program offline and evaluates the policy pack. Throws PreviewInputError or the program's own error. */
export async function runOfflinePreview(options: PreviewOptions): Promise<PreviewResult> {
  const projectDir = path.resolve(options.projectDir ?? path.join(__dirname, "..", ".."));
  const { project, config } = readStackConfig(projectDir, options.stack, options.stackFile);
  await checkPolicyConfig(options.policyConfig);
  const region = config["aws:region"] ?? "us-east-1";

  pulumi.runtime.setAllConfig(config);
  const { recorded } = await installMocks({ region, stack: options.stack, project });

  const programErrors: unknown[] = [];
  const onRejection = (reason: unknown) => programErrors.push(reason);
  process.on("unhandledRejection", onRejection);
  let exports: Record<string, unknown> = {};
  try {
    const program = path.resolve(projectDir, options.program ?? programEntry(projectDir));
    const module = (await import(pathToFileURL(program).href)) as Record<string, unknown>;
    // A CommonJS program's exports are on `default` (its module.exports).
    exports = (module.default as Record<string, unknown> | undefined) ?? module;
    await settleRegistrations(recorded);
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  if (programErrors.length > 0) throw programErrors[0];

  const resources: PreviewResource[] = recorded.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    parent: r.parentUrn,
    inputs: fromWire(r.wireInputs, { secrets: "mask", unknown: "[unknown]" }) as Record<string, unknown>,
  }));
  const violations = await evaluatePolicies(recorded, options.policyConfig);
  return { stack: options.stack, project, resources, violations, outputs: await stackOutputs(exports) };
}

/** The entry point the Pulumi CLI runs: package.json's `main`, else index.ts. */
function programEntry(projectDir: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as { main?: string };
  return manifest.main ?? "index.ts";
}
