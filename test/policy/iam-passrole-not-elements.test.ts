/**
 * aws-iam-policy-no-passrole-star and aws-iam-policy-no-allow-not-elements.
 */
import * as assert from "node:assert/strict";
import { UNKNOWN } from "../../policy/evaluate";
import { isAnyResource } from "../../policy/rules/iam";
import { assertClean, assertNotApplicable, assertViolates, doc, json, messages, res, runPolicy } from "./helpers";
import { POLICY, QUEUE, ROLE, ROLE_POLICY } from "./resource-types";

describe("aws-iam-policy-no-passrole-star", () => {
  const P = "aws-iam-policy-no-passrole-star";

  it("flags iam:PassRole on * (tutorial mistake)", async () => {
    await assertViolates(
      P,
      [
        res(POLICY, "deploy", {
          policy: json({ Sid: "Pass", Effect: "Allow", Action: ["ecs:RunTask", "iam:PassRole"], Resource: "*" }),
        }),
      ],
      'policy: Statement[0] (Sid "Pass") allows iam:PassRole on Resource "*"',
      "iam:PassedToService",
    );
  });

  it("flags PassRole granted via iam:* or iam:Pass* and on every role of an account", async () => {
    await assertViolates(
      P,
      [
        res(POLICY, "p", {
          policy: doc({ Effect: "Allow", Action: "iam:Pass*", Resource: "arn:aws:iam::123456789012:role/*" }),
        }),
      ],
      'iam:PassRole (via "iam:Pass*") on Resource "arn:aws:iam::123456789012:role/*"',
    );
    await assertViolates(
      P,
      [res(ROLE_POLICY, "p", { policy: doc({ Effect: "Allow", Action: ["iam:*"], Resource: ["*"] }) })],
      'via "iam:*"',
    );
  });

  it("accepts PassRole on specific role ARNs, or a prefix of role names", async () => {
    await assertClean(P, [
      res(POLICY, "p", {
        policy: json({
          Effect: "Allow",
          Action: "iam:PassRole",
          Resource: ["arn:aws:iam::123456789012:role/cirunners-runner", "arn:aws:iam::123456789012:role/cirunners-*"],
          Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
        }),
      }),
      res(POLICY, "q", { policy: json({ Effect: "Allow", Action: "iam:GetRole", Resource: "*" }) }),
    ]);
  });

  it("handles unknown parts", async () => {
    await assertClean(P, [
      res(POLICY, "p", { policy: doc({ Effect: "Allow", Action: "iam:PassRole", Resource: UNKNOWN }) }),
      res(POLICY, "q", { policy: UNKNOWN }),
    ]);
    await assertViolates(
      P,
      [
        res(POLICY, "p", {
          policy: doc(UNKNOWN, { Effect: "Allow", Action: "iam:PassRole", Resource: ["*", UNKNOWN] }),
        }),
      ],
      "Statement[1]",
    );
  });

  it("is not applicable to other types and honours exemptions", async () => {
    const q = res(QUEUE, "q", {});
    assertNotApplicable(await runPolicy(P, [q]), P, /Policy only applies/, q.urn);
    const p = res(POLICY, "p", {
      policy: json({ Effect: "Allow", Action: "iam:PassRole", Resource: "*" }),
      tags: { exempt: "passrole" },
    });
    assert.deepEqual(await messages(P, [p], { config: { [P]: { exemptTags: { exempt: "passrole" } } } }), []);
  });

  it("flags role*, role/?*, role/** (IAM's * crosses /) and other partitions; not a path or a name prefix", async () => {
    const pass = (resource: string) =>
      res(POLICY, "p", { policy: json({ Effect: "Allow", Action: "iam:PassRole", Resource: resource }) });
    for (const r of [
      "arn:aws:iam::123456789012:role*",
      "arn:aws:iam::123456789012:role/?*",
      "arn:aws:iam::123456789012:role/**",
      "arn:aws-us-gov:iam::123456789012:role/*",
      "arn:aws-cn:iam::*:*",
    ])
      await assertViolates(P, [pass(r)], `on Resource "${r}"`);
    await assertClean(P, [
      pass("arn:aws:iam::123456789012:role/cirunners/*"),
      pass("arn:aws:iam::123456789012:role/ci-?*"),
    ]);
    assert.ok(isAnyResource("*") && isAnyResource("arn:aws:*:*:*:*") && isAnyResource("arn:*"));
    assert.ok(!isAnyResource("arn:aws:s3:::*"));
  });
});

describe("aws-iam-policy-no-allow-not-elements", () => {
  const P = "aws-iam-policy-no-allow-not-elements";

  it("flags Allow with NotAction and with NotResource", async () => {
    await assertViolates(
      P,
      [res(POLICY, "p", { policy: json({ Effect: "Allow", NotAction: "iam:*", Resource: "*" }) })],
      'policy: Statement[0] is an Allow statement with NotAction "iam:*"',
    );
    await assertViolates(
      P,
      [
        res(ROLE_POLICY, "p", {
          policy: doc({ Effect: "Allow", Action: ["s3:GetObject"], NotResource: ["arn:aws:s3:::secret/*"] }),
        }),
      ],
      'NotResource "arn:aws:s3:::secret/*"',
    );
  });

  it("flags Allow with NotPrincipal in a trust policy", async () => {
    await assertViolates(
      P,
      [
        res(ROLE, "r", {
          assumeRolePolicy: json({
            Effect: "Allow",
            NotPrincipal: { AWS: "arn:aws:iam::123456789012:root" },
            Action: "sts:AssumeRole",
          }),
        }),
      ],
      "assumeRolePolicy: Statement[0] is an Allow statement with NotPrincipal",
    );
  });

  it("accepts Deny with NotAction/NotResource and skips unknown statements", async () => {
    await assertClean(P, [
      res(POLICY, "p", {
        policy: json(
          {
            Effect: "Deny",
            NotAction: ["sts:GetCallerIdentity"],
            NotResource: "arn:aws:s3:::x",
            Condition: { Bool: { "aws:MultiFactorAuthPresent": "false" } },
          },
          { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::x/*" },
        ),
      }),
      res(POLICY, "q", { policy: doc(UNKNOWN, { Effect: UNKNOWN, NotAction: "iam:*", Resource: "*" }) }),
    ]);
  });

  it("is not applicable to other types", async () => {
    const q = res(QUEUE, "q", {});
    assertNotApplicable(await runPolicy(P, [q]), P, /Policy only applies/, q.urn);
  });
});
