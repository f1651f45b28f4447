import * as assert from "node:assert/strict";
import {
  actionCoveredBy,
  actionMatches,
  isAllActionsWildcard,
  serviceWideWildcard,
  splitAction,
} from "../../policy/lib/actions";
import { hasWildcard, wildcardCovers, wildcardMatch } from "../../policy/lib/glob";
import {
  ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS,
  actionAllowedOnAnyResource,
  resourceArnHint,
} from "../../policy/lib/resource-level";

describe("policy/lib/glob", () => {
  it("wildcardMatch: * and ? with optional case-insensitivity", () => {
    assert.ok(wildcardMatch("ec2:Describe*", "ec2:DescribeInstances"));
    assert.ok(wildcardMatch("EC2:describe*", "ec2:DescribeInstances"));
    assert.ok(!wildcardMatch("EC2:describe*", "ec2:DescribeInstances", false));
    assert.ok(wildcardMatch("iam:?assRole", "iam:PassRole"));
    assert.ok(!wildcardMatch("iam:?assRole", "iam:PPassRole"));
    assert.ok(wildcardMatch("*", ""));
    assert.ok(!wildcardMatch("a.b", "aXb"), "regex metacharacters are literal");
    assert.ok(wildcardMatch("repo:acme/app:ref:refs/heads/*", "repo:acme/app:ref:refs/heads/feature/x"));
  });

  it("wildcardCovers is sound for IAM patterns", () => {
    assert.ok(wildcardCovers("ec2:Describe*", "ec2:DescribeInstances"));
    assert.ok(wildcardCovers("ec2:Describe*", "ec2:DescribeInst*"));
    assert.ok(wildcardCovers("ec2:Describe*", "ec2:describe?pcs"));
    assert.ok(!wildcardCovers("ec2:Describe*", "ec2:*"));
    assert.ok(!wildcardCovers("ec2:Describe*", "ec2:Des*"));
    assert.ok(!wildcardCovers("ec2:Describe?pcs", "ec2:Describe*pcs"), "? cannot absorb *");
    assert.ok(wildcardCovers("*", "anything:*"));
    assert.ok(!wildcardCovers("ecr:GetAuthorizationToken", "ecr:GetAuthorizationToken*"));
    assert.ok(hasWildcard("a*") && hasWildcard("a?") && !hasWildcard("abc"));
  });
});

describe("policy/lib/actions", () => {
  it("splitAction", () => {
    assert.deepEqual(splitAction("s3:GetObject"), { service: "s3", name: "GetObject" });
    assert.equal(splitAction("*"), undefined);
  });

  it("isAllActionsWildcard: *, *:*, not service-scoped", () => {
    assert.ok(isAllActionsWildcard("*"));
    assert.ok(isAllActionsWildcard(" * "));
    assert.ok(isAllActionsWildcard("*:*"));
    assert.ok(!isAllActionsWildcard("s3:*"));
    assert.ok(!isAllActionsWildcard("ec2:Describe*"));
  });

  it("serviceWideWildcard: service:* in any case, not partial wildcards", () => {
    assert.equal(serviceWideWildcard("s3:*"), "s3");
    assert.equal(serviceWideWildcard("IAM:*"), "iam");
    assert.equal(serviceWideWildcard("ec2:**"), "ec2");
    assert.equal(serviceWideWildcard("ec2:Describe*"), undefined);
    assert.equal(serviceWideWildcard("*"), undefined);
    assert.equal(serviceWideWildcard("*:*"), undefined);
  });

  it("actionMatches: a statement pattern grants a concrete action, case-insensitively", () => {
    assert.ok(actionMatches("iam:PassRole", "iam:PassRole"));
    assert.ok(actionMatches("IAM:passrole", "iam:PassRole"));
    assert.ok(actionMatches("iam:Pass*", "iam:PassRole"));
    assert.ok(actionMatches("iam:*", "iam:PassRole"));
    assert.ok(actionMatches("*", "iam:PassRole"));
    assert.ok(!actionMatches("iam:GetRole", "iam:PassRole"));
    assert.ok(!actionMatches("lambda:InvokeFunctionUrl", "lambda:InvokeFunction"));
  });

  it("actionCoveredBy: the statement action stays inside an allow-list pattern", () => {
    assert.ok(actionCoveredBy("ec2:Describe*", "EC2:describeSubnets"));
    assert.ok(!actionCoveredBy("ec2:Describe*", "ec2:CreateNetworkInterface"));
  });
});

describe("policy/lib/resource-level: actions allowed on Resource *", () => {
  const allowed = [
    "ec2:DescribeInstances",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeVpcs",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeSpotPriceHistory",
    "ec2:Describe*",
    "ecr:GetAuthorizationToken",
    "ssm:DescribeParameters",
    "logs:DescribeLogGroups",
    "sts:GetCallerIdentity",
    "cloudwatch:PutMetricData",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ecs:DescribeTaskDefinition",
    "ecs:ListTaskDefinitions",
    "ecs:DeregisterTaskDefinition",
    "sqs:ListQueues",
    "tag:GetResources",
  ];
  const scoped = [
    "ec2:RunInstances",
    "ec2:CreateFleet",
    "ec2:CreateTags",
    "ec2:TerminateInstances",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ecs:RegisterTaskDefinition",
    "ecs:RunTask",
    "iam:PassRole",
    "iam:CreateServiceLinkedRole",
    "ssm:GetParameter",
    "ssm:PutParameter",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogStreams",
    "sqs:SendMessage",
    "kms:Decrypt",
    "states:StartExecution",
    "ec2:*",
    "ec2:Des*",
    "*",
  ];
  for (const a of allowed) {
    it(`allows ${a} on *`, () => assert.ok(actionAllowedOnAnyResource(a)));
  }
  for (const a of scoped) {
    it(`requires ARNs for ${a}`, () => assert.ok(!actionAllowedOnAnyResource(a)));
  }

  it("accepts extra patterns from config", () => {
    assert.ok(!actionAllowedOnAnyResource("ec2:GetSpotPlacementScores"));
    assert.ok(actionAllowedOnAnyResource("ec2:GetSpotPlacementScores", ["ec2:GetSpotPlacementScores"]));
    assert.ok(actionAllowedOnAnyResource("pricing:GetProducts", ["pricing:*"]));
  });

  it("every list entry documents a note and its Service Authorization Reference page", () => {
    for (const e of ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS) {
      assert.match(e.action, /^[a-z0-9-]+:[A-Za-z*]+$/, e.action);
      assert.ok(e.note.length > 5, e.action);
      assert.match(
        e.reference,
        /^https:\/\/docs\.aws\.amazon\.com\/service-authorization\/latest\/reference\/list_[a-z0-9-]+\.html$/,
        e.action,
      );
    }
    const names = ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS.map((e) => e.action.toLowerCase());
    assert.equal(new Set(names).size, names.length, "no duplicates");
  });

  it("gives ARN hints", () => {
    assert.match(resourceArnHint("ec2:RunInstances"), /instance\/\*/);
    assert.match(resourceArnHint("iam:PassRole"), /role/);
    assert.match(resourceArnHint("s3:*"), /specific actions/);
    assert.match(resourceArnHint("foo:Bar"), /Service Authorization Reference/);
  });
});
