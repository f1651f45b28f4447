// Offline policy evaluation: runs the pack's policies over a list of resources the way the Pulumi engine and
// @pulumi/policy 1.21 (server.js) do, without a Pulumi CLI. Used by the offline preview, the tests and the
// benchmarks.
//
// What is mirrored from @pulumi/policy 1.21 / the Pulumi CLI:
//   - effective enforcement level: the policy's config level, then the "all" config level, then the policy's
//     own level, then the pack's; "disabled" skips the policy; "remediate" runs remediations first and
//     reports validation violations as "mandatory" (server.js downgrades them);
//   - policy config: schema defaults filled in, then the given properties (CLI ReconcilePolicyPackConfig),
//     validated against the schema; getConfig() returns the properties without enforcementLevel;
//   - props are deserialised plain JSON wrapped in @pulumi/policy's own unknown-checking proxy (the real one
//     is used), so reading an unknown value throws UnknownValueError; such a throw becomes an advisory
//     "can't run policy ... during preview" diagnostic, exactly like server.js;
//   - args.notApplicable() throws; the policy is recorded as not applicable for that resource/stack;
//   - the engine's fast path for validation functions carrying `__pulumiType`;
//   - reportViolation: the message is `description + "\n" + message`; an object argument overrides fields;
//   - stack policies receive every resource with isType/asType, parent, dependencies, propertyDependencies.
// Any other error thrown by a policy rejects the returned promise, as the engine fails the analysis.
import type {
  EnforcementLevel,
  Policies,
  PolicyConfigSchema,
  PolicyProviderResource,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  Severity,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import * as proxyModule from "@pulumi/policy/proxy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import type { TypeHints } from "./lib/kit";
import { ENGINE_UNKNOWN_SENTINELS, UNKNOWN } from "./lib/unknown";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME, PACK_VERSION } from "./pack";
import { policies as packPolicies } from "./policies";

export { UNKNOWN } from "./lib/unknown";
/** Re-exported so callers outside policy/ (tests, tools) need not resolve @pulumi/policy themselves. */
export type {
  EnforcementLevel,
  Policies,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";

/** The parts of @pulumi/policy's internal proxy module used here (its .d.ts exports nothing). */
interface EngineProxyModule {
  unknownCheckingProxy<T>(toProxy: T): T;
  UnknownValueError: new (...args: never[]) => Error;
}
const engineProxy = proxyModule as unknown as EngineProxyModule;

/** The engine's UnknownValueError class (instances are what reading an unknown through the proxy throws). */
export const UnknownValueError = engineProxy.UnknownValueError;

// ---------------------------------------------------------------------------------------------------------
// Public types

export interface EvalResource {
  /** Pulumi type token, e.g. `aws:iam/role:Role`. */
  type: string;
  /** Pulumi logical name. */
  name: string;
  urn: string;
  /** Inputs (resource policies) / outputs (stack policies). Put `UNKNOWN` where a value is unknown. */
  props: Record<string, unknown>;
  /** Parent URN. */
  parent?: string;
  /** Provider reference (`<provider URN>::<id>`) or provider URN. */
  provider?: string;
  /** URNs this resource depends on. */
  dependencies?: string[];
  /** URNs each top-level property depends on (the engine fills this in; used to resolve unknown references). */
  propertyDependencies?: Record<string, string[]>;
}

export interface Violation {
  policy: string;
  enforcementLevel: "advisory" | "mandatory" | "remediate";
  type: string;
  name: string;
  urn?: string;
  message: string;
  severity?: Severity;
}

export interface NotApplicable {
  policy: string;
  /** The resource for resource policies; undefined for stack policies. */
  urn?: string;
  reason?: string;
}

/** Policy config: an enforcement level, or properties with an optional enforcementLevel. */
export type PolicyConfigValue = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);

export interface EvaluateOptions {
  /** Per-policy config keyed by policy name; the key "all" sets the enforcement level of every policy. */
  config?: Record<string, PolicyConfigValue>;
  stackTags?: Record<string, string> | ReadonlyMap<string, string>;
  /** The pack's default level (default: the pack's own, "mandatory"). */
  packEnforcementLevel?: EnforcementLevel;
  /** Policies to run (default: the full pack). */
  policies?: Policies;
  packName?: string;
  packVersion?: string;
}

export interface EvaluationResult {
  violations: Violation[];
  notApplicable: NotApplicable[];
}

// ---------------------------------------------------------------------------------------------------------
// Engine helpers mirrored from @pulumi/policy 1.21 (policy.js / server.js)

/** Thrown by args.notApplicable(), like server.js's (unexported) NotApplicableError. */
export class NotApplicableError extends Error {
  constructor(public readonly reason?: string) {
    super(reason ?? "Policy does not apply");
  }
}

function throwNotApplicable(reason?: string): never {
  throw new NotApplicableError(reason);
}

/** policy.js getPulumiType. */
function getPulumiType(obj: unknown): string | undefined {
  const t = (obj as { __pulumiType?: unknown } | undefined)?.__pulumiType;
  return typeof t === "string" && t.length > 0 ? t : undefined;
}

/** policy.js isResourcePolicy. */
export function isResourcePolicy(p: unknown): p is ResourceValidationPolicy {
  const policy = p as ResourceValidationPolicy;
  const validation = policy.validateResource;
  if (typeof validation === "function") return true;
  if (Array.isArray(validation)) return validation.every((v) => typeof v === "function");
  return typeof policy.remediateResource === "function";
}

/** policy.js isStackPolicy. */
export function isStackPolicy(p: unknown): p is StackValidationPolicy {
  return typeof (p as StackValidationPolicy).validateStack === "function";
}

/** server.js isTypeOf. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
  const pulumiType = getPulumiType(resourceClass);
  if (pulumiType) return type === pulumiType;
  const isInstance = (resourceClass as { isInstance?: unknown } | undefined)?.isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

/** server.js freezeMap. */
function freezeMap(map: Map<string, string>): ReadonlyMap<string, string> {
  return Object.freeze({
    entries: map.entries.bind(map),
    forEach: map.forEach.bind(map),
    get: map.get.bind(map),
    has: map.has.bind(map),
    keys: map.keys.bind(map),
    size: map.size,
    values: map.values.bind(map),
    [Symbol.iterator]: map[Symbol.iterator].bind(map),
  }) as unknown as ReadonlyMap<string, string>;
}

function toTagMap(tags: Record<string, string> | ReadonlyMap<string, string> | undefined): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  if (
    tags instanceof Map ||
    (tags &&
      typeof (tags as ReadonlyMap<string, string>).forEach === "function" &&
      typeof (tags as ReadonlyMap<string, string>).get === "function")
  ) {
    for (const [k, v] of tags as ReadonlyMap<string, string>) map.set(k, v);
  } else if (tags) {
    for (const [k, v] of Object.entries(tags)) map.set(k, v);
  }
  return freezeMap(map);
}

/**
 * Converts caller props to what the engine sends: plain JSON, `UNKNOWN` replaced by the engine's unknown
 * sentinel (the string sentinel, which is what the engine sends for computed values), undefined properties
 * dropped (deserialize.js), undefined array entries as null.
 */
export function toEngineProperties(props: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props ?? {})) {
    const converted = toEngineValue(v);
    if (converted !== undefined) out[k] = converted;
  }
  return out;
}

function toEngineValue(value: unknown): unknown {
  if (value === UNKNOWN) return ENGINE_UNKNOWN_SENTINELS.string;
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return value;
  if (value === undefined || typeof value === "function" || typeof value === "symbol" || typeof value === "bigint")
    return undefined;
  if (Array.isArray(value)) {
    return value.map((e) => {
      const c = toEngineValue(e);
      return c === undefined ? null : c;
    });
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const c = toEngineValue(v);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

function defaultOptions(parent?: string): PolicyResourceOptions {
  const opts: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
  };
  if (parent) opts.parent = parent;
  return opts;
}

/** Parses `urn:pulumi:stack::project::pulumi:providers:aws::name[::id]` into the engine's provider object. */
function providerResource(ref: string): PolicyProviderResource {
  const parts = ref.split("::");
  const props = engineProxy.unknownCheckingProxy({} as Record<string, unknown>);
  if (parts.length >= 4 && parts[0].startsWith("urn:pulumi:")) {
    const qualifiedType = parts[2];
    return {
      type: qualifiedType.slice(qualifiedType.lastIndexOf("$") + 1),
      props,
      urn: parts.slice(0, 4).join("::"),
      name: parts[3],
    };
  }
  return { type: "", props, urn: ref, name: ref };
}

/** Top-level schema defaults (CLI CreateConfigWithDefaults). */
export function schemaDefaults(schema: PolicyConfigSchema | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema?.properties ?? {})) {
    if (prop && typeof prop === "object" && "default" in prop && prop.default !== undefined) {
      out[key] = structuredClone(prop.default);
    }
  }
  return out;
}

function configProperties(policyConfig: PolicyConfigValue | undefined): Record<string, unknown> {
  if (policyConfig === undefined || typeof policyConfig === "string") return {};
  const rest: Record<string, unknown> = { ...policyConfig };
  delete rest.enforcementLevel;
  return rest;
}

// ---------------------------------------------------------------------------------------------------------
// Argument builders

function makeResourceArgs(
  resource: EvalResource,
  engineProps: Record<string, unknown>,
  properties: Record<string, unknown>,
  stackTags: ReadonlyMap<string, string>,
): ResourceValidationArgs {
  const props = engineProxy.unknownCheckingProxy(engineProps);
  const type = resource.type;
  const args: ResourceValidationArgs = {
    type,
    props,
    urn: resource.urn,
    name: resource.name,
    opts: defaultOptions(resource.parent),
    stackTags,
    isType: (resourceClass) => isTypeOf(type, resourceClass),
    asType: ((resourceClass: unknown) =>
      isTypeOf(type, resourceClass) ? props : undefined) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => ({ ...properties }) as T,
    notApplicable: throwNotApplicable,
  };
  if (resource.provider) args.provider = providerResource(resource.provider);
  return args;
}

/**
 * The ResourceValidationArgs @pulumi/policy 1.21 would build for `resource`: props wrapped in the engine's
 * unknown-checking proxy (reading an `UNKNOWN` throws UnknownValueError), getConfig() returning the schema
 * defaults overlaid with `policyConfig` (without enforcementLevel), notApplicable() throwing
 * NotApplicableError, frozen stackTags, isType/asType, opts and provider.
 */
export function resourceValidationArgs(
  resource: EvalResource,
  policyConfig: PolicyConfigValue = {},
  stackTags: Record<string, string> | ReadonlyMap<string, string> = {},
  configSchema?: PolicyConfigSchema,
): ResourceValidationArgs {
  const properties = { ...schemaDefaults(configSchema), ...configProperties(policyConfig) };
  return makeResourceArgs(resource, toEngineProperties(resource.props), properties, toTagMap(stackTags));
}

function makeStackArgs(
  resources: EvalResource[],
  engineProps: Record<string, unknown>[],
  properties: Record<string, unknown>,
  stackTags: ReadonlyMap<string, string>,
): StackValidationArgs {
  const policyResources: PolicyResource[] = resources.map((r, i) => {
    const props = engineProxy.unknownCheckingProxy(engineProps[i]);
    const type = r.type;
    const pr: PolicyResource = {
      type,
      props,
      urn: r.urn,
      name: r.name,
      opts: defaultOptions(r.parent),
      dependencies: [],
      propertyDependencies: {},
      isType: (resourceClass) => isTypeOf(type, resourceClass),
      asType: ((resourceClass: unknown) =>
        isTypeOf(type, resourceClass) ? props : undefined) as PolicyResource["asType"],
    };
    if (r.provider) pr.provider = providerResource(r.provider);
    return pr;
  });
  const byUrn = new Map<string, PolicyResource>();
  for (const pr of policyResources) byUrn.set(pr.urn, pr);
  resources.forEach((r, i) => {
    const pr = policyResources[i];
    if (r.parent) {
      const parent = byUrn.get(r.parent);
      if (parent) pr.parent = parent;
    }
    pr.dependencies = (r.dependencies ?? [])
      .map((d) => byUrn.get(d))
      .filter((d): d is PolicyResource => d !== undefined);
    for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
      pr.propertyDependencies[k] = urns.map((d) => byUrn.get(d)).filter((d): d is PolicyResource => d !== undefined);
    }
  });
  return {
    resources: policyResources,
    getConfig: <T extends object>() => ({ ...properties }) as T,
    stackTags,
    notApplicable: throwNotApplicable,
  };
}

/** The StackValidationArgs @pulumi/policy 1.21 would build for these resources (see resourceValidationArgs). */
export function stackValidationArgs(
  resources: EvalResource[],
  policyConfig: PolicyConfigValue = {},
  stackTags: Record<string, string> | ReadonlyMap<string, string> = {},
  configSchema?: PolicyConfigSchema,
): StackValidationArgs {
  const properties = { ...schemaDefaults(configSchema), ...configProperties(policyConfig) };
  return makeStackArgs(
    resources,
    resources.map((r) => toEngineProperties(r.props)),
    properties,
    toTagMap(stackTags),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Policy config (CLI ReconcilePolicyPackConfig + ValidateConfig)

const LEVELS: ReadonlySet<string> = new Set(["advisory", "mandatory", "remediate", "disabled"]);

export interface ResolvedPolicyConfig {
  enforcementLevel: EnforcementLevel;
  properties: Record<string, unknown>;
}

function typeOfJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** A JSON Schema subset (type, enum, const, items, properties, additionalProperties, required, bounds, pattern). */
export function validateJsonSchema(value: unknown, schema: PolicyConfigJSONSchema | boolean, path: string): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: no value is allowed here`];
  const errors: string[] = [];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const actual = typeOfJson(value);
    const ok = types.some((t) => t === actual || (t === "number" && actual === "integer"));
    if (!ok) return [`${path}: expected ${types.join(" or ")}, got ${actual}`];
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    errors.push(`${path}: must be one of ${JSON.stringify(schema.enum)}`);
  if (schema.const !== undefined && JSON.stringify(schema.const) !== JSON.stringify(value))
    errors.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: must be <= ${schema.maximum}`);
  }
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      errors.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      errors.push(`${path}: longer than ${schema.maxLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value))
      errors.push(`${path}: does not match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      errors.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      errors.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.items !== undefined && !Array.isArray(schema.items)) {
      const items = schema.items;
      value.forEach((v, i) => {
        errors.push(...validateJsonSchema(v, items, `${path}[${i}]`));
      });
    }
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const req of schema.required ?? [])
      if (!(req in obj)) errors.push(`${path}: missing required property "${req}"`);
    for (const [k, v] of Object.entries(obj)) {
      const propSchema = schema.properties?.[k];
      if (propSchema !== undefined) errors.push(...validateJsonSchema(v, propSchema, `${path}.${k}`));
      else if (schema.additionalProperties !== undefined)
        errors.push(...validateJsonSchema(v, schema.additionalProperties, `${path}.${k}`));
    }
  }
  return errors;
}

/**
 * Resolves every policy's effective enforcement level and config properties (defaults, then "all", then the
 * policy's own config), validating the given config. Throws on invalid config, as the CLI refuses to run.
 */
export function resolvePolicyConfig(
  policies: Policies,
  config: Record<string, PolicyConfigValue> = {},
  packEnforcementLevel: EnforcementLevel = PACK_ENFORCEMENT_LEVEL,
): Map<string, ResolvedPolicyConfig> {
  const errors: string[] = [];
  const levelOf = (name: string, value: PolicyConfigValue | undefined): EnforcementLevel | undefined => {
    const level = typeof value === "string" ? value : value?.enforcementLevel;
    if (level !== undefined && !LEVELS.has(level)) {
      errors.push(`Value "${String(level)}" for "${name}" is not a valid enforcement level`);
      return undefined;
    }
    return level;
  };
  const allLevel = levelOf("all", config.all);
  const known = new Set(policies.map((p) => p.name));
  for (const name of Object.keys(config)) {
    if (name !== "all" && !known.has(name)) levelOf(name, config[name]); // still validate the level
  }
  const result = new Map<string, ResolvedPolicyConfig>();
  for (const p of policies) {
    const given = config[p.name];
    const level = levelOf(p.name, given) ?? allLevel ?? p.enforcementLevel ?? packEnforcementLevel;
    const givenProps = configProperties(given);
    for (const req of p.configSchema?.required ?? []) {
      if (!(req in givenProps)) errors.push(`Missing required property "${req}" for policy "${p.name}"`);
    }
    const properties = { ...schemaDefaults(p.configSchema), ...givenProps };
    if (p.configSchema) {
      const schema: PolicyConfigJSONSchema = {
        type: "object",
        properties: p.configSchema.properties,
        required: p.configSchema.required,
      };
      errors.push(...validateJsonSchema(properties, schema, p.name));
    }
    result.set(p.name, { enforcementLevel: level, properties });
  }
  if (errors.length > 0) {
    throw new Error(`Invalid policy pack config:\n  ${errors.join("\n  ")}`);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation

type Diagnostic = Violation;

function makeReportViolation(
  policy: { name: string; description: string; severity?: Severity },
  level: EnforcementLevel,
  out: Diagnostic[],
  locate: (urn: string | undefined) => { type: string; name: string; urn?: string },
): ReportViolation {
  return ((message: unknown, urn?: string) => {
    if (message !== null && typeof message === "object") {
      // server.js accepts an object with policy info overrides.
      const info = message as {
        name?: string;
        message?: string;
        description?: string;
        urn?: string;
        enforcementLevel?: EnforcementLevel;
        severity?: Severity;
      };
      const where = locate(info.urn);
      out.push({
        policy: info.name || policy.name,
        enforcementLevel: (info.enforcementLevel || level) as Violation["enforcementLevel"],
        ...where,
        message: info.message || info.description || policy.description,
        severity: info.severity || policy.severity,
      });
      return;
    }
    let text = policy.description;
    if (message) text += `\n${String(message)}`;
    out.push({
      policy: policy.name,
      enforcementLevel: level as Violation["enforcementLevel"],
      ...locate(urn),
      message: text,
      severity: policy.severity,
    });
  }) as ReportViolation;
}

/** Runs every policy (resource and stack) over the resources and returns violations and not-applicable records. */
export async function evaluateDetailed(
  resources: EvalResource[],
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const policies = options.policies ?? packPolicies;
  const packName = options.packName ?? PACK_NAME;
  const packVersion = options.packVersion ?? PACK_VERSION;
  const resolved = resolvePolicyConfig(
    policies,
    options.config ?? {},
    options.packEnforcementLevel ?? PACK_ENFORCEMENT_LEVEL,
  );
  const stackTags = toTagMap(options.stackTags);
  const violations: Violation[] = [];
  const notApplicable: NotApplicable[] = [];
  const policyFrom = (name: string, kind = "policy") =>
    `${kind} '${name}' from policy pack '${packName}@v${packVersion}'`;

  const handle = (
    e: unknown,
    p: { name: string; description: string; severity?: Severity },
    where: { type: string; name: string; urn?: string },
    urn: string | undefined,
    what: string,
    kind = "policy",
  ): void => {
    if (e instanceof engineProxy.UnknownValueError) {
      violations.push({
        policy: p.name,
        enforcementLevel: "advisory",
        ...where,
        message: `can't run ${policyFrom(p.name, kind)} during preview: ${(e as Error).message}`,
        severity: p.severity,
      });
    } else if (e instanceof NotApplicableError) {
      notApplicable.push({ policy: p.name, urn, reason: e.reason });
    } else {
      const verb = kind === "remediation" ? "remediating" : "validating";
      const err = new Error(
        `Error ${verb} ${what} with ${policyFrom(p.name, kind)}: ${(e as Error)?.message ?? String(e)}`,
      );
      (err as Error & { cause?: unknown }).cause = e;
      throw err;
    }
  };

  const engineProps: Record<string, unknown>[] = [];
  // Per-policy data computed once (levels, validation lists, type filters) so the per-resource loop stays cheap.
  const resourcePolicies = policies.filter(isResourcePolicy).map((p) => {
    const cfg = resolved.get(p.name)!;
    const validations: ResourceValidation[] =
      p.validateResource === undefined
        ? []
        : Array.isArray(p.validateResource)
          ? p.validateResource
          : [p.validateResource];
    return {
      p,
      cfg,
      validations,
      pulumiType: Array.isArray(p.validateResource) ? undefined : getPulumiType(p.validateResource),
      hints: validations.map((v) => {
        const h = v as ResourceValidation & TypeHints;
        return h.__pulumiTypes ? { types: new Set(h.__pulumiTypes), reason: h.__notApplicableReason } : undefined;
      }),
    };
  });

  for (const resource of resources) {
    let props = toEngineProperties(resource.props);
    const where = { type: resource.type, name: resource.name, urn: resource.urn };

    // Remediations run before validations (the engine's Remediate call precedes Analyze).
    for (const { p, cfg } of resourcePolicies) {
      if (cfg.enforcementLevel !== "remediate" || typeof p.remediateResource !== "function") continue;
      const pt = getPulumiType(p.remediateResource);
      if (pt && pt !== resource.type) {
        notApplicable.push({
          policy: p.name,
          urn: resource.urn,
          reason: `Policy only applies to resources of type '${pt}'`,
        });
        continue;
      }
      try {
        const result = await Promise.resolve(
          p.remediateResource(makeResourceArgs(resource, props, cfg.properties, stackTags)),
        );
        if (result) props = toEngineProperties(JSON.parse(JSON.stringify(result)) as Record<string, unknown>);
      } catch (e) {
        handle(e, p, where, resource.urn, "resource", "remediation");
      }
    }
    engineProps.push(props);

    for (const { p, cfg, validations, pulumiType, hints } of resourcePolicies) {
      let level = cfg.enforcementLevel;
      if (level === "disabled") continue;
      if (!p.validateResource) {
        notApplicable.push({ policy: p.name, urn: resource.urn, reason: "Policy does not implement validateResource" });
        continue;
      }
      if (level === "remediate") level = "mandatory";
      if (pulumiType && pulumiType !== resource.type) {
        notApplicable.push({
          policy: p.name,
          urn: resource.urn,
          reason: `Policy only applies to resources of type '${pulumiType}'`,
        });
        continue;
      }
      let report: ReportViolation | undefined;
      for (let i = 0; i < validations.length; i++) {
        const hint = hints[i];
        if (hint && !hint.types.has(resource.type)) {
          // Same outcome as calling it: the function would throw notApplicable with this reason.
          notApplicable.push({ policy: p.name, urn: resource.urn, reason: hint.reason });
          continue;
        }
        report ??= makeReportViolation(p, level, violations, () => where);
        try {
          await Promise.resolve(validations[i](makeResourceArgs(resource, props, cfg.properties, stackTags), report));
        } catch (e) {
          handle(e, p, where, resource.urn, "resource");
        }
      }
    }
  }

  const byUrn = new Map<string, EvalResource>();
  for (const r of resources) byUrn.set(r.urn, r);
  const locate = (urn: string | undefined) => {
    const r = urn !== undefined ? byUrn.get(urn) : undefined;
    return r ? { type: r.type, name: r.name, urn } : { type: "pulumi:pulumi:Stack", name: "", urn };
  };
  for (const p of policies) {
    if (!isStackPolicy(p)) continue;
    const cfg = resolved.get(p.name)!;
    let level = cfg.enforcementLevel;
    if (level === "disabled") continue;
    if (level === "remediate") level = "mandatory";
    const pt = getPulumiType(p.validateStack);
    if (pt && !resources.some((r) => r.type === pt)) {
      notApplicable.push({ policy: p.name, reason: `Policy only applies to resources of type '${pt}'` });
      continue;
    }
    const report = makeReportViolation(p, level, violations, locate);
    try {
      await Promise.resolve(p.validateStack(makeStackArgs(resources, engineProps, cfg.properties, stackTags), report));
    } catch (e) {
      handle(e, p, locate(undefined), undefined, "resource");
    }
  }
  return { violations, notApplicable };
}

/** Runs every policy in `policies` (resource and stack policies) the way the engine does; returns the violations. */
export async function evaluate(resources: EvalResource[], options: EvaluateOptions = {}): Promise<Violation[]> {
  return (await evaluateDetailed(resources, options)).violations;
}
