// Issue 14: unknown actions, privilege escalation (CKV_AWS_286), credential exposure (CKV_AWS_287), admin-level
// managed policies not named *FullAccess.
import * as assert from "node:assert/strict";
import { UNKNOWN } from "../../policy/evaluate";
import { assertClean, assertViolates, json, messages, res } from "./helpers";
import { POLICY, ROLE } from "./resource-types";

const policyDoc = (...statements: unknown[]) => res(POLICY, "p", { policy: json(...statements) });

describe("aws-iam-policy-known-actions", () => {
  const P = "aws-iam-policy-known-actions";

  it("reports actions the SAR does not list, in Allow and in Deny (a misspelt Deny protects nothing)", async () => {
    await assertViolates(
      P,
      [policyDoc({ Effect: "Allow", Action: ["sqs:SendMesage", "sqs:ReceiveMessage"], Resource: "*" })],
      '"sqs:SendMesage"',
      "grants nothing",
    );
    await assertViolates(
      P,
      [policyDoc({ Effect: "Deny", Action: "ec2:TerminateInstance", Resource: "*" })],
      "the Deny protects nothing",
    );
    await assertViolates(P, [policyDoc({ Effect: "Allow", Action: "ec2:Descrbe*", Resource: "*" })], '"ec2:Descrbe*"');
  });

  it("accepts real actions, wildcards that match, unknown values, trust actions, and allowedUnknownActions", async () => {
    await assertClean(P, [
      policyDoc({ Effect: "Allow", Action: ["sqs:SendMessage", "ec2:Describe*", "*", UNKNOWN], Resource: "*" }),
      res(ROLE, "r", {
        assumeRolePolicy: json({
          Effect: "Allow",
          Principal: { Service: "ec2.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
        }),
      }),
    ]);
    const p = policyDoc({ Effect: "Allow", Action: "newsvc:DoThing", Resource: "*" });
    assert.deepEqual(await messages(P, [p], { config: { [P]: { allowedUnknownActions: ["newsvc:*"] } } }), []);
  });
});

describe("aws-iam-policy-no-privilege-escalation (CKV_AWS_286)", () => {
  const P = "aws-iam-policy-no-privilege-escalation";

  for (const action of [
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
    "iam:UpdateAssumeRolePolicy",
  ]) {
    it(`flags ${action} on every resource`, async () => {
      await assertViolates(P, [policyDoc({ Effect: "Allow", Action: action, Resource: "*" })], action);
    });
  }

  it("flags iam:PassRole on every role combined with a create action, across statements; and iam:Put* via wildcard", async () => {
    await assertViolates(
      P,
      [
        policyDoc(
          { Effect: "Allow", Action: "iam:PassRole", Resource: "arn:aws:iam::123456789012:role/*" },
          { Effect: "Allow", Action: ["lambda:CreateFunction", "lambda:InvokeFunction"], Resource: "*" },
        ),
      ],
      "PassExistingRoleToNewLambdaThenInvoke",
    );
    await assertViolates(
      P,
      [policyDoc({ Effect: "Allow", Action: "iam:Put*", Resource: "arn:aws:iam::123456789012:role*" })],
      "iam:PutRolePolicy",
    );
  });

  it("accepts the same actions scoped to named roles/policies, and PassRole on named roles with ec2:RunInstances", async () => {
    await assertClean(P, [
      policyDoc(
        {
          Effect: "Allow",
          Action: ["iam:AttachRolePolicy", "iam:PutRolePolicy"],
          Resource: "arn:aws:iam::123456789012:role/cirunners/*",
        },
        {
          Effect: "Allow",
          Action: "iam:CreatePolicyVersion",
          Resource: "arn:aws:iam::123456789012:policy/cirunners-runner",
        },
        { Effect: "Allow", Action: "iam:PassRole", Resource: "arn:aws:iam::123456789012:role/cirunners-runner" },
        { Effect: "Allow", Action: "ec2:RunInstances", Resource: "*" },
        { Effect: "Deny", Action: "iam:AttachRolePolicy", Resource: "*" },
      ),
    ]);
  });
});

describe("aws-iam-policy-no-credential-exposure (CKV_AWS_287)", () => {
  const P = "aws-iam-policy-no-credential-exposure";

  it("flags CreateAccessKey / CreateLoginProfile / UpdateLoginProfile on every user", async () => {
    await assertViolates(
      P,
      [policyDoc({ Effect: "Allow", Action: "iam:CreateAccessKey", Resource: "*" })],
      "iam:CreateAccessKey",
    );
    await assertViolates(
      P,
      [
        policyDoc({
          Effect: "Allow",
          Action: ["iam:CreateLoginProfile", "iam:UpdateLoginProfile"],
          Resource: "arn:aws:iam::123456789012:user/*",
        }),
      ],
      "iam:CreateLoginProfile",
      "iam:UpdateLoginProfile",
    );
  });

  it("accepts self-service on the caller's own user and named users", async () => {
    await assertClean(P, [
      policyDoc({
        Effect: "Allow",
        Action: "iam:CreateAccessKey",
        Resource: "arn:aws:iam::123456789012:user/${aws:username}",
      }),
      policyDoc({
        Effect: "Allow",
        Action: "iam:CreateLoginProfile",
        Resource: "arn:aws:iam::123456789012:user/ops/alice",
      }),
    ]);
  });
});

describe("aws-iam-attachment-no-broad-managed-policies: admin-level policies not named *FullAccess", () => {
  const P = "aws-iam-attachment-no-broad-managed-policies";
  const attach = (name: string) =>
    res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", {
      role: "r",
      policyArn: `arn:aws:iam::aws:policy/${name}`,
    });

  it("flags AWSCodeBuildAdminAccess, AdministratorAccess, PowerUserAccess, IAMFullAccess (also in aws-cn / aws-us-gov)", async () => {
    for (const name of [
      "AWSCodeBuildAdminAccess",
      "AdministratorAccess",
      "PowerUserAccess",
      "IAMFullAccess",
      "AWSElasticBeanstalkAdministrator",
    ])
      await assertViolates(P, [attach(name)], name);
    await assertViolates(
      P,
      [
        res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", {
          role: "r",
          policyArn: "arn:aws-cn:iam::aws:policy/AdministratorAccess",
        }),
      ],
      "AdministratorAccess",
    );
  });

  it("accepts read-only and service-role policies", async () => {
    await assertClean(P, [
      attach("ReadOnlyAccess"),
      attach("AWSCodeBuildReadOnlyAccess"),
      attach("service-role/AWSLambdaBasicExecutionRole"),
    ]);
  });
});
