/**
 * policy/lib/trust: GitHub subjects and providers, and the misses and false positives issue 14 found.
 */
import * as assert from "node:assert/strict";
import { parsePolicyDocument } from "../../policy/lib/iam-document";
import { checkGitHubSubject, isGitHubOidcProvider, oidcProviderHost } from "../../policy/lib/github-oidc";
import { analyzeTrustPolicy } from "../../policy/lib/trust";
import { UNKNOWN } from "../../policy/lib/unknown";
import { GITHUB_OIDC_PROVIDER as PROVIDER } from "./helpers";

/** The kinds of findings for a trust document. */
const kinds = (doc: unknown, options = {}) => analyzeTrustPolicy(parsePolicyDocument(doc), options).map((f) => f.kind);

describe("policy/lib/trust: GitHub subjects", () => {
  it("accepts concrete repo subjects, with or without a trailing wildcard", () => {
    for (const s of [
      "repo:acme/app:ref:refs/heads/main",
      "repo:acme/app:environment:prod",
      "repo:acme/app:pull_request",
      "repo:acme/app:ref:refs/heads/*",
      "repo:acme/app:*",
      "repo:acme/app",
    ]) {
      assert.ok(checkGitHubSubject(s).ok, s);
    }
    assert.deepEqual(
      { owner: checkGitHubSubject("repo:acme/app:x").owner, repo: checkGitHubSubject("repo:acme/app:x").repo },
      { owner: "acme", repo: "app" },
    );
  });

  it("rejects wildcards in the owner or repository part and non-repo subjects", () => {
    const bad: [string, RegExp][] = [
      ["repo:*", /does not name a repository/],
      ["repo:acme/*", /repository part/],
      ["repo:acme/*:ref:refs/heads/main", /repository part/],
      ["repo:acme/app*", /repository part/],
      ["repo:*/app:ref:refs/heads/main", /owner part/],
      ["repo:ac?me/app", /owner part/],
      ["*", /does not start with/],
      ["repo:acme:ref:refs/heads/main", /does not name a repository/],
    ];
    for (const [s, reason] of bad) {
      const c = checkGitHubSubject(s);
      assert.equal(c.ok, false, s);
      assert.match(c.reason ?? "", reason, s);
    }
  });

  it("honours allowedOwners and allowedSubjects", () => {
    assert.equal(checkGitHubSubject("repo:evil/app:ref:refs/heads/main", { allowedOwners: ["acme"] }).ok, false);
    assert.equal(checkGitHubSubject("repo:ACME/app:ref:refs/heads/main", { allowedOwners: ["acme"] }).ok, true);
    assert.equal(
      checkGitHubSubject("repository_owner_id:42:repository_id:7", {
        allowedSubjects: ["repository_owner_id:42:repository_id:7"],
      }).ok,
      true,
    );
  });

  it("recognises GitHub provider ARNs, including enterprise issuers", () => {
    assert.ok(isGitHubOidcProvider(PROVIDER));
    assert.ok(
      isGitHubOidcProvider(
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com/acme-enterprise",
      ),
    );
    assert.ok(!isGitHubOidcProvider("arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X"));
    assert.ok(
      !isGitHubOidcProvider("arn:aws:iam::123456789012:oidc-provider/evil-token.actions.githubusercontent.com.example"),
    );
    assert.equal(
      oidcProviderHost("https://token.actions.githubusercontent.com"),
      "token.actions.githubusercontent.com",
    );
  });
});
describe("policy/lib/trust: issue 14 misses and false positives", () => {
  const stmt = (condition: unknown, provider: unknown = PROVIDER) => ({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: provider },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: condition,
      },
    ],
  });
  const AUD = { StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" } };

  it("a StringLikeIfExists / ForAllValues sub on another issuer slug's key is vacuously true: not pinned", () => {
    for (const op of ["StringLikeIfExists", "ForAllValues:StringLike"]) {
      const d = stmt({ ...AUD, [op]: { "token.actions.githubusercontent.com/acme:sub": "repo:acme/app:*" } });
      assert.deepEqual(kinds(d), ["github-oidc-no-subject"], op);
    }
    // On the issuer's own key it still pins (GitHub always sends sub).
    const own = stmt({ ...AUD, StringLikeIfExists: { "token.actions.githubusercontent.com:sub": "repo:acme/app:*" } });
    assert.deepEqual(kinds(own), []);
    // With the provider unknown during preview nothing is certain.
    const unknownProvider = stmt(
      { ...AUD, StringLikeIfExists: { "token.actions.githubusercontent.com/acme:sub": "repo:acme/app:*" } },
      UNKNOWN,
    );
    assert.deepEqual(kinds(unknownProvider), []);
  });

  it("accepts GitHub's immutable-ID subjects (repo:OWNER-OWNERID/REPO-REPOID:...), also against allowedOwners", () => {
    const d = stmt({
      ...AUD,
      StringEquals: {
        ...AUD.StringEquals,
        "token.actions.githubusercontent.com:sub": "repo:acme-1234567/app-7654321:ref:refs/heads/main",
      },
    });
    assert.deepEqual(kinds(d, { allowedOwners: ["acme"] }), []);
    assert.equal(
      checkGitHubSubject("repo:evil-1234567/app-1:ref:refs/heads/main", { allowedOwners: ["acme"] }).ok,
      false,
    );
  });

  it("accepts customised subject templates that pin a repository, not those that do not", () => {
    for (const s of [
      "repository_owner_id:42:repository_id:7",
      "repository_id:7:environment:prod",
      "repository:acme/app:environment:*",
      "repository_owner:acme:repository:acme/app:ref:refs/heads/main",
    ])
      assert.ok(checkGitHubSubject(s).ok, s);
    for (const s of [
      "repository_owner:acme:*",
      "repository_owner_id:42",
      "environment:prod",
      "repository_id:*",
      "repository:acme/*",
    ])
      assert.equal(checkGitHubSubject(s).ok, false, s);
    assert.equal(
      checkGitHubSubject("repository_owner:evil:repository:evil/app", { allowedOwners: ["acme"] }).ok,
      false,
    );
  });
});
