// The argument objects @pulumi/policy 1.21 (server.js, policy.js) builds for a policy, rebuilt for offline
// evaluation: evaluate.ts runs the pack's policies with exactly what the engine would hand them.
//
// Mirrored: props are plain JSON (deserialize.js drops undefined properties) wrapped in the engine's own
// unknown-checking proxy; args.notApplicable() throws; stackTags is a frozen map; isType/asType compare Pulumi
// type tokens; stack policies see parent, dependencies and propertyDependencies as resource objects.
import type {
  PolicyConfigSchema,
  PolicyProviderResource,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { configProperties, type PolicyConfigValue, schemaDefaults } from "./policy-config";
import { engineProxy, ENGINE_UNKNOWN_SENTINELS, UNKNOWN } from "./unknown";

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
  /** URNs this resource depends on (the engine sends them to stack policies: property dependencies and dependsOn). */
  dependencies?: string[];
  /**
   * URNs each top-level property depends on, as the engine sends them to stack policies (the resources the
   * property's value was computed from). Used to resolve unknown references and to tell which launch templates
   * EKS node groups launch from; leave it out only where the engine would send none.
   */
  propertyDependencies?: Record<string, string[]>;
}

/** The engine's UnknownValueError class (instances are what reading an unknown through the proxy throws). */
export const UnknownValueError = engineProxy.UnknownValueError;

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
export function getPulumiType(obj: unknown): string | undefined {
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

/** server.js freezeMap over the given tags (a plain object or a map). */
export function toTagMap(
  tags: Record<string, string> | ReadonlyMap<string, string> | undefined,
): ReadonlyMap<string, string> {
  const map = new Map<string, string>(
    tags === undefined
      ? []
      : typeof tags.get === "function"
        ? (tags as ReadonlyMap<string, string>)
        : Object.entries(tags),
  );
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

/**
 * Converts caller props to what the engine sends: plain JSON, `UNKNOWN` replaced by the engine's unknown
 * sentinel (the string sentinel, which is what the engine sends for computed values), undefined properties
 * dropped (deserialize.js), undefined array entries as null.
 */
export function toEngineProperties(props: Record<string, unknown> | undefined): Record<string, unknown> {
  return (toEngineValue(props ?? {}) ?? {}) as Record<string, unknown>;
}

function toEngineValue(value: unknown): unknown {
  if (value === UNKNOWN) return ENGINE_UNKNOWN_SENTINELS.string;
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return value;
  if (value === undefined || typeof value === "function" || typeof value === "symbol" || typeof value === "bigint")
    return undefined;
  if (Array.isArray(value)) return value.map((e) => toEngineValue(e) ?? null);
  const out: Record<string, unknown> = {};
  const record = value as Record<string, unknown>;
  for (const k of Object.keys(record)) {
    const c = toEngineValue(record[k]);
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

/** The fields resource and stack policies both see for a resource (server.js builds them alike). */
export interface ResourceView {
  type: string;
  props: Record<string, unknown>;
  urn: string;
  name: string;
  opts: PolicyResourceOptions;
  isType: ResourceValidationArgs["isType"];
  asType: ResourceValidationArgs["asType"];
  provider?: PolicyProviderResource;
}

export function resourceView(resource: EvalResource, engineProps: Record<string, unknown>): ResourceView {
  const props = engineProxy.unknownCheckingProxy(engineProps);
  const type = resource.type;
  const view: ResourceView = {
    type,
    props,
    urn: resource.urn,
    name: resource.name,
    opts: defaultOptions(resource.parent),
    isType: (resourceClass: unknown) => isTypeOf(type, resourceClass),
    // One implementation serves ResourceValidationArgs.asType and PolicyResource.asType (their typings differ).
    asType: ((resourceClass: unknown) => (isTypeOf(type, resourceClass) ? props : undefined)) as never,
  };
  if (resource.provider) view.provider = providerResource(resource.provider);
  return view;
}

/** A getConfig function returning a fresh copy of the properties each call (server.js makeGetConfigFun). */
export function configGetter(properties: Record<string, unknown>): <T extends object>() => T {
  return <T extends object>() => ({ ...properties }) as T;
}

/**
 * ResourceValidationArgs for one policy call over a resource view. The view (props proxy, opts, isType/asType) is
 * built once per resource and shared by the policies, where server.js deserialises the props again for each call:
 * the pack's policies only read them, so the result is the same and the evaluator allocates far less.
 */
export function viewArgs(
  view: ResourceView,
  getConfig: <T extends object>() => T,
  stackTags: ReadonlyMap<string, string>,
): ResourceValidationArgs {
  const args: ResourceValidationArgs = {
    type: view.type,
    props: view.props,
    urn: view.urn,
    name: view.name,
    opts: view.opts,
    stackTags,
    isType: view.isType,
    asType: view.asType,
    getConfig,
    notApplicable: throwNotApplicable,
  };
  if (view.provider) args.provider = view.provider;
  return args;
}

/** Builds ResourceValidationArgs from engine-form props and resolved config properties. */
export function makeResourceArgs(
  resource: EvalResource,
  engineProps: Record<string, unknown>,
  properties: Record<string, unknown>,
  stackTags: ReadonlyMap<string, string>,
): ResourceValidationArgs {
  return viewArgs(resourceView(resource, engineProps), configGetter(properties), stackTags);
}

/** The stack's resources as stack policies see them (parent, dependencies, propertyDependencies resolved). */
export function stackResources(resources: EvalResource[], engineProps: Record<string, unknown>[]): PolicyResource[] {
  const policyResources: PolicyResource[] = resources.map((r, i) => ({
    ...resourceView(r, engineProps[i]),
    dependencies: [],
    propertyDependencies: {},
  }));
  const byUrn = new Map<string, PolicyResource>(policyResources.map((pr) => [pr.urn, pr]));
  const lookup = (urns: string[]) => urns.map((d) => byUrn.get(d)).filter((d): d is PolicyResource => d !== undefined);
  resources.forEach((r, i) => {
    const pr = policyResources[i];
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    if (parent) pr.parent = parent;
    if (r.dependencies) pr.dependencies = lookup(r.dependencies);
    if (r.propertyDependencies) {
      for (const [k, urns] of Object.entries(r.propertyDependencies)) pr.propertyDependencies[k] = lookup(urns);
    }
  });
  return policyResources;
}

/**
 * StackValidationArgs over the stack's resources. server.js rebuilds the resources for each stack policy; the
 * evaluator builds them once and shares them (the policies only read them).
 */
export function stackArgs(
  resources: PolicyResource[],
  getConfig: <T extends object>() => T,
  stackTags: ReadonlyMap<string, string>,
): StackValidationArgs {
  return { resources, getConfig, stackTags, notApplicable: throwNotApplicable };
}

/** Builds StackValidationArgs from engine-form props (one per resource) and resolved config properties. */
export function makeStackArgs(
  resources: EvalResource[],
  engineProps: Record<string, unknown>[],
  properties: Record<string, unknown>,
  stackTags: ReadonlyMap<string, string>,
): StackValidationArgs {
  return stackArgs(stackResources(resources, engineProps), configGetter(properties), stackTags);
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

/** The StackValidationArgs @pulumi/policy 1.21 would build for these resources (see resourceValidationArgs). */
export function stackValidationArgs(
  resources: EvalResource[],
  policyConfig: PolicyConfigValue = {},
  stackTags: Record<string, string> | ReadonlyMap<string, string> = {},
  configSchema?: PolicyConfigSchema,
): StackValidationArgs {
  const properties = { ...schemaDefaults(configSchema), ...configProperties(policyConfig) };
  const engineProps = resources.map((r) => toEngineProperties(r.props));
  return makeStackArgs(resources, engineProps, properties, toTagMap(stackTags));
}
