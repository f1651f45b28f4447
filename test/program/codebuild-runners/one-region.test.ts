/**
 * CodeBuildRunners in one region, as the dev stack configures it: the stack's own network, no connection, no EKS.
 */
import { strict as assert } from "node:assert";
import { loadStackFile } from "../../../testkit/stack-files";
import { list } from "../support";
import { assertRegionalProvider, type Built, DEV_NETWORK, policyOf, useCodeBuildRunners } from "./harness";

describe("CodeBuildRunners", () => {
  const h = useCodeBuildRunners();

  describe("one region (dev: the stack's own network, no connection, no EKS)", () => {
    let built: Built;
    const dev = loadStackFile("dev");

    before(async () => {
      built = await h.build("dev-runners", {
        stack: dev.stack,
        region: dev.codebuild!.regions[0],
        network: DEV_NETWORK,
        github: dev.github,
        repositories: dev.codebuild!.repositories,
        logRetentionDays: dev.logRetentionDays,
        tags: { "cirunners:stack": "dev" },
      });
    });

    it("creates a provider for eu-west-1 and hangs every AWS child on it", () => {
      assertRegionalProvider(built.children, "eu-west-1");
      assert.equal(built.component.region, "eu-west-1");
    });

    it("names the project after purpose, stack and region and outputs the exact runs-on label", () => {
      assert.equal(built.projectName, "gha-runner-dev-eu-west-1");
      assert.equal(built.runsOn, "codebuild-gha-runner-dev-eu-west-1-${{ github.run_id }}-${{ github.run_attempt }}");
    });

    it("builds a Linux container project from the region's config, in the VPC, logging to its own log group", () => {
      const project = built.one("aws:codebuild/project:Project");
      const logGroup = built.one("aws:cloudwatch/logGroup:LogGroup");
      const sg = built.one("aws:ec2/securityGroup:SecurityGroup");
      assert.deepEqual(
        {
          type: project.inputs.environment.type,
          computeType: project.inputs.environment.computeType,
          image: project.inputs.environment.image,
          privileged: project.inputs.environment.privilegedMode,
        },
        {
          type: "LINUX_CONTAINER",
          computeType: "BUILD_GENERAL1_SMALL",
          image: "aws/codebuild/amazonlinux-x86_64-standard:5.0",
          privileged: false,
        },
      );
      assert.equal(project.inputs.buildTimeout, 30);
      assert.equal(project.inputs.queuedTimeout, h.program.QUEUED_TIMEOUT_MINUTES);
      assert.deepEqual(project.inputs.vpcConfig, {
        vpcId: DEV_NETWORK.vpcId,
        subnets: DEV_NETWORK.privateSubnetIds,
        securityGroupIds: [sg.state.id],
      });
      assert.equal(sg.inputs.vpcId, DEV_NETWORK.vpcId);
      assert.equal(project.inputs.logsConfig.cloudwatchLogs.groupName, logGroup.state.name);
      assert.equal(logGroup.inputs.name, "/aws/codebuild/gha-runner-dev-eu-west-1");
      assert.equal(logGroup.inputs.retentionInDays, 14);
      assert.equal(project.inputs.serviceRole, built.roleArn);
      assert.equal(project.inputs.tags["cirunners:stack"], "dev");
    });

    it("listens to the whole organization when no repositories are configured", () => {
      const project = built.one("aws:codebuild/project:Project");
      const webhook = built.one("aws:codebuild/webhook:Webhook");
      assert.equal(project.inputs.source.type, "GITHUB");
      assert.equal(project.inputs.source.location, "CODEBUILD_DEFAULT_WEBHOOK_SOURCE_LOCATION");
      assert.equal(project.inputs.source.auth, undefined, "no connection: the region's default source credential");
      assert.deepEqual(webhook.inputs.scopeConfiguration, { name: "acme-platform", scope: "GITHUB_ORGANIZATION" });
      assert.deepEqual(webhook.inputs.filterGroups, [{ filters: [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }] }]);
      assert.equal(webhook.inputs.buildType, "BUILD");
      assert.equal(webhook.inputs.projectName, built.projectName);
    });

    it("gives the runner security group no ingress and only an all-traffic egress rule", () => {
      const sgId = built.securityGroupId;
      const ingress = built.children.filter(
        (r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
      );
      assert.ok(
        ingress.every((r) => r.inputs.securityGroupId !== sgId),
        "nothing may connect to the runners",
      );
      assert.deepEqual(ingress, [], "dev has neither targets nor EKS");
      const egress = built.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
      assert.equal(egress.inputs.securityGroupId, sgId);
      assert.equal(egress.inputs.ipProtocol, "-1");
      assert.equal(egress.inputs.cidrIpv4, "0.0.0.0/0");
      const sg = built.one("aws:ec2/securityGroup:SecurityGroup");
      assert.equal(sg.inputs.ingress, undefined);
    });

    it("grants no connection or EKS permissions when neither is configured", () => {
      const actions = policyOf(built.children).Statement.flatMap((s) => list(s.Action));
      assert.ok(
        !actions.some(
          (a) => a.startsWith("codeconnections:") || a.startsWith("codestar-connections:") || a.startsWith("eks:"),
        ),
        actions.join(", "),
      );
      assert.deepEqual(
        built.children.filter((r) => r.type.startsWith("aws:eks/")),
        [],
      );
    });
  });
});
