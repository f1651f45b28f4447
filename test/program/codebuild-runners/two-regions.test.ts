/**
 * CodeBuildRunners in two regions, as the prod stack configures them: explicit VPCs, EKS, a shared connection and
 * a repository filter.
 */
import { strict as assert } from "node:assert";
import { outputValue } from "../../../testkit/pulumi-mocks";
import { loadStackFile } from "../../../testkit/stack-files";
import { list } from "../support";
import { ACCOUNT, assertRegionalProvider, type Built, type PolicyDoc, policyOf, useCodeBuildRunners } from "./harness";

describe("CodeBuildRunners", () => {
  const h = useCodeBuildRunners();

  describe("two regions (prod: explicit VPCs, EKS, shared connection, repository filter)", () => {
    const prod = loadStackFile("prod");
    const networks: Record<string, { vpcId: string; privateSubnetIds: string[] }> = {};
    const built: Record<string, Built> = {};
    let connectionArn: string;

    before(async () => {
      const connection = h.program.githubConnection("prod-github", {
        stack: "prod",
        connectionName: prod.codebuild!.connectionName,
      });
      connectionArn = await outputValue<string>(connection.arn);
      for (const region of prod.codebuild!.regions) {
        networks[region.region] = { vpcId: region.vpcId!, privateSubnetIds: region.privateSubnetIds! };
        built[region.region] = await h.build(`prod-runners-${region.region}`, {
          stack: prod.stack,
          region,
          network: networks[region.region],
          github: prod.github,
          repositories: prod.codebuild!.repositories,
          connectionArn: connection.arn,
          logRetentionDays: prod.logRetentionDays,
        });
      }
    });

    it("creates one shared GitHub connection, pending approval", () => {
      const connections = h.recorded.filter((r) => r.type === "aws:codeconnections/connection:Connection");
      assert.equal(connections.length, 1);
      assert.deepEqual(
        { name: connections[0].inputs.name, providerType: connections[0].inputs.providerType },
        { name: "acme-platform-github", providerType: "GitHub" },
      );
      assert.match(connectionArn, /^arn:aws:codeconnections:eu-west-1:123456789012:connection\//);
    });

    for (const region of ["eu-west-1", "us-east-1"]) {
      describe(region, () => {
        const r = () => built[region];
        const eks = () => prod.codebuild!.regions.find((c) => c.region === region)!.eks!;

        it("has its own provider for the region, used by every AWS child", () => {
          assertRegionalProvider(r().children, region);
        });

        it("creates the project in the region, in the region's VPC and subnets, authenticated by the shared connection", async () => {
          const project = r().one("aws:codebuild/project:Project");
          assert.equal(project.inputs.name, `gha-runner-prod-${region}`);
          assert.equal(project.state.arn, `arn:aws:codebuild:${region}:${ACCOUNT}:project/gha-runner-prod-${region}`);
          assert.equal(project.inputs.environment.computeType, "BUILD_GENERAL1_MEDIUM");
          assert.equal(project.inputs.buildTimeout, 60);
          assert.deepEqual(project.inputs.vpcConfig, {
            vpcId: networks[region].vpcId,
            subnets: networks[region].privateSubnetIds,
            securityGroupIds: [r().securityGroupId],
          });
          assert.deepEqual(project.inputs.source.auth, { type: "CODECONNECTIONS", resource: connectionArn });
          assert.equal(
            r().runsOn,
            `codebuild-gha-runner-prod-${region}-\${{ github.run_id }}-\${{ github.run_attempt }}`,
          );
        });

        it("limits the organization webhook to the configured repositories", () => {
          const webhook = r().one("aws:codebuild/webhook:Webhook");
          assert.deepEqual(webhook.inputs.filterGroups, [
            {
              filters: [
                { type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" },
                { type: "REPOSITORY_NAME", pattern: "^(platform-deployments|orders-service)$" },
              ],
            },
          ]);
          assert.deepEqual(webhook.inputs.scopeConfiguration, { name: "acme-platform", scope: "GITHUB_ORGANIZATION" });
          assert.equal(webhook.inputs.pullRequestBuildPolicy.requiresCommentApproval, "FORK_PULL_REQUESTS");
        });

        it("opens the cluster security group on 443 to the runner security group only", () => {
          const ingress = r().children.filter(
            (c) => c.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
          );
          assert.equal(ingress.length, 1);
          const rule = ingress[0];
          assert.equal(rule.inputs.securityGroupId, eks().clusterSecurityGroupId);
          assert.equal(rule.inputs.referencedSecurityGroupId, r().securityGroupId);
          assert.deepEqual([rule.inputs.ipProtocol, rule.inputs.fromPort, rule.inputs.toPort], ["tcp", 443, 443]);
          assert.equal(rule.inputs.cidrIpv4, undefined);
          assert.match(rule.inputs.description, new RegExp(eks().clusterName));
        });

        it("maps the project role into the cluster with the configured policy, scoped to the namespaces", () => {
          const entry = r().one("aws:eks/accessEntry:AccessEntry");
          const association = r().one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation");
          assert.deepEqual(
            { cluster: entry.inputs.clusterName, principal: entry.inputs.principalArn, type: entry.inputs.type },
            { cluster: `prod-${region}`, principal: r().roleArn, type: "STANDARD" },
          );
          assert.equal(association.inputs.clusterName, `prod-${region}`);
          assert.equal(association.inputs.principalArn, r().roleArn);
          assert.equal(association.inputs.policyArn, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy");
          assert.deepEqual(association.inputs.accessScope, { type: "namespace", namespaces: ["orders", "payments"] });
        });

        it("lets only CodeBuild, for this region's project in this account, assume the role", () => {
          const role = r().one("aws:iam/role:Role");
          const trust = JSON.parse(role.inputs.assumeRolePolicy) as PolicyDoc;
          assert.equal(trust.Statement.length, 1);
          const statement = trust.Statement[0] as PolicyDoc["Statement"][number] & { Principal: { Service: string } };
          assert.equal(statement.Principal.Service, "codebuild.amazonaws.com");
          assert.deepEqual(statement.Condition, {
            StringEquals: { "aws:SourceAccount": ACCOUNT },
            ArnLike: { "aws:SourceArn": `arn:aws:codebuild:${region}:${ACCOUNT}:project/gha-runner-prod-${region}` },
          });
        });

        it("scopes the role's policy to the region's log group, subnets, connection and cluster", () => {
          const doc = policyOf(r().children);
          const bySid = new Map(doc.Statement.map((s) => [s.Sid, s]));
          const logGroupArn = `arn:aws:logs:${region}:${ACCOUNT}:log-group:/aws/codebuild/gha-runner-prod-${region}`;
          assert.deepEqual(list(bySid.get("WriteBuildLogs")!.Resource), [logGroupArn, `${logGroupArn}:*`]);

          const subnetArns = networks[region].privateSubnetIds.map(
            (id) => `arn:aws:ec2:${region}:${ACCOUNT}:subnet/${id}`,
          );
          const permission = bySid.get("LetCodeBuildAttachNetworkInterfaces")!;
          assert.deepEqual(permission.Action, "ec2:CreateNetworkInterfacePermission");
          assert.equal(permission.Resource, `arn:aws:ec2:${region}:${ACCOUNT}:network-interface/*`);
          assert.deepEqual(permission.Condition, {
            StringEquals: { "ec2:Subnet": subnetArns, "ec2:AuthorizedService": "codebuild.amazonaws.com" },
          });
          assert.deepEqual(list(bySid.get("CreateBuildNetworkInterfaces")!.Resource), [
            `arn:aws:ec2:${region}:${ACCOUNT}:network-interface/*`,
            ...subnetArns,
            `arn:aws:ec2:${region}:${ACCOUNT}:security-group/${r().securityGroupId}`,
          ]);

          const connection = bySid.get("UseGitHubConnection")!;
          assert.deepEqual(list(connection.Action).sort(), [
            "codeconnections:GetConnection",
            "codeconnections:GetConnectionToken",
          ]);
          assert.equal(connection.Resource, connectionArn);

          const describe = doc.Statement.filter((s) => list(s.Action).includes("eks:DescribeCluster"));
          assert.equal(describe.length, 1);
          assert.deepEqual(describe[0].Resource, `arn:aws:eks:${region}:${ACCOUNT}:cluster/prod-${region}`);

          // The connection is global: its ARN names the region it was created in, which may be the other one.
          const otherRegion = region === "eu-west-1" ? "us-east-1" : "eu-west-1";
          assert.ok(
            !JSON.stringify(doc).split(connectionArn).join("").includes(otherRegion),
            "nothing of the other region but the shared connection",
          );
        });

        it("uses no wildcard actions and puts only actions without resource types on *", () => {
          const doc = policyOf(r().children);
          for (const statement of doc.Statement) {
            assert.equal(statement.Effect, "Allow");
            for (const action of list(statement.Action)) {
              assert.ok(!action.includes("*"), `wildcard action ${action}`);
            }
            if (list(statement.Resource).includes("*")) {
              assert.ok(
                list(statement.Action).every((a) => /^ec2:Describe[A-Za-z]+$/.test(a)),
                `only ec2:Describe* may be on *: ${JSON.stringify(statement)}`,
              );
            }
          }
        });
      });
    }

    it("keeps the two regions apart: different projects, labels, security groups and roles", () => {
      const [eu, us] = [built["eu-west-1"], built["us-east-1"]];
      assert.notEqual(eu.projectName, us.projectName);
      assert.notEqual(eu.runsOn, us.runsOn);
      assert.notEqual(eu.securityGroupId, us.securityGroupId);
      assert.notEqual(eu.roleArn, us.roleArn);
    });
  });
});
