/**
 * aws-iam-policy-no-star-resource: actions with resource types may not be granted on "*".
 */
import * as assert from "node:assert/strict";
import { UNKNOWN } from "../../policy/evaluate";
import { assertClean, assertNotApplicable, assertViolates, doc, json, messages, res, runPolicy } from "./helpers";
import { POLICY, QUEUE, ROLE, ROLE_POLICY } from "./resource-types";

describe("aws-iam-policy-no-star-resource", () => {
  const P = "aws-iam-policy-no-star-resource";

  it('flags "Resource": "*" on ec2:RunInstances (tutorial mistake) with a scoping hint', async () => {
    await assertViolates(
      P,
      [
        res(POLICY, "scale-up", {
          policy: json({
            Sid: "Launch",
            Effect: "Allow",
            Action: ["ec2:RunInstances", "ec2:CreateTags", "ec2:DescribeInstances"],
            Resource: "*",
          }),
        }),
      ],
      'policy: Statement[0] (Sid "Launch") allows "ec2:RunInstances", "ec2:CreateTags" on "Resource": "*"',
      /ec2:RunInstances → [^;]*arn:\$\{Partition\}:ec2:\$\{Region\}:\$\{Account\}:instance\/\$\{InstanceId\}/,
    );
  });

  it("does not list exempt actions of the same statement", async () => {
    const [m] = await messages(P, [
      res(POLICY, "p", {
        policy: json({ Effect: "Allow", Action: ["ec2:RunInstances", "ec2:DescribeInstances"], Resource: "*" }),
      }),
    ]);
    assert.ok(!m.includes('"ec2:DescribeInstances"'), m);
  });

  it('flags "Resource": "*" on iam:PassRole (tutorial mistake) in an object document with scalar values', async () => {
    await assertViolates(
      P,
      [res(ROLE_POLICY, "deploy", { policy: doc({ Effect: "Allow", Action: "iam:PassRole", Resource: "*" }) })],
      '"iam:PassRole" on "Resource": "*"',
    );
  });

  it("flags * inside a Resource array and arn:aws:*:*:*:*, even with an unknown sibling", async () => {
    await assertViolates(
      P,
      [res(POLICY, "p", { policy: doc({ Effect: "Allow", Action: "sqs:SendMessage", Resource: [UNKNOWN, "*"] }) })],
      '"sqs:SendMessage" on "Resource": "*"',
    );
    await assertViolates(
      P,
      [
        res(POLICY, "p", {
          policy: json({ Effect: "Allow", Action: "ssm:GetParameter", Resource: "arn:aws:*:*:*:*" }),
        }),
      ],
      '"Resource": "arn:aws:*:*:*:*"',
    );
    await assertViolates(
      P,
      [
        res(POLICY, "p", {
          policy: doc({ Effect: "Allow", Action: ["ec2:TerminateInstances", UNKNOWN], Resource: "*" }),
        }),
      ],
      '"ec2:TerminateInstances"',
    );
  });

  it("flags the CodeBuild VPC set's CreateNetworkInterface/DeleteNetworkInterface but not its Describe* actions", async () => {
    const [m] = await messages(P, [
      res(ROLE, "codebuild", {
        assumeRolePolicy: json({
          Effect: "Allow",
          Principal: { Service: "codebuild.amazonaws.com" },
          Action: "sts:AssumeRole",
        }),
        inlinePolicies: [
          {
            name: "vpc",
            policy: json({
              Effect: "Allow",
              Action: [
                "ec2:CreateNetworkInterface",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DeleteNetworkInterface",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
              ],
              Resource: "*",
            }),
          },
        ],
      }),
    ]);
    assert.match(
      m,
      /^inlinePolicies\[0\] \("vpc"\): Statement\[0\] allows "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface" on/,
    );
  });

  it("accepts actions without resource-level permissions on * and scoped ARNs for the rest", async () => {
    await assertClean(P, [
      res(POLICY, "p", {
        policy: json(
          {
            Effect: "Allow",
            Action: [
              "ec2:DescribeInstances",
              "ec2:DescribeLaunchTemplates",
              "ecr:GetAuthorizationToken",
              "ssm:DescribeParameters",
              "logs:DescribeLogGroups",
              "sts:GetCallerIdentity",
              "cloudwatch:PutMetricData",
              "xray:PutTraceSegments",
              "ecs:DescribeTaskDefinition",
              "ecs:ListTaskDefinitions",
            ],
            Resource: "*",
          },
          {
            Effect: "Allow",
            Action: "ec2:RunInstances",
            Resource: ["arn:aws:ec2:eu-west-1:123456789012:instance/*", "arn:aws:ec2:eu-west-1::image/ami-123"],
          },
          { Effect: "Deny", Action: "ec2:RunInstances", Resource: "*" },
        ),
      }),
    ]);
  });

  it("flags ec2:Describe* on * because it covers Describe actions with resource types (DescribeInstanceAttribute returns user data)", async () => {
    await assertViolates(
      P,
      [res(POLICY, "p", { policy: json({ Effect: "Allow", Action: "ec2:Describe*", Resource: "*" }) })],
      /"ec2:Describe\*" on "Resource": "\*"/,
      /ec2:Describe\* covers [^;]*and \d+ more, which have resource types/,
    );
  });

  it("flags resource patterns equivalent to * for the action's service, in every partition", async () => {
    for (const [action, resource] of [
      ["s3:GetObject", "arn:aws:s3:::*"],
      ["ec2:TerminateInstances", "arn:aws:ec2:*:*:*"],
      ["ec2:TerminateInstances", "arn:aws-cn:ec2:*"],
      ["ssm:GetParameter", "arn:aws-us-gov:ssm:us-gov-west-1:123456789012:*"],
    ]) {
      await assertViolates(
        P,
        [res(POLICY, "p", { policy: json({ Effect: "Allow", Action: action, Resource: resource }) })],
        `"Resource": "${resource}"`,
      );
    }
    // Another service's wildcard ARN does not reach the action; a bucket's objects are a scope.
    await assertClean(P, [
      res(POLICY, "p", {
        policy: json({
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: ["arn:aws:ec2:*:*:*", "arn:aws:s3:::bucket/*"],
        }),
      }),
    ]);
  });

  it("accepts attribute-based access: * narrowed by aws:ResourceTag / ec2:ResourceTag (not by IfExists or negation)", async () => {
    const terminate = (condition: unknown) =>
      res(POLICY, "reaper", {
        policy: json({ Effect: "Allow", Action: "ec2:TerminateInstances", Resource: "*", Condition: condition }),
      });
    await assertClean(P, [
      terminate({ StringEquals: { "aws:ResourceTag/cirunners:pool": "linux" } }),
      terminate({ StringLike: { "ec2:ResourceTag/ManagedBy": "cirunners*" } }),
    ]);
    await assertViolates(
      P,
      [terminate({ StringEqualsIfExists: { "aws:ResourceTag/pool": "linux" } })],
      "ec2:TerminateInstances",
    );
    await assertViolates(
      P,
      [terminate({ StringNotEquals: { "aws:ResourceTag/pool": "prod" } })],
      "ec2:TerminateInstances",
    );
    await assertViolates(
      P,
      [terminate({ StringEquals: { "aws:RequestTag/pool": "linux" } })],
      "ec2:TerminateInstances",
    );
  });

  it("skips wholly unknown documents and unknown resources", async () => {
    await assertClean(P, [
      res(POLICY, "p", { policy: UNKNOWN }),
      res(POLICY, "q", { policy: doc({ Effect: "Allow", Action: "ec2:RunInstances", Resource: UNKNOWN }) }),
    ]);
  });

  it("is not applicable to other types", async () => {
    const q = res(QUEUE, "q", {});
    assertNotApplicable(await runPolicy(P, [q]), P, /Policy only applies/, q.urn);
  });

  it("config: extraAllowedActions and exemptions", async () => {
    const p = res(POLICY, "spot", {
      policy: json({ Effect: "Allow", Action: "ec2:GetConsoleOutput", Resource: "*" }),
    });
    assert.equal((await messages(P, [p])).length, 1);
    assert.deepEqual(await messages(P, [p], { config: { [P]: { extraAllowedActions: ["ec2:GetConsole*"] } } }), []);
    assert.deepEqual(await messages(P, [p], { config: { [P]: { exemptNamePatterns: ["sp?t"] } } }), []);
  });
});
