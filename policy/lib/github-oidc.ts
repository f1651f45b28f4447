// GitHub Actions OIDC: which Federated principals are GitHub's issuer, and which `sub` claim values pin a
// repository (the default `repo:OWNER/REPO[:...]` template and customised ones). trust.ts asks these questions
// of each trust statement; this file knows GitHub's claim formats and nothing about policy documents.
import { wildcardMatch } from "./glob";

export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
export const GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com";

export interface GitHubOidcOptions {
  /** OIDC provider hosts that are GitHub Actions (GHES or enterprise issuers add their own). */
  providerHosts?: readonly string[];
  /** If non-empty, the only GitHub owners (organisations/users) a subject may name (case-insensitive). */
  allowedOwners?: readonly string[];
  /** Subjects accepted verbatim (wildcards allowed), e.g. for customised sub claim templates. */
  allowedSubjects?: readonly string[];
}

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
