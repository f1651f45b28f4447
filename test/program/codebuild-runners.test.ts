import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { parseStackConfig, type StackConfig } from "../../program/config";
import { descendantsOf, settleRegistrations, type RecordedResource } from "../../testkit/pulumi-mocks";

type RunnersModule = typeof import("../../program/codebuild-runners");

const ROOT = path.resolve(__dirname, "..", "..");
const ACCOUNT = "123456789012";
const DEV_NETWORK = {
  vpcId: "vpc-0123456789abcdef0",
  privateSubnetIds: ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
};

/** A stack file parsed and validated exactly as the program does. */
function stackConfig(stack: "dev" | "prod"): StackConfig {
  const doc = parseYaml(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config as Record<
    string,
    unknown
  >;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc))
    if (key.startsWith("cirunners:")) raw[key.slice("cirunners:".length)] = value;
  return parseStackConfig(raw, stack, doc["aws:region"] as string);
}

interface PolicyDoc {
  Statement: {
    Sid?: string;
    Effect: string;
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
  }[];
}
const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

describe("CodeBuildRunners", () => {
  let recorded: RecordedResource[];
  let outputValue: <T>(o: any) => Promise<T>;
  let runners: RunnersModule;

  before(async () => {
    const mocks = await import("../../testkit/pulumi-mocks");
    ({ recorded } = await mocks.installMocks({ region: "eu-west-1", stack: "prod" }));
    outputValue = mocks.outputValue as any;
    runners = await import("../../program/codebuild-runners");
  });

  const childrenOf = (urn: string) => descendantsOf(recorded, urn);

  const settle = () => settleRegistrations(recorded);

  async function build(name: string, args: ConstructorParameters<RunnersModule["CodeBuildRunners"]>[1]) {
    const component = new runners.CodeBuildRunners(name, args);
    const [urn, outputs] = await Promise.all([
      outputValue<string>(component.urn),
      Promise.all(
        [component.projectName, component.runsOn, component.securityGroupId, component.roleArn].map((o) =>
          outputValue<string>(o),
        ),
      ),
    ]);
    await settle();
    const children = childrenOf(urn);
    const [projectName, runsOn, securityGroupId, roleArn] = outputs;
    const one = (type: string) => {
      const found = children.filter((r) => r.type === type);
      assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
      return found[0];
    };
    return { component, urn, children, one, projectName, runsOn, securityGroupId, roleArn };
  }

  function policyOf(children: RecordedResource[]): PolicyDoc {
    const policies = children.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy");
    assert.equal(policies.length, 1);
    return JSON.parse(policies[0].inputs.policy) as PolicyDoc;
  }

  /** Every AWS child uses the component's provider, and that provider targets `region`. */
  function assertRegionalProvider(children: RecordedResource[], region: string): void {
    const providers = children.filter((r) => r.type === "pulumi:providers:aws");
    assert.equal(providers.length, 1, "one explicit provider per region");
    const provider = providers[0];
    assert.equal(provider.inputs.region, region);
    const reference = `${provider.urn}::${provider.state.id}`;
    const awsChildren = children.filter((r) => r.custom && r.type.startsWith("aws:"));
    assert.ok(
      awsChildren.length >= 7,
      `expected the project's resources, found ${awsChildren.map((r) => r.type).join(", ")}`,
    );
    for (const child of awsChildren)
      assert.equal(child.provider, reference, `${child.type} ${child.name} uses the ${region} provider`);
  }

  describe("one region (dev: the stack's own network, no connection, no EKS)", () => {
    let built: Awaited<ReturnType<typeof build>>;
    const dev = stackConfig("dev");

    before(async () => {
      built = await build("dev-runners", {
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
      assert.equal(project.inputs.queuedTimeout, runners.QUEUED_TIMEOUT_MINUTES);
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

  describe("two regions (prod: explicit VPCs, EKS, shared connection, repository filter)", () => {
    const prod = stackConfig("prod");
    const networks: Record<string, { vpcId: string; privateSubnetIds: string[] }> = {};
    const built: Record<string, Awaited<ReturnType<typeof build>>> = {};
    let connectionArn: string;

    before(async () => {
      const connection = runners.githubConnection("prod-github", {
        stack: "prod",
        connectionName: prod.codebuild!.connectionName,
      });
      connectionArn = await outputValue<string>(connection.arn);
      for (const region of prod.codebuild!.regions) {
        networks[region.region] = { vpcId: region.vpcId!, privateSubnetIds: region.privateSubnetIds! };
        built[region.region] = await build(`prod-runners-${region.region}`, {
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
      const connections = recorded.filter((r) => r.type === "aws:codeconnections/connection:Connection");
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

  describe("targets", () => {
    it("opens each target security group on its port to the runners, once per group and port", async () => {
      const dev = stackConfig("dev");
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
      const b = await build("targets", {
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
      assert.equal(runners.repositoryNamePattern(["site.io", "api"]), "^(site\\.io|api)$");
      assert.ok(new RegExp(runners.repositoryNamePattern(["site.io"])).test("site.io"));
      assert.ok(!new RegExp(runners.repositoryNamePattern(["site.io"])).test("siteXio"));
      assert.ok(!new RegExp(runners.repositoryNamePattern(["api"])).test("api-internal"));
      assert.throws(() => runners.repositoryNamePattern([]), /at least one repository/);
    });

    it("uses a repository webhook for a single repository with github.scope repo, and refuses several", () => {
      assert.deepEqual(runners.webhookSource("someone", "repo", ["infra"]), {
        location: "https://github.com/someone/infra.git",
      });
      assert.deepEqual(runners.webhookFilterGroups("repo", ["infra"]), [
        [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }],
      ]);
      assert.throws(() => runners.webhookSource("someone", "repo", ["a", "b"]), /exactly one repository.*found 2/);
      assert.throws(() => runners.webhookSource("someone", "repo", []), /found 0/);
    });

    it("refuses a project name CodeBuild would reject", () => {
      assert.throws(() => runners.runnerProjectName("dev stack", "eu-west-1"), /not valid/);
    });

    it("picks the IAM namespace that matches the connection ARN", () => {
      assert.deepEqual(
        runners.connectionActions("arn:aws:codestar-connections:eu-west-1:123456789012:connection/abc"),
        ["codestar-connections:GetConnectionToken", "codestar-connections:GetConnection"],
      );
      assert.deepEqual(runners.connectionActions("arn:aws:codeconnections:eu-west-1:123456789012:connection/abc"), [
        "codeconnections:GetConnectionToken",
        "codeconnections:GetConnection",
      ]);
    });

    it("refuses a connection name CodeConnections would reject", () => {
      assert.throws(() => runners.githubConnection("bad", { stack: "a-very-long-stack-name-for-connections" }), /1-32/);
    });
  });
});
