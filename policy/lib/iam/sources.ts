// Where a resource's IAM policy documents are, parsed once per resource: every IAM policy of the pack reads the
// same props object (the engine hands each policy the same deserialised props), so the parsed documents are kept
// in a WeakMap keyed by it.
import { isAllow, type NormalizedDocument, type NormalizedStatement, parsePolicyDocument } from "../iam-document";
import { type IamPolicyProps, type IamRoleProps, T } from "../types";
import { isRecord, isUnknown } from "../unknown";

/** Resource types that carry identity-based policy documents. */
export const IDENTITY_DOCUMENT_TYPES = [
  T.iamPolicy,
  T.iamRolePolicy,
  T.iamUserPolicy,
  T.iamGroupPolicy,
  T.iamRole,
] as const;

export interface DocumentSource {
  /** `policy`, `inlinePolicies[0] ("ssm-read")`, `assumeRolePolicy`. */
  where: string;
  doc: NormalizedDocument;
  trust: boolean;
}

interface ResourceDocuments {
  identity: DocumentSource[];
  trust: DocumentSource[];
  /** identity then trust. */
  all: DocumentSource[];
}

const parsed = new WeakMap<object, ResourceDocuments>();

function parseIdentity(type: string, props: Record<string, unknown>): DocumentSource[] {
  if (type === T.iamRole) {
    const inline = (props as IamRoleProps).inlinePolicies;
    if (!Array.isArray(inline)) return [];
    const out: DocumentSource[] = [];
    inline.forEach((entry, i) => {
      // An unknown entry, or an empty inline policy (the provider's way to remove inline policies), says nothing.
      if (!isRecord(entry) || entry.policy === undefined || entry.policy === null || entry.policy === "") return;
      const name = typeof entry.name === "string" && !isUnknown(entry.name) ? ` ("${entry.name}")` : "";
      out.push({ where: `inlinePolicies[${i}]${name}`, doc: parsePolicyDocument(entry.policy), trust: false });
    });
    return out;
  }
  const policy = (props as IamPolicyProps).policy;
  return policy === undefined || policy === null
    ? []
    : [{ where: "policy", doc: parsePolicyDocument(policy), trust: false }];
}

function documentsOf(type: string, props: Record<string, unknown>): ResourceDocuments {
  let docs = parsed.get(props);
  if (!docs) {
    const trust = type === T.iamRole ? (props as IamRoleProps).assumeRolePolicy : undefined;
    const identity = parseIdentity(type, props);
    const trusts: DocumentSource[] =
      trust === undefined || trust === null
        ? []
        : [{ where: "assumeRolePolicy", doc: parsePolicyDocument(trust), trust: true }];
    docs = { identity, trust: trusts, all: [...identity, ...trusts] };
    parsed.set(props, docs);
  }
  return docs;
}

/** Identity-based documents of a resource: `policy`, or a Role's `inlinePolicies[].policy`. */
export function identityDocuments(type: string, props: Record<string, unknown>): DocumentSource[] {
  return documentsOf(type, props).identity;
}

/** The trust policy of a Role. */
export function trustDocuments(type: string, props: Record<string, unknown>): DocumentSource[] {
  return documentsOf(type, props).trust;
}

export interface SourcedStatement {
  source: DocumentSource;
  statement: NormalizedStatement;
}

// Per source, its known statements (all / Allow only), built once: every IAM policy of the pack walks them.
const statementsOf = new WeakMap<DocumentSource, { all: SourcedStatement[]; allow: SourcedStatement[] }>();

function sourceStatements(source: DocumentSource): { all: SourcedStatement[]; allow: SourcedStatement[] } {
  let found = statementsOf.get(source);
  if (!found) {
    found = { all: [], allow: [] };
    const doc = source.doc;
    if (!doc.unknown && !doc.statementsUnknown && !doc.invalid) {
      for (const statement of doc.statements) {
        if (statement.unknown) continue;
        found.all.push({ source, statement });
        if (isAllow(statement)) found.allow.push({ source, statement });
      }
    }
    statementsOf.set(source, found);
  }
  return found;
}

/** Identity documents, then the trust policy (the same array on every call for the same props). */
export function allDocuments(type: string, props: Record<string, unknown>): DocumentSource[] {
  return documentsOf(type, props).all;
}

/** Known statements of known documents (unknown ones are skipped: nothing about them is certain). Read-only. */
export function knownStatements(sources: readonly DocumentSource[], allowOnly = true): readonly SourcedStatement[] {
  if (sources.length === 1) return allowOnly ? sourceStatements(sources[0]).allow : sourceStatements(sources[0]).all;
  const out: SourcedStatement[] = [];
  for (const source of sources)
    out.push(...(allowOnly ? sourceStatements(source).allow : sourceStatements(source).all));
  return out;
}

export function quoteList(values: readonly string[]): string {
  return values.map((v) => `"${v}"`).join(", ");
}

/** `Resource "a", "b"` for messages. */
export function resourcesText(statement: NormalizedStatement): string {
  if (statement.resource) {
    const known = quoteList(statement.resource.values);
    const more = statement.resource.unknown && known ? " (+ values unknown during preview)" : "";
    return `Resource ${known || "<unknown>"}${more}`;
  }
  return statement.notResource ? `NotResource ${quoteList(statement.notResource.values)}` : "no Resource";
}

/** Every Action / NotAction value of the known statements (to preload their expansions). */
export function actionPatterns(sources: DocumentSource[]): string[] {
  const out: string[] = [];
  for (const { statement } of knownStatements(sources, false)) {
    out.push(...(statement.action?.values ?? []), ...(statement.notAction?.values ?? []));
  }
  return out;
}
