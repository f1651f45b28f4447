// Policy pack config the way the Pulumi CLI reconciles and validates it (ReconcilePolicyPackConfig +
// ValidatePolicyPackConfig): schema defaults first, then the given properties, checked against each policy's
// JSON Schema with ajv. Unlike the CLI, which ignores them, config entries naming no policy of the pack are an
// error: a misspelt policy name would otherwise silently leave the intended policy at its default.
import type { EnforcementLevel, Policies, PolicyConfigSchema } from "@pulumi/policy";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";

/** Policy config: an enforcement level, or properties with an optional enforcementLevel. */
export type PolicyConfigValue = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);

export interface ResolvedPolicyConfig {
  enforcementLevel: EnforcementLevel;
  properties: Record<string, unknown>;
}

/** The config key that sets the level of every policy (the CLI's "all"). */
export const ALL_POLICIES_KEY = "all";

const LEVELS: ReadonlySet<string> = new Set(["advisory", "mandatory", "remediate", "disabled"]);

/** Top-level schema defaults (CLI CreateConfigWithDefaults). */
export function schemaDefaults(schema: PolicyConfigSchema | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema?.properties ?? {})) {
    if (prop && typeof prop === "object" && prop.default !== undefined) out[key] = structuredClone(prop.default);
  }
  return out;
}

/** The config's properties without enforcementLevel (what getConfig() returns on top of the defaults). */
export function configProperties(policyConfig: PolicyConfigValue | undefined): Record<string, unknown> {
  if (policyConfig === undefined || typeof policyConfig === "string") return {};
  const { enforcementLevel: _level, ...rest } = policyConfig;
  return rest;
}

// One ajv instance and one compiled validator per schema object: resolving config is then cheap on repeat calls.
const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new WeakMap<PolicyConfigSchema, ValidateFunction>();

function validatorFor(schema: PolicyConfigSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile({ type: "object", properties: schema.properties, required: schema.required });
    compiled.set(schema, validate);
  }
  return validate;
}

/** `policy.key[0]: must be string` — one line per ajv error, naming the policy and the offending key. */
function describe(policy: string, error: ErrorObject): string {
  const where = error.instancePath.replace(/\/(\d+)(?=\/|$)/g, "[$1]").replace(/\//g, ".");
  if (error.keyword === "required") {
    return `Missing required property "${String(error.params.missingProperty)}" for policy "${policy}"`;
  }
  const allowed = error.keyword === "enum" ? ` ${JSON.stringify(error.params.allowedValues)}` : "";
  return `${policy}${where}: ${error.message ?? error.keyword}${allowed}`;
}

/**
 * Resolves every policy's effective enforcement level and config properties (defaults, then "all", then the
 * policy's own config), validating the given config. Throws one error listing every problem, each naming the
 * policy and key, as the CLI refuses to run with invalid config.
 */
export function resolvePolicyConfig(
  policies: Policies,
  config: Record<string, PolicyConfigValue> = {},
  packEnforcementLevel: EnforcementLevel = "mandatory",
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
  const allLevel = levelOf(ALL_POLICIES_KEY, config[ALL_POLICIES_KEY]);
  const known = new Set(policies.map((p) => p.name));
  const unknown = Object.keys(config).filter((name) => name !== ALL_POLICIES_KEY && !known.has(name));
  for (const name of unknown) {
    errors.push(`Unknown policy "${name}": the pack has no policy of that name (see policy/README.md for the list)`);
  }
  const result = new Map<string, ResolvedPolicyConfig>();
  for (const p of policies) {
    const given = config[p.name];
    const level = levelOf(p.name, given) ?? allLevel ?? p.enforcementLevel ?? packEnforcementLevel;
    const properties = { ...schemaDefaults(p.configSchema), ...configProperties(given) };
    if (p.configSchema) {
      const validate = validatorFor(p.configSchema);
      if (!validate(properties)) errors.push(...(validate.errors ?? []).map((e) => describe(p.name, e)));
    }
    result.set(p.name, { enforcementLevel: level, properties });
  }
  if (errors.length > 0) {
    throw new Error(`Invalid policy pack config:\n  ${errors.join("\n  ")}`);
  }
  return result;
}
