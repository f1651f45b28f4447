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
import type { EnforcementLevel, Policies, ResourceValidation } from "@pulumi/policy";
import { Diagnostics, isThenable, type NotApplicable, type Violation, type Where } from "./lib/diagnostics";
import {
  configGetter,
  type EvalResource,
  getPulumiType,
  isResourcePolicy,
  isStackPolicy,
  makeResourceArgs,
  type ResourceView,
  resourceView,
  stackArgs,
  stackResources,
  toEngineProperties,
  toTagMap,
  viewArgs,
} from "./lib/engine";
import type { TypeHints } from "./lib/kit";
import { type PolicyConfigValue, resolvePolicyConfig } from "./lib/policy-config";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME, PACK_VERSION } from "./pack";
import { policies as packPolicies } from "./policies";

export type { NotApplicable, Violation } from "./lib/diagnostics";
export {
  type EvalResource,
  isResourcePolicy,
  isStackPolicy,
  NotApplicableError,
  resourceValidationArgs,
  stackValidationArgs,
  toEngineProperties,
  UnknownValueError,
} from "./lib/engine";
export {
  type PolicyConfigValue,
  type ResolvedPolicyConfig,
  resolvePolicyConfig,
  schemaDefaults,
} from "./lib/policy-config";
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
// Evaluation

const typeReason = (pulumiType: string) => `Policy only applies to resources of type '${pulumiType}'`;

/** Runs every policy (resource and stack) over the resources and returns violations and not-applicable records. */
export function evaluateDetailed(resources: EvalResource[], options: EvaluateOptions = {}): Promise<EvaluationResult> {
  return run(resources, options, true).then((d) => ({
    violations: d.violations,
    notApplicable: d.notApplicable ?? [],
  }));
}

/** Runs every policy in `policies` (resource and stack policies) the way the engine does; returns the violations. */
export async function evaluate(resources: EvalResource[], options: EvaluateOptions = {}): Promise<Violation[]> {
  return (await run(resources, options, false)).violations;
}

async function run(resources: EvalResource[], options: EvaluateOptions, records: boolean): Promise<Diagnostics> {
  const policies = options.policies ?? packPolicies;
  const resolved = resolvePolicyConfig(
    policies,
    options.config ?? {},
    options.packEnforcementLevel ?? PACK_ENFORCEMENT_LEVEL,
  );
  const stackTags = toTagMap(options.stackTags);
  const out = new Diagnostics(options.packName ?? PACK_NAME, options.packVersion ?? PACK_VERSION, records);
  // The resource being analysed: resource policies report on it (see Diagnostics.reporter).
  let where: Where = { type: "", name: "" };
  const here = () => where;

  // Per-policy data computed once (level, config getter, reporter, validations, type filters), so the
  // per-resource loop only allocates the args of the policies that apply.
  const plans = policies.filter(isResourcePolicy).map((p) => {
    const cfg = resolved.get(p.name)!;
    const validations: ResourceValidation[] =
      p.validateResource === undefined
        ? []
        : Array.isArray(p.validateResource)
          ? p.validateResource
          : [p.validateResource];
    const level = cfg.enforcementLevel === "remediate" ? "mandatory" : cfg.enforcementLevel;
    return {
      p,
      properties: cfg.properties,
      remediate: cfg.enforcementLevel === "remediate" && typeof p.remediateResource === "function",
      disabled: cfg.enforcementLevel === "disabled",
      getConfig: configGetter(cfg.properties),
      report: out.reporter(p, level, here),
      validations,
      pulumiType: Array.isArray(p.validateResource) ? undefined : getPulumiType(p.validateResource),
      hints: validations.map((v) => {
        const h = v as ResourceValidation & TypeHints;
        return h.__pulumiTypes ? { types: new Set(h.__pulumiTypes), reason: h.__notApplicableReason } : undefined;
      }),
    };
  });
  const remediations = plans.filter((plan) => plan.remediate);

  const engineProps: Record<string, unknown>[] = [];
  for (const resource of resources) {
    let props = toEngineProperties(resource.props);
    where = { type: resource.type, name: resource.name, urn: resource.urn };

    // Remediations run before validations (the engine's Remediate call precedes Analyze).
    for (const { p, properties } of remediations) {
      const pt = getPulumiType(p.remediateResource);
      if (pt && pt !== resource.type) {
        out.markNotApplicable(p.name, resource.urn, typeReason(pt));
        continue;
      }
      try {
        const result = await Promise.resolve(
          p.remediateResource!(makeResourceArgs(resource, props, properties, stackTags)),
        );
        if (result) props = toEngineProperties(JSON.parse(JSON.stringify(result)) as Record<string, unknown>);
      } catch (e) {
        out.fail(e, p, where, resource.urn, "resource", true);
      }
    }
    engineProps.push(props);

    let view: ResourceView | undefined;
    for (const { p, disabled, getConfig, report, validations, pulumiType, hints } of plans) {
      if (disabled) continue;
      if (!p.validateResource) {
        out.markNotApplicable(p.name, resource.urn, "Policy does not implement validateResource");
        continue;
      }
      if (pulumiType && pulumiType !== resource.type) {
        out.markNotApplicable(p.name, resource.urn, typeReason(pulumiType));
        continue;
      }
      for (let i = 0; i < validations.length; i++) {
        const hint = hints[i];
        if (hint && !hint.types.has(resource.type)) {
          // Same outcome as calling it: the function would throw notApplicable with this reason.
          out.markNotApplicable(p.name, resource.urn, hint.reason);
          continue;
        }
        view ??= resourceView(resource, props);
        try {
          const result = validations[i](viewArgs(view, getConfig, stackTags), report);
          if (isThenable(result)) await result;
        } catch (e) {
          out.fail(e, p, where, resource.urn, "resource");
        }
      }
    }
  }

  const byUrn = new Map<string, EvalResource>();
  for (const r of resources) byUrn.set(r.urn, r);
  const locate = (urn: string | undefined): Where => {
    const r = urn !== undefined ? byUrn.get(urn) : undefined;
    return r ? { type: r.type, name: r.name, urn } : { type: "pulumi:pulumi:Stack", name: "", urn };
  };
  let stack: ReturnType<typeof stackResources> | undefined;
  for (const p of policies) {
    if (!isStackPolicy(p)) continue;
    const cfg = resolved.get(p.name)!;
    if (cfg.enforcementLevel === "disabled") continue;
    const pt = getPulumiType(p.validateStack);
    if (pt && !resources.some((r) => r.type === pt)) {
      out.markNotApplicable(p.name, undefined, typeReason(pt));
      continue;
    }
    const level = cfg.enforcementLevel === "remediate" ? "mandatory" : cfg.enforcementLevel;
    stack ??= stackResources(resources, engineProps);
    try {
      const result = p.validateStack(
        stackArgs(stack, configGetter(cfg.properties), stackTags),
        out.reporter(p, level, locate),
      );
      if (isThenable(result)) await result;
    } catch (e) {
      out.fail(e, p, locate(undefined), undefined, "resource");
    }
  }
  return out;
}
