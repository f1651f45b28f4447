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
import type { EnforcementLevel, Policies, ReportViolation, ResourceValidation, Severity } from "@pulumi/policy";
import {
  type EvalResource,
  getPulumiType,
  isResourcePolicy,
  isStackPolicy,
  makeResourceArgs,
  makeStackArgs,
  NotApplicableError,
  toEngineProperties,
  toTagMap,
  UnknownValueError,
} from "./lib/engine";
import type { TypeHints } from "./lib/kit";
import { type PolicyConfigValue, resolvePolicyConfig } from "./lib/policy-config";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME, PACK_VERSION } from "./pack";
import { policies as packPolicies } from "./policies";

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
    if (e instanceof UnknownValueError) {
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
