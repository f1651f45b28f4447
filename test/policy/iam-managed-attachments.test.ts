/**
 * aws-iam-attachment-no-broad-managed-policies: AWS managed policies that grant too much.
 */
import * as assert from "node:assert/strict";
import { UNKNOWN } from "../../policy/evaluate";
import { awsManagedPolicyName, isBroadManagedPolicy } from "../../policy/rules/iam";
import { assertClean, assertNotApplicable, assertViolates, messages, res, runPolicy, LAMBDA_TRUST } from "./helpers";
import { POLICY, ROLE } from "./resource-types";

describe("aws-iam-attachment-no-broad-managed-policies", () => {
  const P = "aws-iam-attachment-no-broad-managed-policies";

  it("flags AmazonS3FullAccess attached to a deploy role (tutorial mistake)", async () => {
    await assertViolates(
      P,
      [
        res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "deploy-s3", {
          role: "deploy",
          policyArn: "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        }),
      ],
      'Attaches the AWS managed policy arn:aws:iam::aws:policy/AmazonS3FullAccess to role "deploy"',
    );
  });

  it("flags AdministratorAccess / PowerUserAccess on users, groups, PolicyAttachment, exclusive attachments and Role.managedPolicyArns", async () => {
    await assertViolates(
      P,
      [
        res("aws:iam/userPolicyAttachment:UserPolicyAttachment", "u", {
          user: "ci",
          policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
        }),
      ],
      'user "ci"',
    );
    await assertViolates(
      P,
      [
        res("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "g", {
          group: "devs",
          policyArn: "arn:aws:iam::aws:policy/PowerUserAccess",
        }),
      ],
      'group "devs"',
    );
    await assertViolates(
      P,
      [
        res("aws:iam/policyAttachment:PolicyAttachment", "pa", {
          roles: ["a"],
          policyArn: "arn:aws:iam::aws:policy/AWSLambda_FullAccess",
        }),
      ],
      "AWSLambda_FullAccess",
    );
    await assertViolates(
      P,
      [
        res("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "x", {
          roleName: "r",
          policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonEC2FullAccess"],
        }),
      ],
      "AmazonEC2FullAccess",
      'role "r"',
    );
    const found = await assertViolates(
      P,
      [
        res(ROLE, "r", {
          assumeRolePolicy: LAMBDA_TRUST,
          managedPolicyArns: [
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
          ],
        }),
      ],
      "this role (managedPolicyArns)",
    );
    assert.equal(found.length, 1);
    await assertViolates(
      P,
      [res(ROLE, "r", { managedPolicyArns: ["arn:aws-us-gov:iam::aws:policy/job-function/SystemAdministrator"] })],
      "SystemAdministrator",
    );
  });

  it("accepts narrow AWS managed policies, customer managed policies and unknown ARNs", async () => {
    await assertClean(P, [
      res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", {
        role: "r",
        policyArn: "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
      }),
      res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "b", {
        role: "r",
        policyArn: "arn:aws:iam::123456789012:policy/MyS3FullAccess",
      }),
      res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "c", { role: UNKNOWN, policyArn: UNKNOWN }),
      res(ROLE, "r", { managedPolicyArns: UNKNOWN }),
      res(ROLE, "r2", { managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", UNKNOWN] }),
    ]);
  });

  it("config: allowedPolicyArns and deniedPolicyNames", async () => {
    const att = res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "ro", {
      role: "r",
      policyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
    });
    const admin = res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "adm", {
      role: "break-glass",
      policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
    });
    assert.deepEqual(await messages(P, [att]), []);
    assert.equal((await messages(P, [att], { config: { [P]: { deniedPolicyNames: ["ReadOnlyAccess"] } } })).length, 1);
    assert.deepEqual(
      await messages(P, [admin], {
        config: { [P]: { allowedPolicyArns: ["arn:aws:iam::aws:policy/Administrator*"] } },
      }),
      [],
    );
  });

  it("is not applicable to other types", async () => {
    const p = res(POLICY, "p", { policy: "{}" });
    assertNotApplicable(await runPolicy(P, [p]), P, /Policy only applies/, p.urn);
  });

  it("managed policy name helpers", () => {
    assert.equal(
      awsManagedPolicyName("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"),
      "job-function/ViewOnlyAccess",
    );
    assert.equal(awsManagedPolicyName("arn:aws:iam::123456789012:policy/x"), undefined);
    assert.ok(isBroadManagedPolicy("arn:aws:iam::aws:policy/AdministratorAccess-Amplify"));
    assert.ok(isBroadManagedPolicy("arn:aws-cn:iam::aws:policy/IAMFullAccess"));
    assert.ok(!isBroadManagedPolicy("arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"));
  });
});
