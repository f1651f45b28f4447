/**
 * policy/lib/trust: analyzeTrustPolicy's findings for GitHub OIDC and other principals.
 */
import * as assert from "node:assert/strict";
import { parsePolicyDocument } from "../../policy/lib/iam-document";
import { analyzeTrustPolicy } from "../../policy/lib/trust";
import { UNKNOWN } from "../../policy/lib/unknown";
import { GITHUB_OIDC_PROVIDER as PROVIDER, githubTrust as gh } from "./helpers";

/** The kinds of findings for a trust document. */
const kinds = (doc: unknown, options = {}) => analyzeTrustPolicy(parsePolicyDocument(doc), options).map((f) => f.kind);

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
