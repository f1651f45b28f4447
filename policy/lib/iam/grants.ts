// What an Allow statement grants, decided per expanded action with AWS's data (see aws-data.ts). Call
// `preloadActions` for the document's patterns first; everything here is then synchronous.
import type { NormalizedStatement } from "../iam-document";
import { type ActionInfo, cachedExpansion, type Expansion, preloadActions } from "./aws-data";
import { coversEveryResourceOf, isAnyResource } from "./resources";
import { actionPatterns, type DocumentSource, knownStatements } from "./sources";

const loadedDocuments = new WeakSet<object>();

/**
 * Runs `check` once AWS's data for every action the documents name is in memory: synchronously when it already is
 * (the common case after the first documents), so a policy returns no promise and the engine awaits nothing.
 */
export function withActionData(sources: DocumentSource[], check: () => void): void | Promise<void> {
  if (sources.every((s) => loadedDocuments.has(s.doc))) return check();
  const pending = preloadActions(actionPatterns(sources));
  const run = () => {
    for (const s of sources) loadedDocuments.add(s.doc);
    check();
  };
  return pending ? pending.then(run) : run();
}

/**
 * Condition operators that narrow a grant to the resources carrying a tag value. Negated operators do not,
 * nor do `...IfExists` and `ForAllValues:` (both are true when the key is missing, e.g. on an untagged resource).
 */
const NARROWING_OPERATOR = /^(ForAnyValue:)?(StringEquals|StringEqualsIgnoreCase|StringLike)$/i;

/** The statement's Action values as written, each with its expansion (loaded by preloadActions). */
export function expansionsOf(statement: NormalizedStatement): { pattern: string; expansion: Expansion }[] {
  const out: { pattern: string; expansion: Expansion }[] = [];
  for (const pattern of statement.action?.values ?? []) {
    const expansion = cachedExpansion(pattern);
    if (expansion) out.push({ pattern, expansion });
  }
  return out;
}

/**
 * Attribute-based access control: the statement has a narrowing condition on a resource-tag key that the action's
 * resource types accept (`aws:ResourceTag/runner` for ec2:TerminateInstances), so `"Resource": "*"` only reaches
 * resources carrying that tag. SAR: the resource type's "Condition keys" column. An unknown Condition block may
 * hold such a key, so it counts as narrowing too (nothing is reported unless certain).
 */
export function narrowedByResourceTag(statement: NormalizedStatement, action: ActionInfo): boolean {
  if (statement.conditionUnknown) return true;
  return statement.conditions.some((c) => {
    if (!NARROWING_OPERATOR.test(c.operator) || (c.values.length === 0 && !c.unknown)) return false;
    const key = c.key.toLowerCase();
    const slash = key.indexOf("/");
    if (slash < 0 || !key.slice(0, slash).endsWith(":resourcetag")) return false;
    return action.resourceConditionKeys.includes(`${key.slice(0, slash + 1)}\${tagkey}`);
  });
}

/** True when the statement grants the action on every resource of its type (or on `*`). */
export function grantsOnEveryResource(statement: NormalizedStatement, action: ActionInfo): boolean {
  const resources = statement.resource?.values ?? [];
  return (
    resources.some((r) => coversEveryResourceOf(r, action.arnFormats)) && !narrowedByResourceTag(statement, action)
  );
}

export interface BroadGrant {
  source: DocumentSource;
  statement: NormalizedStatement;
  /** The Action value that grants it (`iam:*`, `iam:Attach*`, `iam:AttachRolePolicy`). */
  via: string;
}

/**
 * The Action value through which the Allow statement grants `action` on every resource of its type (an Action
 * covering every service counts only on `"Resource": "*"`), or undefined.
 */
export function broadlyGrantedVia(statement: NormalizedStatement, action: ActionInfo): string | undefined {
  const name = action.name.toLowerCase();
  for (const { pattern, expansion } of expansionsOf(statement)) {
    const grants = expansion.all
      ? (statement.resource?.values ?? []).some(isAnyResource)
      : expansion.names.has(name) && grantsOnEveryResource(statement, action);
    if (grants) return pattern;
  }
  return undefined;
}

/** A set of actions several rules ask about (privilege escalation, credential exposure, PassRole). */
export type WatchedActions = ReadonlyMap<string, ActionInfo>;

/** Per statement, lowercased action → the broad grants of the watched actions, in statement order. */
export type GrantIndex = ReadonlyMap<string, readonly BroadGrant[]>;

// Which watched actions an expansion contains: expansions are shared by every document naming the same pattern,
// so this is computed once per pattern, and most patterns contain none.
const watchedIn = new WeakMap<WatchedActions, WeakMap<Expansion, ActionInfo[]>>();
// The index of a resource's documents, shared by the rules that ask about the same watched actions.
const indexes = new WeakMap<WatchedActions, WeakMap<readonly DocumentSource[], GrantIndex>>();

function watchedActionsIn(watched: WatchedActions, expansion: Expansion): ActionInfo[] {
  let byExpansion = watchedIn.get(watched);
  if (!byExpansion) {
    byExpansion = new WeakMap();
    watchedIn.set(watched, byExpansion);
  }
  let found = byExpansion.get(expansion);
  if (!found) {
    found = [...watched.values()].filter((info) => expansion.names.has(info.name.toLowerCase()));
    byExpansion.set(expansion, found);
  }
  return found;
}

/**
 * Every Allow statement of the documents that grants a watched action on every resource of its type, per action:
 * the same answer as `broadlyGrantedVia` for each statement and action, computed once per set of documents and
 * shared by the rules (the IAM rules would otherwise each re-analyse the same document).
 */
export function grantIndex(sources: readonly DocumentSource[], watched: WatchedActions): GrantIndex {
  let bySources = indexes.get(watched);
  if (!bySources) {
    bySources = new WeakMap();
    indexes.set(watched, bySources);
  }
  let index = bySources.get(sources);
  if (index) return index;
  const out = new Map<string, BroadGrant[]>();
  for (const { source, statement } of knownStatements(sources)) {
    for (const { pattern, expansion } of expansionsOf(statement)) {
      const candidates = expansion.all
        ? (statement.resource?.values ?? []).some(isAnyResource)
          ? [...watched.values()]
          : []
        : watchedActionsIn(watched, expansion);
      for (const info of candidates) {
        if (!expansion.all && !grantsOnEveryResource(statement, info)) continue;
        const key = info.name.toLowerCase();
        let list = out.get(key);
        if (!list) {
          list = [];
          out.set(key, list);
        }
        // The first pattern of a statement that grants the action names it (as broadlyGrantedVia does).
        if (list[list.length - 1]?.statement !== statement) list.push({ source, statement, via: pattern });
      }
    }
  }
  index = out;
  bySources.set(sources, index);
  return index;
}
