// IAM policy document parser / normaliser.
//
// Accepts what @pulumi/aws 7 accepts for `policy` / `assumeRolePolicy`: a JSON string or an object (the
// provider serialises objects). `Statement` may be one object or an array; `Action`, `NotAction`, `Resource`,
// `NotResource`, principal values and condition values may each be a scalar or an array. Any part may be
// unknown during preview (an engine sentinel or `UNKNOWN`): the parser keeps every known part and marks the
// unknown ones, so a policy can still report what is already certain.
import { isRecord, isUnknown } from "./unknown";

/** A list of strings of which some may be unknown. */
export interface ValueList {
  /** The known string values. */
  values: string[];
  /** True when the element itself or some of its entries are unknown. */
  unknown: boolean;
}

export interface NormalizedPrincipal {
  /** `"Principal": "*"` (everyone, including anonymous callers). */
  star: boolean;
  /** `"Principal": <unknown>`. */
  unknown: boolean;
  /** Values per principal type, keyed by the canonical type name: AWS, Service, Federated, CanonicalUser. */
  entries: Map<string, ValueList>;
}

export interface NormalizedCondition {
  /** Operator as written, e.g. `StringLike`, `ForAnyValue:StringEquals`, `StringEqualsIfExists`. */
  operator: string;
  /** Condition key as written, e.g. `token.actions.githubusercontent.com:sub`. */
  key: string;
  values: string[];
  unknown: boolean;
}

export interface NormalizedStatement {
  /** Position in the Statement array (0-based; 0 when Statement is a single object). */
  index: number;
  sid?: string;
  /** `Statement[1] (Sid "Launch")`, for messages. */
  label: string;
  /** The whole statement is unknown. */
  unknown: boolean;
  /** "Allow", "Deny", another string (invalid), or undefined when missing. */
  effect?: string;
  effectUnknown: boolean;
  action?: ValueList;
  notAction?: ValueList;
  resource?: ValueList;
  notResource?: ValueList;
  principal?: NormalizedPrincipal;
  notPrincipal?: NormalizedPrincipal;
  conditions: NormalizedCondition[];
  /** The Condition block (or one operator block in it) is unknown, so unseen conditions may exist. */
  conditionUnknown: boolean;
}

export interface NormalizedDocument {
  /** The document as a whole is unknown: nothing can be said about it. */
  unknown: boolean;
  /** Set when the document is known but cannot be parsed (invalid JSON, no Statement, wrong types). */
  invalid?: string;
  /** The known statements; unknown statements appear with `unknown: true`. */
  statements: NormalizedStatement[];
  /** The Statement element itself is unknown. */
  statementsUnknown: boolean;
}

const PRINCIPAL_TYPES: Readonly<Record<string, string>> = {
  aws: "AWS",
  service: "Service",
  federated: "Federated",
  canonicaluser: "CanonicalUser",
};

/** Reads an element by name, case-insensitively (IAM documents in the wild vary in case). */
function field(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) {
    return obj[name];
  }
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) {
    if (key.toLowerCase() === lower) {
      return obj[key];
    }
  }
  return undefined;
}

function hasField(obj: Record<string, unknown>, name: string): boolean {
  return field(obj, name) !== undefined;
}

/** Normalises a scalar-or-array string element. Non-string entries (invalid IAM) are ignored. */
export function toValueList(value: unknown): ValueList {
  if (isUnknown(value)) {
    return { values: [], unknown: true };
  }
  if (typeof value === "string") {
    return { values: [value], unknown: false };
  }
  if (Array.isArray(value)) {
    const out: ValueList = { values: [], unknown: false };
    for (const item of value) {
      if (isUnknown(item)) {
        out.unknown = true;
      } else if (typeof item === "string") {
        out.values.push(item);
      } else if (typeof item === "number" || typeof item === "boolean") {
        out.values.push(String(item));
      }
    }
    return out;
  }
  if (typeof value === "number" || typeof value === "boolean") {
    return { values: [String(value)], unknown: false };
  }
  return { values: [], unknown: false };
}

function toPrincipal(value: unknown): NormalizedPrincipal {
  const principal: NormalizedPrincipal = { star: false, unknown: false, entries: new Map() };
  if (isUnknown(value)) {
    principal.unknown = true;
  } else if (typeof value === "string") {
    principal.star = value.trim() === "*";
  } else if (isRecord(value)) {
    for (const [key, raw] of Object.entries(value)) {
      const type = PRINCIPAL_TYPES[key.toLowerCase()] ?? key;
      principal.entries.set(type, toValueList(raw));
    }
  }
  return principal;
}

function toConditions(value: unknown): { conditions: NormalizedCondition[]; unknown: boolean } {
  const out: { conditions: NormalizedCondition[]; unknown: boolean } = { conditions: [], unknown: false };
  if (value === undefined || value === null) {
    return out;
  }
  if (!isRecord(value)) {
    out.unknown = isUnknown(value);
    return out;
  }
  for (const [operator, block] of Object.entries(value)) {
    if (isUnknown(block)) {
      out.unknown = true;
      continue;
    }
    if (!isRecord(block)) {
      continue;
    }
    for (const [key, raw] of Object.entries(block)) {
      const list = toValueList(raw);
      out.conditions.push({ operator, key, values: list.values, unknown: list.unknown });
    }
  }
  return out;
}

/** `Statement[1] (Sid "Launch")`. */
export function statementLabel(index: number, sid?: string): string {
  return sid ? `Statement[${index}] (Sid "${sid}")` : `Statement[${index}]`;
}

function toStatement(raw: unknown, index: number): NormalizedStatement {
  if (isUnknown(raw) || !isRecord(raw)) {
    return {
      index,
      label: statementLabel(index),
      unknown: isUnknown(raw),
      effectUnknown: false,
      conditions: [],
      conditionUnknown: false,
    };
  }
  const sidRaw = field(raw, "Sid");
  const sid = typeof sidRaw === "string" && sidRaw !== "" ? sidRaw : undefined;
  const effectRaw = field(raw, "Effect");
  const conditions = toConditions(field(raw, "Condition"));
  const statement: NormalizedStatement = {
    index,
    sid,
    label: statementLabel(index, sid),
    unknown: false,
    effect: typeof effectRaw === "string" && !isUnknown(effectRaw) ? effectRaw : undefined,
    effectUnknown: isUnknown(effectRaw),
    conditions: conditions.conditions,
    conditionUnknown: conditions.unknown,
  };
  if (hasField(raw, "Action")) statement.action = toValueList(field(raw, "Action"));
  if (hasField(raw, "NotAction")) statement.notAction = toValueList(field(raw, "NotAction"));
  if (hasField(raw, "Resource")) statement.resource = toValueList(field(raw, "Resource"));
  if (hasField(raw, "NotResource")) statement.notResource = toValueList(field(raw, "NotResource"));
  if (hasField(raw, "Principal")) statement.principal = toPrincipal(field(raw, "Principal"));
  if (hasField(raw, "NotPrincipal")) statement.notPrincipal = toPrincipal(field(raw, "NotPrincipal"));
  return statement;
}

// The engine analyses one resource with every policy in turn, so several policies parse the same document
// string back to back: a small cache of the latest parses avoids repeating the work. Results are read-only.
const STRING_CACHE_SIZE = 64;
const stringCache = new Map<string, NormalizedDocument>();

/** Parses and normalises a policy document given as a JSON string or an object. Treat the result as read-only. */
export function parsePolicyDocument(doc: unknown): NormalizedDocument {
  if (typeof doc !== "string" || isUnknown(doc)) {
    return parseUncached(doc);
  }
  const cached = stringCache.get(doc);
  if (cached) {
    return cached;
  }
  const parsed = parseUncached(doc);
  if (stringCache.size >= STRING_CACHE_SIZE) {
    stringCache.delete(stringCache.keys().next().value as string);
  }
  stringCache.set(doc, parsed);
  return parsed;
}

function parseUncached(doc: unknown): NormalizedDocument {
  const result: NormalizedDocument = { unknown: false, statements: [], statementsUnknown: false };
  if (isUnknown(doc)) {
    result.unknown = true;
    return result;
  }
  let value: unknown = doc;
  if (typeof doc === "string") {
    if (doc.trim() === "") {
      result.invalid = "the policy document is an empty string";
      return result;
    }
    try {
      value = JSON.parse(doc);
    } catch (e) {
      result.invalid = `the policy document is not valid JSON (${(e as Error).message})`;
      return result;
    }
  }
  if (!isRecord(value)) {
    result.invalid = "the policy document is not a JSON object";
    return result;
  }
  const statements = field(value, "Statement");
  if (isUnknown(statements)) {
    result.statementsUnknown = true;
    return result;
  }
  if (statements === undefined || statements === null) {
    result.invalid = "the policy document has no Statement";
    return result;
  }
  const list = Array.isArray(statements) ? statements : [statements];
  list.forEach((s, i) => {
    result.statements.push(toStatement(s, i));
  });
  return result;
}

/** True when the statement is certainly an Allow statement. */
export function isAllow(statement: NormalizedStatement): boolean {
  return !statement.unknown && !statement.effectUnknown && statement.effect?.toLowerCase() === "allow";
}

/** True when the statement may be an Allow statement (Allow, or its Effect / the statement is unknown). */
export function mayBeAllow(statement: NormalizedStatement): boolean {
  return statement.unknown || statement.effectUnknown || statement.effect?.toLowerCase() === "allow";
}
