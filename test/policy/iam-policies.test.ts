import * as assert from "node:assert/strict";
import { UNKNOWN } from "../../policy/evaluate";
import { awsManagedPolicyName, isAnyResource, isBroadManagedPolicy } from "../../policy/rules/iam";
import { assertClean, assertNotApplicable, assertViolates, doc, json, messages, res, runPolicy } from "./helpers";

const POLICY = "aws:iam/policy:Policy";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const USER_POLICY = "aws:iam/userPolicy:UserPolicy";
const GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy";
const QUEUE = "aws:sqs/queue:Queue";
const LAMBDA_TRUST = json({
  Effect: "Allow",
  Principal: { Service: "lambda.amazonaws.com" },
  Action: "sts:AssumeRole",
});

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

const PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
const ghTrust = (condition?: unknown) =>
  json({
    Effect: "Allow",
    Principal: { Federated: PROVIDER },
    Action: "sts:AssumeRoleWithWebIdentity",
    ...(condition ? { Condition: condition } : {}),
  });

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
            Principal: { Federated: PROVIDER },
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
          Principal: { Federated: PROVIDER },
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
