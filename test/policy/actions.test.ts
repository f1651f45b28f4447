import * as assert from "node:assert/strict";
import {
  actionCoveredBy,
  actionMatches,
  isAllActionsWildcard,
  serviceWideWildcard,
  splitAction,
} from "../../policy/lib/actions";
import { hasWildcard, wildcardCovers, wildcardMatch } from "../../policy/lib/glob";

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
