/**
 * aws-iam-policy-no-wildcard-actions: every document-carrying type, JSON strings and objects, unknowns.
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
  LAMBDA_TRUST,
} from "./helpers";
import { GROUP_POLICY, POLICY, QUEUE, ROLE, ROLE_POLICY, USER_POLICY } from "./resource-types";

describe("aws-iam-policy-no-wildcard-actions", () => {
  const P = "aws-iam-policy-no-wildcard-actions";

  it('flags Action "*" in a JSON string policy and names statement, action and resource', async () => {
    await assertViolates(
      P,
      [res(POLICY, "admin", { policy: json({ Sid: "Everything", Effect: "Allow", Action: "*", Resource: "*" }) })],
      'policy: Statement[0] (Sid "Everything") allows "*" (every action of every AWS service) on Resource "*"',
    );
  });

  it("flags service:* in an object document with array actions, on every document-carrying type", async () => {
    const policy = doc({
      Effect: "Allow",
      Action: ["sqs:SendMessage", "s3:*"],
      Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
    });
    for (const type of [POLICY, ROLE_POLICY, USER_POLICY, GROUP_POLICY]) {
      await assertViolates(
        P,
        [res(type, "p", { policy })],
        '"s3:*" (every s3 action)',
        'Resource "arn:aws:s3:::b", "arn:aws:s3:::b/*"',
      );
    }
  });

  it("flags wildcard service prefixes and upper-case service wildcards", async () => {
    await assertViolates(
      P,
      [res(POLICY, "p", { policy: json({ Effect: "Allow", Action: "*:Get*", Resource: "*" }) })],
      "wildcard service prefix",
    );
    await assertViolates(
      P,
      [res(POLICY, "p", { policy: json({ Effect: "Allow", Action: "IAM:*", Resource: "*" }) })],
      "every iam action",
    );
  });

  it("checks Role inline policies (naming the inline policy) and trust policies", async () => {
    await assertViolates(
      P,
      [
        res(ROLE, "r", {
          assumeRolePolicy: LAMBDA_TRUST,
          inlinePolicies: [
            {
              name: "ok",
              policy: json({
                Effect: "Allow",
                Action: "sqs:SendMessage",
                Resource: "arn:aws:sqs:eu-west-1:123456789012:q",
              }),
            },
            { name: "bad", policy: json({ Effect: "Allow", Action: "ec2:*", Resource: "*" }) },
          ],
        }),
      ],
      'inlinePolicies[1] ("bad"): Statement[0] allows "ec2:*"',
    );
    await assertViolates(
      P,
      [
        res(ROLE, "r", {
          assumeRolePolicy: json({ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:*" }),
        }),
      ],
      'assumeRolePolicy: Statement[0] allows "sts:*"',
    );
  });

  it("accepts specific actions, partial wildcards and wildcard Deny statements", async () => {
    await assertClean(P, [
      res(POLICY, "p", {
        policy: json(
          { Effect: "Allow", Action: ["ec2:Describe*", "s3:Get*", "sqs:SendMessage"], Resource: "*" },
          { Effect: "Deny", Action: "*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } },
        ),
      }),
      res(ROLE, "r", { assumeRolePolicy: LAMBDA_TRUST }),
    ]);
  });

  it("still reports a certain violation when another statement is unknown; skips a wholly unknown document", async () => {
    await assertViolates(
      P,
      [
        res(POLICY, "p", {
          policy: { Version: "2012-10-17", Statement: [UNKNOWN, { Effect: "Allow", Action: "*", Resource: UNKNOWN }] },
        }),
      ],
      'Statement[1] allows "*"',
    );
    await assertClean(P, [
      res(POLICY, "p", { policy: UNKNOWN }),
      res(ROLE, "r", { assumeRolePolicy: UNKNOWN, inlinePolicies: UNKNOWN }),
      res(ROLE, "r2", { assumeRolePolicy: LAMBDA_TRUST, inlinePolicies: [UNKNOWN, { name: "x", policy: UNKNOWN }] }),
    ]);
    await assertClean(P, [
      res(POLICY, "p", { policy: { Statement: [{ Effect: UNKNOWN, Action: "*", Resource: "*" }] } }),
    ]);
  });

  it("reports an unparsable document", async () => {
    await assertViolates(P, [res(POLICY, "p", { policy: "{ not json" })], "not valid JSON");
  });

  it("is not applicable to other types", async () => {
    const queue = res(QUEUE, "q", {});
    const r = await runPolicy(P, [queue]);
    assertNotApplicable(r, P, /Policy only applies to resources of types 'aws:iam\/policy:Policy'/, queue.urn);
  });

  it("config: allowedWildcardActions, exemptNamePatterns, exemptTags, exemptStackTags", async () => {
    const p = res(POLICY, "logs-writer", {
      policy: json({ Effect: "Allow", Action: "logs:*", Resource: "*" }),
      tags: { "policy-exempt": "wildcards" },
    });
    assert.equal((await messages(P, [p])).length, 1);
    assert.deepEqual(await messages(P, [p], { config: { [P]: { allowedWildcardActions: ["LOGS:*"] } } }), []);
    let r = await runPolicy(P, [p], { config: { [P]: { exemptNamePatterns: ["logs-*"] } } });
    assert.deepEqual(r.violations, []);
    assertNotApplicable(r, P, /matches the exempt name pattern "logs-\*"/, p.urn);
    r = await runPolicy(P, [p], { config: { [P]: { exemptTags: { "policy-exempt": "wildcards" } } } });
    assertNotApplicable(r, P, /exemption tag policy-exempt=wildcards/, p.urn);
    assert.equal((await messages(P, [p], { config: { [P]: { exemptTags: { "policy-exempt": "other" } } } })).length, 1);
    r = await runPolicy(P, [p], {
      config: { [P]: { exemptStackTags: { sandbox: "*" } } },
      stackTags: { sandbox: "yes" },
    });
    assertNotApplicable(r, P, /stack carries the exemption tag sandbox=yes/, p.urn);
    assert.equal(
      (await messages(P, [p], { config: { [P]: { exemptStackTags: { sandbox: "*" } } }, stackTags: { env: "prod" } }))
        .length,
      1,
    );
  });

  it("does not decide while an exemption tag is unknown", async () => {
    const p = res(POLICY, "x", { policy: json({ Effect: "Allow", Action: "*", Resource: "*" }), tags: UNKNOWN });
    assert.deepEqual(await messages(P, [p], { config: { [P]: { exemptTags: { exempt: "*" } } } }), []);
    assert.equal((await messages(P, [p])).length, 1, "without exemptTags config the unknown tags do not matter");
  });
});
