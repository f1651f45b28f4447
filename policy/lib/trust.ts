// Trust-policy (Role.assumeRolePolicy) analysis.
//
// Two questions, answered only when the answer is certain (unknown parts during preview make a statement
// "undecided", which is never reported):
//   1. Does an Allow statement trust everyone (`"Principal": "*"` or `{"AWS": "*"}`)?
//   2. Does an Allow statement that trusts GitHub Actions OIDC (Federated principal
//      `arn:aws:iam::ACCOUNT:oidc-provider/token.actions.githubusercontent.com`) pin
//      `token.actions.githubusercontent.com:aud` to `sts.amazonaws.com` and
//      `token.actions.githubusercontent.com:sub` to concrete `repo:OWNER/REPO[:...]` values?
import { actionMatches } from "./actions";
import { wildcardMatch } from "./glob";
import { isAllow, type NormalizedCondition, type NormalizedDocument, type NormalizedStatement } from "./iam-document";

export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
export const GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com";

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

export interface GitHubOidcOptions {
  /** OIDC provider hosts that are GitHub Actions (GHES or enterprise issuers add their own). */
  providerHosts?: readonly string[];
  /** If non-empty, the only GitHub owners (organisations/users) a subject may name (case-insensitive). */
  allowedOwners?: readonly string[];
  /** Subjects accepted verbatim (wildcards allowed), e.g. for customised sub claim templates. */
  allowedSubjects?: readonly string[];
}

/** Operators that restrict a key to the listed values (negated and numeric operators do not pin anything). */
const PINNING_OPERATOR = /^(ForAnyValue:|ForAllValues:)?(StringEquals|StringEqualsIgnoreCase|StringLike)(IfExists)?$/i;

/**
 * Operators that are TRUE when the key is missing from the request: `...IfExists` and `ForAllValues:` (IAM User
 * Guide, "Condition operators" / "Multivalued context keys"). On a key the token does not carry (another issuer's
 * `HOST/slug:sub`) they pin nothing.
 */
const VACUOUS_WHEN_MISSING = /^ForAllValues:|IfExists$/i;

/** The host part of an OIDC provider ARN (or the value itself), e.g. `token.actions.githubusercontent.com/acme`. */
export function oidcProviderHost(federated: string): string {
  const marker = "oidc-provider/";
  const at = federated.indexOf(marker);
  return (at >= 0 ? federated.slice(at + marker.length) : federated).replace(/^https:\/\//i, "").toLowerCase();
}

/** True when the Federated principal is a GitHub Actions OIDC provider (also `HOST/enterprise-slug` issuers). */
export function isGitHubOidcProvider(federated: string, hosts: readonly string[] = [GITHUB_OIDC_HOST]): boolean {
  const host = oidcProviderHost(federated);
  return hosts.some((h) => {
    const base = h.toLowerCase();
    return host === base || host.startsWith(`${base}/`);
  });
}

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

export interface SubjectCheck {
  ok: boolean;
  /** Why the subject does not pin a repository. */
  reason?: string;
  owner?: string;
  repo?: string;
}

/**
 * Claims a customised OIDC subject template may join into `sub` as `claim:value` pairs (GitHub docs, "OpenID Connect
 * reference" → "Customizing the subject claims for an organization or repository").
 */
const SUBJECT_CLAIMS: ReadonlySet<string> = new Set([
  "repo",
  "repository",
  "repository_id",
  "repository_owner",
  "repository_owner_id",
  "repository_visibility",
  "context",
  "environment",
  "ref",
  "ref_type",
  "ref_protected",
  "job_workflow_ref",
  "job_workflow_sha",
  "workflow",
  "workflow_ref",
  "workflow_sha",
  "actor",
  "actor_id",
  "event_name",
  "head_ref",
  "base_ref",
  "runner_environment",
  "enterprise",
  "enterprise_id",
]);

/** `acme-123456` (GitHub's immutable-ID subject format, `OWNER-OWNERID`) also matches the allowed owner `acme`. */
function ownerAllowed(owner: string, allowed: readonly string[]): boolean {
  const name = owner.toLowerCase();
  const withoutId = name.replace(/-\d+$/, "");
  return allowed.some((o) => o.toLowerCase() === name || o.toLowerCase() === withoutId);
}

/**
 * The `claim:value` pairs of a customised subject, as far as its literal prefix (before any wildcard, which may
 * stand for any claims) goes. Stops at the first token that is not a known claim.
 */
function customSubjectClaims(subject: string): Map<string, string> {
  const wildcard = subject.search(/[*?]/);
  const literal = wildcard < 0 ? subject : subject.slice(0, wildcard);
  const tokens = literal.split(":");
  // Without a wildcard every token is complete; with one, the last token may be cut short.
  const complete = wildcard < 0 ? tokens.length : tokens.length - 1;
  const claims = new Map<string, string>();
  for (let i = 0; i + 1 < complete && SUBJECT_CLAIMS.has(tokens[i].toLowerCase()); i += 2) {
    claims.set(tokens[i].toLowerCase(), tokens[i + 1]);
  }
  return claims;
}

function withOwnerCheck(check: SubjectCheck, subject: string, options: GitHubOidcOptions): SubjectCheck {
  const owners = options.allowedOwners ?? [];
  if (owners.length === 0 || (check.owner !== undefined && ownerAllowed(check.owner, owners))) return check;
  const named = check.owner === undefined ? "names no owner" : `names owner "${check.owner}"`;
  return {
    ...check,
    ok: false,
    reason: `"${subject}" ${named}, which is not in the allowed owners (${owners.join(", ")})`,
  };
}

/** A customised subject pins a repository with a literal `repository:OWNER/REPO`, `repo:OWNER/REPO` or `repository_id:N`. */
function checkCustomSubject(subject: string, options: GitHubOidcOptions): SubjectCheck {
  const claims = customSubjectClaims(subject);
  const full = claims.get("repository") ?? claims.get("repo");
  const [owner, repo] = full?.includes("/") ? full.split("/", 2) : [claims.get("repository_owner"), undefined];
  const pinned = (repo !== undefined && owner !== "" && repo !== "") || /^\d+$/.test(claims.get("repository_id") ?? "");
  if (!pinned) {
    return {
      ok: false,
      reason: `"${subject}" does not start with "repo:OWNER/REPO" and pins no repository (repository:OWNER/REPO or repository_id:ID) before a wildcard`,
      owner,
      repo,
    };
  }
  return withOwnerCheck({ ok: true, owner, repo }, subject, options);
}

/**
 * Checks one `sub` condition value. The default template is `repo:OWNER/REPO[:...]` (OWNER and REPO may carry
 * GitHub's immutable ids, `repo:OWNER-OWNERID/REPO-REPOID:...`); OWNER and REPO must be literal, a wildcard after
 * them (`repo:acme/app:ref:refs/heads/*`) is fine. A customised template must pin a repository the same way.
 */
export function checkGitHubSubject(subject: string, options: GitHubOidcOptions = {}): SubjectCheck {
  if ((options.allowedSubjects ?? []).some((allowed) => wildcardMatch(allowed, subject, false))) {
    return { ok: true };
  }
  if (!/^repo:/i.test(subject)) {
    return checkCustomSubject(subject, options);
  }
  const rest = subject.slice("repo:".length);
  const slash = rest.indexOf("/");
  const colon = rest.indexOf(":");
  if (slash < 0 || (colon >= 0 && colon < slash)) {
    return { ok: false, reason: `"${subject}" does not name a repository (expected "repo:OWNER/REPO:...")` };
  }
  const owner = rest.slice(0, slash);
  const afterOwner = rest.slice(slash + 1);
  const end = afterOwner.indexOf(":");
  const repo = end >= 0 ? afterOwner.slice(0, end) : afterOwner;
  if (owner === "" || /[*?]/.test(owner)) {
    return {
      ok: false,
      reason: `"${subject}" has a wildcard or nothing in the owner part, so any GitHub owner's repositories match`,
      owner,
      repo,
    };
  }
  if (repo === "" || /[*?]/.test(repo)) {
    return {
      ok: false,
      reason: `"${subject}" has a wildcard or nothing in the repository part, so every repository of "${owner}" matches`,
      owner,
      repo,
    };
  }
  return withOwnerCheck({ ok: true, owner, repo }, subject, options);
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
