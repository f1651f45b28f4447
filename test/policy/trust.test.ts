import * as assert from "node:assert/strict";
import { parsePolicyDocument } from "../../policy/lib/iam-document";
import { analyzeTrustPolicy, checkGitHubSubject, isGitHubOidcProvider, oidcProviderHost } from "../../policy/lib/trust";
import { UNKNOWN } from "../../policy/lib/unknown";

const PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";

function gh(condition: unknown, extra: Record<string, unknown> = {}) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: PROVIDER },
        Action: "sts:AssumeRoleWithWebIdentity",
        ...(condition === undefined ? {} : { Condition: condition }),
        ...extra,
      },
    ],
  };
}

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

describe("policy/lib/trust: analyzeTrustPolicy", () => {
  const good = {
    StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
    StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main" },
  };

  it("accepts a pinned GitHub trust (StringLike or StringEquals for sub)", () => {
    assert.deepEqual(kinds(gh(good)), []);
    assert.deepEqual(
      kinds(
        gh({
          StringEquals: {
            "token.actions.githubusercontent.com:aud": ["sts.amazonaws.com"],
            "token.actions.githubusercontent.com:sub": [
              "repo:acme/app:environment:prod",
              "repo:acme/app:ref:refs/heads/main",
            ],
          },
        }),
      ),
      [],
    );
  });

  it("flags a GitHub trust with no sub condition (the tutorial mistake)", () => {
    const findings = analyzeTrustPolicy(
      parsePolicyDocument(gh({ StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" } })),
    );
    assert.deepEqual(
      findings.map((f) => f.kind),
      ["github-oidc-no-subject"],
    );
    assert.match(findings[0].message, /ANY GitHub repository/);
    assert.match(findings[0].message, /Statement\[0\]/);
  });

  it("flags repo:* and repo:acme/* subjects, and names them", () => {
    for (const sub of ["repo:*", "repo:acme/*"]) {
      const findings = analyzeTrustPolicy(
        parsePolicyDocument(
          gh({
            StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
            StringLike: { "token.actions.githubusercontent.com:sub": sub },
          }),
        ),
      );
      assert.deepEqual(
        findings.map((f) => f.kind),
        ["github-oidc-bad-subject"],
        sub,
      );
      assert.ok(findings[0].message.includes(`"${sub}"`), findings[0].message);
    }
  });

  it("flags one bad value among good ones in the same block", () => {
    assert.deepEqual(
      kinds(
        gh({
          StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
          StringLike: {
            "token.actions.githubusercontent.com:sub": ["repo:acme/app:ref:refs/heads/main", "repo:acme/*"],
          },
        }),
      ),
      ["github-oidc-bad-subject"],
    );
  });

  it("treats AND-combined blocks: one fully pinned block is enough", () => {
    assert.deepEqual(
      kinds(
        gh({
          StringEquals: {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main",
          },
          StringLike: { "token.actions.githubusercontent.com:sub": "repo:*" },
        }),
      ),
      [],
    );
  });

  it("does not count negated operators as pinning", () => {
    assert.deepEqual(
      kinds(
        gh({
          StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
          StringNotLike: { "token.actions.githubusercontent.com:sub": "repo:evil/*" },
        }),
      ),
      ["github-oidc-no-subject"],
    );
  });

  it("checks the audience: missing or wrong", () => {
    assert.deepEqual(kinds(gh({ StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/app:*" } })), [
      "github-oidc-no-audience",
    ]);
    assert.deepEqual(
      kinds(
        gh({
          StringLike: {
            "token.actions.githubusercontent.com:aud": "sts.*",
            "token.actions.githubusercontent.com:sub": "repo:acme/app:*",
          },
        }),
      ),
      ["github-oidc-bad-audience"],
    );
    assert.deepEqual(kinds(gh(undefined)), ["github-oidc-no-audience", "github-oidc-no-subject"]);
  });

  it("handles condition keys case-insensitively and IfExists / ForAnyValue variants", () => {
    assert.deepEqual(
      kinds(
        gh({
          StringEqualsIfExists: { "Token.Actions.GitHubUserContent.com:AUD": "sts.amazonaws.com" },
          "ForAnyValue:StringLike": { "token.actions.githubusercontent.com:sub": "repo:acme/app:*" },
        }),
      ),
      [],
    );
  });

  it("is undecided (reports nothing) when the relevant condition is unknown", () => {
    assert.deepEqual(kinds(gh(UNKNOWN)), []);
    assert.deepEqual(
      kinds(
        gh({
          StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
          StringLike: { "token.actions.githubusercontent.com:sub": UNKNOWN },
        }),
      ),
      [],
    );
    assert.deepEqual(
      kinds(
        gh({
          StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
          StringLike: { "token.actions.githubusercontent.com:sub": ["repo:acme/*", UNKNOWN] },
        }),
      ),
      [],
    );
    assert.deepEqual(kinds(UNKNOWN), []);
    assert.deepEqual(kinds({ Statement: UNKNOWN }), []);
  });

  it("identifies GitHub by its condition keys when the provider ARN is unknown during preview", () => {
    const doc = {
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: UNKNOWN },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
            StringLike: { "token.actions.githubusercontent.com:sub": "repo:*" },
          },
        },
      ],
    };
    assert.deepEqual(kinds(doc), ["github-oidc-bad-subject"]);
    const noKeys = {
      Statement: [{ Effect: "Allow", Principal: { Federated: UNKNOWN }, Action: "sts:AssumeRoleWithWebIdentity" }],
    };
    assert.deepEqual(kinds(noKeys), [], "an unknown provider without GitHub keys could be any OIDC provider");
  });

  it("ignores other providers, Deny statements, and statements not granting web identity", () => {
    const eks = {
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X" },
          Action: "sts:AssumeRoleWithWebIdentity",
        },
      ],
    };
    assert.deepEqual(kinds(eks), []);
    assert.deepEqual(
      kinds({
        Statement: [{ Effect: "Deny", Principal: { Federated: PROVIDER }, Action: "sts:AssumeRoleWithWebIdentity" }],
      }),
      [],
    );
    assert.deepEqual(
      kinds({ Statement: [{ Effect: "Allow", Principal: { Federated: PROVIDER }, Action: "sts:TagSession" }] }),
      [],
    );
    assert.deepEqual(kinds({ Statement: [{ Effect: "Allow", Principal: { Federated: PROVIDER }, Action: "sts:*" }] }), [
      "github-oidc-no-audience",
      "github-oidc-no-subject",
    ]);
  });

  it("honours extra provider hosts (GHES)", () => {
    const ghes = {
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/ghe.example.com/_services/token" },
          Action: "sts:AssumeRoleWithWebIdentity",
        },
      ],
    };
    assert.deepEqual(kinds(ghes), []);
    assert.deepEqual(kinds(ghes, { providerHosts: ["ghe.example.com/_services/token"] }), [
      "github-oidc-no-audience",
      "github-oidc-no-subject",
    ]);
  });

  it("flags Principal * and AWS *", () => {
    assert.deepEqual(kinds({ Statement: [{ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" }] }), [
      "public-principal",
    ]);
    assert.deepEqual(
      kinds({
        Statement: {
          Effect: "Allow",
          Principal: { AWS: ["arn:aws:iam::123456789012:root", "*"] },
          Action: "sts:AssumeRole",
        },
      }),
      ["public-principal"],
    );
    assert.deepEqual(
      kinds({
        Statement: [
          { Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "sts:AssumeRole" },
        ],
      }),
      [],
    );
    assert.deepEqual(
      kinds({
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      [],
    );
    assert.deepEqual(kinds({ Statement: [{ Effect: "Allow", Principal: UNKNOWN, Action: "sts:AssumeRole" }] }), []);
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
  const kinds = (d: unknown, options = {}) => analyzeTrustPolicy(parsePolicyDocument(d), options).map((f) => f.kind);
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
