/**
 * CodeBuildRunners' security group rules for targets and EKS, and its pure decisions (webhook filters, names,
 * connection actions).
 */
import { strict as assert } from "node:assert";
import { loadStackFile } from "../../../testkit/stack-files";
import { DEV_NETWORK, useCodeBuildRunners } from "./harness";

describe("CodeBuildRunners", () => {
  const h = useCodeBuildRunners();

  describe("targets", () => {
    it("opens each target security group on its port to the runners, once per group and port", async () => {
      const dev = loadStackFile("dev");
      const region = {
        ...dev.codebuild!.regions[0],
        targets: [
          { securityGroupId: "sg-0aaaaaaaaaaaaaaa1", port: 5432, description: "orders database" },
          { securityGroupId: "sg-0aaaaaaaaaaaaaaa2", port: 6379 },
        ],
        eks: {
          clusterName: "dev",
          clusterSecurityGroupId: "sg-0aaaaaaaaaaaaaaa2",
          namespaces: ["orders"],
          accessPolicy: "AmazonEKSViewPolicy" as const,
        },
      };
      const b = await h.build("targets", {
        stack: "targets",
        region,
        network: DEV_NETWORK,
        github: dev.github,
        repositories: [],
        logRetentionDays: 14,
      });
      const rules = b.children
        .filter((c) => c.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        .map((c) => [
          c.inputs.securityGroupId,
          c.inputs.fromPort,
          c.inputs.toPort,
          c.inputs.ipProtocol,
          c.inputs.referencedSecurityGroupId,
          c.inputs.description,
        ]);
      assert.deepEqual(rules.map((x) => x.slice(0, 5)).sort(), [
        ["sg-0aaaaaaaaaaaaaaa1", 5432, 5432, "tcp", b.securityGroupId],
        ["sg-0aaaaaaaaaaaaaaa2", 443, 443, "tcp", b.securityGroupId],
        ["sg-0aaaaaaaaaaaaaaa2", 6379, 6379, "tcp", b.securityGroupId],
      ]);
      assert.ok(rules.some((x) => x[5] === "orders database"));
      assert.ok(
        rules.every((x) => typeof x[5] === "string" && x[5].length > 0),
        "every rule has a description",
      );
    });
  });

  describe("decisions", () => {
    it("escapes repository names in the REPOSITORY_NAME pattern", () => {
      assert.equal(h.program.repositoryNamePattern(["site.io", "api"]), "^(site\\.io|api)$");
      assert.ok(new RegExp(h.program.repositoryNamePattern(["site.io"])).test("site.io"));
      assert.ok(!new RegExp(h.program.repositoryNamePattern(["site.io"])).test("siteXio"));
      assert.ok(!new RegExp(h.program.repositoryNamePattern(["api"])).test("api-internal"));
      assert.throws(() => h.program.repositoryNamePattern([]), /at least one repository/);
    });

    it("uses a repository webhook for a single repository with github.scope repo, and refuses several", () => {
      assert.deepEqual(h.program.webhookSource("someone", "repo", ["infra"]), {
        location: "https://github.com/someone/infra.git",
      });
      assert.deepEqual(h.program.webhookFilterGroups("repo", ["infra"]), [
        [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }],
      ]);
      assert.throws(() => h.program.webhookSource("someone", "repo", ["a", "b"]), /exactly one repository.*found 2/);
      assert.throws(() => h.program.webhookSource("someone", "repo", []), /found 0/);
    });

    it("refuses a project name CodeBuild would reject", () => {
      assert.throws(() => h.program.runnerProjectName("dev stack", "eu-west-1"), /not valid/);
    });

    it("picks the IAM namespace that matches the connection ARN", () => {
      assert.deepEqual(
        h.program.connectionActions("arn:aws:codestar-connections:eu-west-1:123456789012:connection/abc"),
        ["codestar-connections:GetConnectionToken", "codestar-connections:GetConnection"],
      );
      assert.deepEqual(h.program.connectionActions("arn:aws:codeconnections:eu-west-1:123456789012:connection/abc"), [
        "codeconnections:GetConnectionToken",
        "codeconnections:GetConnection",
      ]);
    });

    it("refuses a connection name CodeConnections would reject", () => {
      assert.throws(
        () => h.program.githubConnection("bad", { stack: "a-very-long-stack-name-for-connections" }),
        /1-32/,
      );
    });
  });
});
