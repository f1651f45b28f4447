// Trust-policy (Role.assumeRolePolicy) analysis.
//
// Two questions, answered only when the answer is certain (unknown parts during preview make a statement
// "undecided", which is never reported):
//   1. Does an Allow statement trust everyone (`"Principal": "*"` or `{"AWS": "*"}`)?
//   2. Does an Allow statement that trusts GitHub Actions OIDC (Federated principal
//      `arn:aws:iam::ACCOUNT:oidc-provider/token.actions.githubusercontent.com`) pin
//      `token.actions.githubusercontent.com:aud` to `sts.amazonaws.com` and
//      `token.actions.githubusercontent.com:sub` to concrete `repo:OWNER/REPO[:...]` values?
//
// What GitHub's issuer and subjects look like is in github-oidc.ts.
import { actionMatches } from "./actions";
import {
  checkGitHubSubject,
  GITHUB_OIDC_AUDIENCE,
  GITHUB_OIDC_HOST,
  type GitHubOidcOptions,
  isGitHubOidcProvider,
  oidcProviderHost,
} from "./github-oidc";
import { isAllow, type NormalizedCondition, type NormalizedDocument, type NormalizedStatement } from "./iam-document";

export type TrustFindingKind =
  | "public-principal"
  | "github-oidc-no-audience"
  | "github-oidc-bad-audience"
  | "github-oidc-no-subject"
  | "github-oidc-bad-subject";

export interface TrustFinding {
  kind: TrustFindingKind;
  statement: NormalizedStatement;
  message: string;
}

/** Operators that restrict a key to the listed values (negated and numeric operators do not pin anything). */
const PINNING_OPERATOR = /^(ForAnyValue:|ForAllValues:)?(StringEquals|StringEqualsIgnoreCase|StringLike)(IfExists)?$/i;

/**
 * Operators that are TRUE when the key is missing from the request: `...IfExists` and `ForAllValues:` (IAM User
 * Guide, "Condition operators" / "Multivalued context keys"). On a key the token does not carry (another issuer's
 * `HOST/slug:sub`) they pin nothing.
 */
const VACUOUS_WHEN_MISSING = /^ForAllValues:|IfExists$/i;

/** The issuer part of a condition key (`token.actions.githubusercontent.com/acme:sub` → `token.actions.githubusercontent.com/acme`). */
function keyIssuer(key: string, claim: "aud" | "sub"): string {
  return key.toLowerCase().slice(0, -(claim.length + 1));
}

function keyIsFor(key: string, claim: "aud" | "sub", hosts: readonly string[]): boolean {
  const k = key.toLowerCase();
  if (!k.endsWith(`:${claim}`)) {
    return false;
  }
  const prefix = k.slice(0, -(claim.length + 1));
  return hosts.some((h) => prefix === h.toLowerCase() || prefix.startsWith(`${h.toLowerCase()}/`));
}

type Pin =
  | { status: "pinned" }
  | { status: "undecided" }
  | { status: "missing" }
  | { status: "bad"; problems: string[] };

/**
 * Condition blocks combine with AND, so the claim is pinned when at least one pinning block for it lists only
 * good values. Unknown parts make the verdict undecided unless a fully known good block exists.
 */
function pinStatus(
  statement: NormalizedStatement,
  claim: "aud" | "sub",
  hosts: readonly string[],
  issuer: string | undefined,
  valueProblem: (value: string) => string | undefined,
): Pin {
  const candidates: NormalizedCondition[] = statement.conditions.filter(
    (c) => PINNING_OPERATOR.test(c.operator) && keyIsFor(c.key, claim, hosts),
  );
  // A block on another issuer's key is false when strict (the role cannot be assumed: safe, so it counts) and true
  // when vacuous on a missing key (it pins nothing). With the issuer unknown, a vacuous block decides nothing.
  const vacuous = (c: NormalizedCondition) =>
    VACUOUS_WHEN_MISSING.test(c.operator) && keyIssuer(c.key, claim) !== issuer;
  const blocks = candidates.filter((c) => !vacuous(c));
  const problems: string[] = [];
  for (const block of blocks) {
    const blockProblems = block.values.map(valueProblem).filter((p): p is string => p !== undefined);
    if (!block.unknown && block.values.length > 0 && blockProblems.length === 0) {
      return { status: "pinned" };
    }
    problems.push(...blockProblems);
  }
  if (
    statement.conditionUnknown ||
    blocks.some((b) => b.unknown) ||
    (issuer === undefined && candidates.some(vacuous))
  ) {
    return { status: "undecided" };
  }
  if (blocks.length === 0 || problems.length === 0) {
    return { status: "missing" };
  }
  return { status: "bad", problems };
}

/** Whether the statement grants sts:AssumeRoleWithWebIdentity: true, false, or "unknown". */
function grantsWebIdentity(statement: NormalizedStatement): boolean | "unknown" {
  if (!statement.action) {
    return Boolean(statement.notAction);
  }
  if (statement.action.values.some((a) => actionMatches(a, "sts:AssumeRoleWithWebIdentity"))) {
    return true;
  }
  return statement.action.unknown ? "unknown" : false;
}

/** The GitHub issuer (`token.actions.githubusercontent.com[/slug]`) of the statement's Federated principal, if known. */
function gitHubIssuer(statement: NormalizedStatement, hosts: readonly string[]): string | undefined {
  const federated = statement.principal?.entries.get("Federated");
  const provider = federated?.values.find((f) => isGitHubOidcProvider(f, hosts));
  return provider === undefined || federated?.unknown ? undefined : oidcProviderHost(provider);
}

/** GitHub-OIDC detection for one statement: "yes", "no", or "unknown" (Federated principal unknown). */
function trustsGitHubOidc(statement: NormalizedStatement, hosts: readonly string[]): "yes" | "no" | "unknown" {
  const federated = statement.principal?.entries.get("Federated");
  if (federated?.values.some((f) => isGitHubOidcProvider(f, hosts))) {
    return "yes";
  }
  const principalUnknown = statement.principal?.unknown === true || federated?.unknown === true;
  if (principalUnknown) {
    // The provider ARN is often an output (unknown during preview); GitHub condition keys still identify it.
    const usesGitHubKeys = statement.conditions.some(
      (c) => keyIsFor(c.key, "aud", hosts) || keyIsFor(c.key, "sub", hosts),
    );
    return usesGitHubKeys ? "yes" : "unknown";
  }
  return "no";
}

/** Analyses a parsed trust policy and returns the certain findings. */
export function analyzeTrustPolicy(doc: NormalizedDocument, options: GitHubOidcOptions = {}): TrustFinding[] {
  const findings: TrustFinding[] = [];
  if (doc.unknown || doc.statementsUnknown) {
    return findings;
  }
  const hosts = options.providerHosts && options.providerHosts.length > 0 ? options.providerHosts : [GITHUB_OIDC_HOST];
  for (const statement of doc.statements) {
    if (!isAllow(statement)) {
      continue;
    }
    const principal = statement.principal;
    if (principal && (principal.star || principal.entries.get("AWS")?.values.some((v) => v.trim() === "*"))) {
      const written = principal.star ? `"Principal": "*"` : `"Principal": {"AWS": "*"}`;
      findings.push({
        kind: "public-principal",
        statement,
        message:
          `${statement.label} trusts everyone (${written}): any AWS account, and for some actions anonymous callers, ` +
          `can assume this role. Name the trusted principals instead: {"AWS": "arn:aws:iam::ACCOUNT:root"} or a role ARN, ` +
          `{"Service": "SERVICE.amazonaws.com"}, or {"Federated": "<OIDC provider ARN>"} with conditions.`,
      });
    }
    if (trustsGitHubOidc(statement, hosts) !== "yes" || grantsWebIdentity(statement) !== true) {
      continue;
    }
    const host = hosts[0];
    const issuer = gitHubIssuer(statement, hosts);
    const aud = pinStatus(statement, "aud", hosts, issuer, (v) => (v === GITHUB_OIDC_AUDIENCE ? undefined : `"${v}"`));
    if (aud.status === "missing") {
      findings.push({
        kind: "github-oidc-no-audience",
        statement,
        message:
          `${statement.label} trusts GitHub Actions OIDC but has no "${host}:aud" condition. ` +
          `Add "Condition": {"StringEquals": {"${host}:aud": "${GITHUB_OIDC_AUDIENCE}"}}.`,
      });
    } else if (aud.status === "bad") {
      findings.push({
        kind: "github-oidc-bad-audience",
        statement,
        message:
          `${statement.label} trusts GitHub Actions OIDC with "${host}:aud" = ${aud.problems.join(", ")}; ` +
          `the audience must be exactly "${GITHUB_OIDC_AUDIENCE}". Use {"StringEquals": {"${host}:aud": "${GITHUB_OIDC_AUDIENCE}"}}.`,
      });
    }
    const sub = pinStatus(statement, "sub", hosts, issuer, (v) => {
      const check = checkGitHubSubject(v, options);
      return check.ok ? undefined : check.reason;
    });
    if (sub.status === "missing") {
      findings.push({
        kind: "github-oidc-no-subject",
        statement,
        message:
          `${statement.label} trusts GitHub Actions OIDC for sts:AssumeRoleWithWebIdentity but has no "${host}:sub" condition ` +
          `(StringEquals/StringLike), so a workflow in ANY GitHub repository can assume this role. ` +
          `Add {"StringLike": {"${host}:sub": "repo:OWNER/REPO:ref:refs/heads/main"}} (or ":environment:NAME") with a concrete owner and repository.`,
      });
    } else if (sub.status === "bad") {
      findings.push({
        kind: "github-oidc-bad-subject",
        statement,
        message:
          `${statement.label} trusts GitHub Actions OIDC but its "${host}:sub" condition does not pin a repository: ` +
          `${sub.problems.join("; ")}. Use concrete values such as "repo:OWNER/REPO:ref:refs/heads/main" or ` +
          `"repo:OWNER/REPO:environment:NAME" (a wildcard is only acceptable after OWNER/REPO, e.g. "repo:acme/app:ref:refs/heads/*").`,
      });
    }
  }
  return findings;
}
