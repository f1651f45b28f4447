// Small helpers to define the pack's resource and stack policies uniformly.
import type {
  EnforcementLevel,
  PolicyConfigSchema,
  PolicyResource,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  Severity,
  StackValidation,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { checkExemption, EXEMPTION_CONFIG_SCHEMA, type ExemptionConfig, stackTagExemption } from "./exemptions";
import { unwrapProxy } from "./unknown";

export interface PolicyInfo {
  /** `aws-<service>-<resource>-<rule>`. */
  name: string;
  description: string;
  enforcementLevel: Exclude<EnforcementLevel, "remediate">;
  severity: Severity;
  remediationSteps: string;
  /** Policy-specific config properties (the exemption knobs are added automatically). */
  config?: Record<string, PolicyConfigJSONSchema>;
  tags?: string[];
}

function configSchema(info: PolicyInfo, exemptions: boolean): PolicyConfigSchema | undefined {
  const properties: Record<string, PolicyConfigJSONSchema> = {
    ...(exemptions ? EXEMPTION_CONFIG_SCHEMA : {}),
    ...(info.config ?? {}),
  };
  return Object.keys(properties).length > 0 ? { properties } : undefined;
}

/** The engine-visible fields resource and stack policies share. */
function policyFields(info: PolicyInfo, exemptions: boolean) {
  return {
    name: info.name,
    description: info.description,
    enforcementLevel: info.enforcementLevel,
    severity: info.severity,
    remediationSteps: info.remediationSteps,
    configSchema: configSchema(info, exemptions),
    tags: info.tags,
  };
}

function notApplicableReason(types: readonly string[]): string {
  return types.length === 1
    ? `Policy only applies to resources of type '${types[0]}'`
    : `Policy only applies to resources of types ${types.map((t) => `'${t}'`).join(", ")}`;
}

/**
 * Non-engine hints on a validation function: the types it applies to and the reason it gives otherwise.
 * `evaluate` uses them to skip a policy without calling it; the result is identical to calling it (the
 * function itself throws notApplicable with the same reason), just faster. The engine ignores them.
 */
export interface TypeHints {
  __pulumiTypes?: readonly string[];
  __notApplicableReason?: string;
}

export interface ResourceCheck<P, C> {
  type: string;
  name: string;
  urn: string;
  /** The raw props (unknown values appear as engine sentinels; test with `isUnknown`). */
  props: P;
  config: C;
  report(message: string): void;
  args: ResourceValidationArgs;
}

export interface ResourcePolicyDefinition<P, C> extends PolicyInfo {
  types: readonly string[];
  /** Adds the exemptNamePatterns / exemptTags config (default true). */
  exemptions?: boolean;
  /** Where the resource's tags are (default `props.tags`). */
  tagsOf?: (props: P) => unknown;
  /** May be async (the IAM policies await AWS's action data); the engine awaits the result. */
  check(ctx: ResourceCheck<P, C>): void | Promise<void>;
}

export function defineResourcePolicy<P extends object, C extends object = object>(
  def: ResourcePolicyDefinition<P, C>,
): ResourceValidationPolicy {
  const exemptions = def.exemptions ?? true;
  const types = new Set(def.types);
  const reason = notApplicableReason(def.types);
  const tagsOf = def.tagsOf ?? ((props: P) => (props as { tags?: unknown }).tags);
  const validate: ResourceValidation & TypeHints = (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    if (!types.has(args.type)) {
      return args.notApplicable(reason);
    }
    const props = (unwrapProxy(args.props) ?? {}) as P;
    const config = args.getConfig<C & ExemptionConfig>();
    if (exemptions) {
      const stackReason = stackTagExemption(args.stackTags, config);
      if (stackReason) {
        return args.notApplicable(`Exempt: ${stackReason}`);
      }
      const exemption = checkExemption(args.name, tagsOf(props), config);
      if (exemption.exempt) {
        return args.notApplicable(`Exempt: ${exemption.reason}`);
      }
      if (exemption.undecided) {
        return; // an exemption tag may be set: nothing is certain during preview
      }
    }
    return def.check({
      type: args.type,
      name: args.name,
      urn: args.urn,
      props,
      config,
      // The engine's reportViolation itself: check() reports on this resource (no urn), and no closure per call.
      report: reportViolation,
      args,
    });
  };
  validate.__pulumiTypes = def.types;
  validate.__notApplicableReason = reason;
  if (def.types.length === 1) {
    // The engine's own fast path (same reason string as notApplicableReason for one type).
    (validate as unknown as { __pulumiType: string }).__pulumiType = def.types[0];
  }
  return { ...policyFields(def, exemptions), validateResource: validate };
}

export interface StackResource {
  type: string;
  name: string;
  urn: string;
  /** Raw props (outputs during an update, planned state during preview). */
  props: Record<string, unknown>;
  /** URNs of the resources each top-level property depends on. */
  propertyDependencies: Record<string, string[]>;
  resource: PolicyResource;
}

export interface StackCheck<C> {
  resources: StackResource[];
  /** Resources of one type (in stack order). */
  ofType(type: string): StackResource[];
  config: C;
  report(message: string, urn?: string): void;
  args: StackValidationArgs;
}

export interface StackPolicyDefinition<C> extends PolicyInfo {
  /** The policy is not applicable when none of these types is in the stack. */
  types: readonly string[];
  exemptions?: boolean;
  check(ctx: StackCheck<C>): void;
}

export function toStackResource(resource: PolicyResource): StackResource {
  const propertyDependencies: Record<string, string[]> = {};
  const given = resource.propertyDependencies;
  for (const key in given) propertyDependencies[key] = given[key].map((d) => d.urn);
  return {
    type: resource.type,
    name: resource.name,
    urn: resource.urn,
    props: (unwrapProxy(resource.props) ?? {}) as Record<string, unknown>,
    propertyDependencies,
    resource,
  };
}

interface StackView {
  resources: StackResource[];
  byType: Map<string, StackResource[]>;
}

// The offline evaluator hands every stack policy the same resources array (the engine builds one per policy):
// the unwrapped view is then built once per evaluation instead of once per stack policy.
const stackViews = new WeakMap<readonly PolicyResource[], StackView>();

function stackView(policyResources: readonly PolicyResource[]): StackView {
  let view = stackViews.get(policyResources);
  if (!view) {
    view = { resources: [], byType: new Map() };
    for (const r of policyResources) {
      const sr = toStackResource(r);
      view.resources.push(sr);
      let list = view.byType.get(sr.type);
      if (!list) {
        list = [];
        view.byType.set(sr.type, list);
      }
      list.push(sr);
    }
    stackViews.set(policyResources, view);
  }
  return view;
}

export function defineStackPolicy<C extends object = object>(def: StackPolicyDefinition<C>): StackValidationPolicy {
  const exemptions = def.exemptions ?? true;
  const reason = notApplicableReason(def.types);
  const validate: StackValidation = (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const { resources, byType } = stackView(args.resources);
    if (!def.types.some((t) => byType.has(t))) {
      return args.notApplicable(reason);
    }
    const config = args.getConfig<C & ExemptionConfig>();
    if (exemptions) {
      const stackReason = stackTagExemption(args.stackTags, config);
      if (stackReason) {
        return args.notApplicable(`Exempt: ${stackReason}`);
      }
    }
    def.check({
      resources,
      ofType: (type) => byType.get(type) ?? [],
      config,
      report: reportViolation,
      args,
    });
  };
  return { ...policyFields(def, exemptions), validateStack: validate };
}

/** Stack-policy helper: is this resource exempt by the shared exemption config (undecided counts as exempt)? */
export function stackExempt(
  resource: { name: string; props: Record<string, unknown> },
  config: ExemptionConfig,
): boolean {
  const result = checkExemption(resource.name, resource.props.tags, config);
  return result.exempt || result.undecided;
}
