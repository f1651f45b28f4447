/**
 * The role trust policies: aws-iam-role-github-oidc-trust-pinned and aws-iam-role-no-public-trust.
 */
import * as assert from "node:assert/strict";
import { UNKNOWN } from "../../policy/evaluate";
import {
  assertClean,
  assertNotApplicable,
  assertViolates,
  doc,
  json,
  messages,
  res,
  runPolicy,
  GITHUB_OIDC_PROVIDER,
  githubTrust,
  LAMBDA_TRUST,
} from "./helpers";
import { POLICY, ROLE } from "./resource-types";

const ghTrust = (condition: unknown) => JSON.stringify(githubTrust(condition));

describe("aws-iam-role-github-oidc-trust-pinned", () => {
  const P = "aws-iam-role-github-oidc-trust-pinned";
  const aud = { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" };

  it("flags a GitHub OIDC trust with no sub condition (tutorial mistake)", async () => {
    await assertViolates(
      P,
      [res(ROLE, "deploy", { assumeRolePolicy: ghTrust({ StringEquals: aud }) })],
      'assumeRolePolicy: Statement[0] trusts GitHub Actions OIDC for sts:AssumeRoleWithWebIdentity but has no "token.actions.githubusercontent.com:sub" condition',
    );
  });

  it("flags repo:* and repo:acme/* subjects (object documents, scalar and array values)", async () => {
    await assertViolates(
      P,
      [
        res(ROLE, "deploy", {
          assumeRolePolicy: doc({
            Effect: "Allow",
            Principal: { Federated: GITHUB_OIDC_PROVIDER },
            Action: ["sts:AssumeRoleWithWebIdentity"],
            Condition: { StringEquals: aud, StringLike: { "token.actions.githubusercontent.com:sub": "repo:*" } },
          }),
        }),
      ],
      '"repo:*"',
    );
    await assertViolates(
      P,
      [
        res(ROLE, "deploy", {
          assumeRolePolicy: ghTrust({
            StringEquals: aud,
            StringLike: { "token.actions.githubusercontent.com:sub": ["repo:acme/*"] },
          }),
        }),
      ],
      '"repo:acme/*" has a wildcard or nothing in the repository part',
    );
  });

  it("flags a missing audience", async () => {
    await assertViolates(
      P,
      [
        res(ROLE, "deploy", {
          assumeRolePolicy: ghTrust({
            StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main" },
          }),
        }),
      ],
      ':aud" condition',
    );
  });

  it("accepts pinned trusts (StringLike and StringEquals) and non-GitHub roles", async () => {
    await assertClean(P, [
      res(ROLE, "a", {
        assumeRolePolicy: ghTrust({
          StringEquals: aud,
          StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/*" },
        }),
      }),
      res(ROLE, "b", {
        assumeRolePolicy: ghTrust({
          StringEquals: { ...aud, "token.actions.githubusercontent.com:sub": "repo:acme/app:environment:prod" },
        }),
      }),
      res(ROLE, "c", { assumeRolePolicy: LAMBDA_TRUST }),
    ]);
  });

  it("unknown during preview: skips what is unknown, reports what is certain", async () => {
    await assertClean(P, [
      res(ROLE, "a", { assumeRolePolicy: UNKNOWN }),
      res(ROLE, "b", {
        assumeRolePolicy: doc({
          Effect: "Allow",
          Principal: { Federated: GITHUB_OIDC_PROVIDER },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: { StringEquals: aud, StringLike: { "token.actions.githubusercontent.com:sub": UNKNOWN } },
        }),
      }),
    ]);
    await assertViolates(
      P,
      [
        res(ROLE, "c", {
          assumeRolePolicy: doc({
            Effect: "Allow",
            Principal: { Federated: UNKNOWN },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: { StringEquals: aud, StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/*" } },
          }),
        }),
      ],
      '"repo:acme/*"',
    );
  });

  it("config: allowedOwners, providerHosts, exemptions", async () => {
    const role = res(ROLE, "deploy", {
      assumeRolePolicy: ghTrust({
        StringEquals: aud,
        StringLike: { "token.actions.githubusercontent.com:sub": "repo:someone-else/app:ref:refs/heads/main" },
      }),
      tags: { team: "platform" },
    });
    assert.deepEqual(await messages(P, [role]), []);
    const found = await messages(P, [role], { config: { [P]: { allowedOwners: ["acme"] } } });
    assert.equal(found.length, 1);
    assert.match(found[0], /not in the allowed owners \(acme\)/);
    assert.deepEqual(
      await messages(P, [role], { config: { [P]: { allowedOwners: ["acme"], exemptTags: { team: "platform" } } } }),
      [],
    );
    const ghes = res(ROLE, "ghes", {
      assumeRolePolicy: json({
        Effect: "Allow",
        Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/ghe.example.com/_services/token" },
        Action: "sts:AssumeRoleWithWebIdentity",
      }),
    });
    assert.deepEqual(await messages(P, [ghes]), []);
    assert.equal(
      (await messages(P, [ghes], { config: { [P]: { providerHosts: ["ghe.example.com/_services/token"] } } })).length,
      2,
    );
  });

  it("is not applicable to other types", async () => {
    const p = res(POLICY, "p", { policy: "{}" });
    assertNotApplicable(
      await runPolicy(P, [p]),
      P,
      /Policy only applies to resources of type 'aws:iam\/role:Role'/,
      p.urn,
    );
  });
});

describe("aws-iam-role-no-public-trust", () => {
  const P = "aws-iam-role-no-public-trust";

  it('flags "Principal": "*" and {"AWS": "*"}', async () => {
    await assertViolates(
      P,
      [res(ROLE, "r", { assumeRolePolicy: json({ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" }) })],
      'assumeRolePolicy: Statement[0] trusts everyone ("Principal": "*")',
    );
    await assertViolates(
      P,
      [
        res(ROLE, "r", {
          assumeRolePolicy: doc({ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }),
        }),
      ],
      '{"AWS": "*"}',
    );
  });

  it("accepts named principals, Deny statements and unknown principals", async () => {
    await assertClean(P, [
      res(ROLE, "a", {
        assumeRolePolicy: json({
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::123456789012:root" },
          Action: "sts:AssumeRole",
        }),
      }),
      res(ROLE, "b", {
        assumeRolePolicy: json(
          { Effect: "Deny", Principal: "*", Action: "sts:AssumeRole" },
          { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
        ),
      }),
      res(ROLE, "c", {
        assumeRolePolicy: doc({ Effect: "Allow", Principal: { AWS: UNKNOWN }, Action: "sts:AssumeRole" }),
      }),
      res(ROLE, "d", { assumeRolePolicy: UNKNOWN }),
    ]);
  });

  it("is not applicable to other types and honours name exemptions", async () => {
    const p = res(POLICY, "p", { policy: "{}" });
    assertNotApplicable(await runPolicy(P, [p]), P, /Policy only applies/, p.urn);
    const r = res(ROLE, "public-demo", {
      assumeRolePolicy: json({ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" }),
    });
    assert.deepEqual(await messages(P, [r], { config: { [P]: { exemptNamePatterns: ["public-*"] } } }), []);
  });
});
