import * as assert from "node:assert/strict";
import type { TaskConfig } from "../../../program/config";
import { descendantsOf, outputValue } from "../../../testkit/pulumi-mocks";
import { ACCOUNT, devTask, list, REGION, useTaskRunnerHarness } from "./harness";

describe("TaskRunner resources", function () {
  this.timeout(60_000);
  const h = useTaskRunnerHarness();
  const build: typeof h.build = (name, task) => h.build(name, task);

  it("exposes the outputs", async () => {
    const { outputs } = await build("out", devTask());
    assert.equal(outputs.repositoryUrl, `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/db-migrate-dev`);
    assert.match(outputs.roleArn, /^arn:aws:iam::123456789012:role\/out-deploy/);
    assert.match(outputs.stateMachineArn, /^arn:aws:states:eu-west-1:123456789012:stateMachine:/);
    assert.equal(outputs.clusterArn, `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/db-migrate-dev`);
    assert.equal(outputs.logGroupName, "/cirunners/dev/tasks/db-migrate");
  });

  it("creates the GitHub OIDC provider without thumbprints, or looks an existing one up", async () => {
    const arn = await outputValue(h.oidc.githubOidcProvider("standalone-oidc"));
    const provider = h.recorded.find(
      (r) => r.type === "aws:iam/openIdConnectProvider:OpenIdConnectProvider" && r.name === "standalone-oidc",
    );
    assert.deepEqual(provider?.inputs.clientIdLists, ["sts.amazonaws.com"]);
    assert.equal(provider?.inputs.url, "https://token.actions.githubusercontent.com");
    assert.equal(arn, `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`);
    const existing = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
    assert.equal(
      await outputValue(h.oidc.githubOidcProvider("existing-oidc", { existingProviderArn: existing })),
      existing,
    );
    assert.equal(
      h.recorded.filter((r) => r.name === "existing-oidc").length,
      0,
      "no resource for an existing provider",
    );
  });

  it("configures ECR: immutable, scanned, encrypted, lifecycle keeping the last N images", async () => {
    const { one } = await build("ecr", devTask());
    const repo = one("aws:ecr/repository:Repository").inputs;
    assert.equal(repo.imageTagMutability, "IMMUTABLE");
    assert.deepEqual(repo.imageScanningConfiguration, { scanOnPush: true });
    assert.deepEqual(repo.encryptionConfigurations, [{ encryptionType: "AES256" }]);
    assert.equal(repo.forceDelete, false);
    const policy = JSON.parse(one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs.policy);
    assert.deepEqual(policy.rules, [
      {
        rulePriority: 1,
        description: "keep the last 10 images",
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 10 },
        action: { type: "expire" },
      },
    ]);
  });

  it("defines the Fargate task: secrets, read-only root with a writable /tmp, logs with retention", async () => {
    const { one, children } = await build("td", devTask());
    const td = one("aws:ecs/taskDefinition:TaskDefinition").inputs;
    assert.equal(td.family, "db-migrate-dev");
    assert.deepEqual(td.requiresCompatibilities, ["FARGATE"]);
    assert.equal(td.networkMode, "awsvpc");
    assert.equal(td.cpu, "512");
    assert.equal(td.memory, "1024");
    assert.deepEqual(td.runtimePlatform, { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" });
    assert.deepEqual(td.volumes, [{ name: "tmp" }]);
    const [container] = JSON.parse(td.containerDefinitions);
    assert.equal(container.name, "db-migrate");
    assert.equal(
      container.image,
      `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/db-migrate-dev:${h.mod.PLACEHOLDER_IMAGE_TAG}`,
    );
    assert.equal(container.essential, true);
    assert.deepEqual(container.command, ["npm", "run", "migrate"]);
    assert.deepEqual(container.secrets, [
      {
        name: "DATABASE_URL",
        valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dev/orders/database-url-a1B2c3",
      },
    ]);
    assert.deepEqual(container.environment, []);
    assert.equal(container.readonlyRootFilesystem, true);
    assert.deepEqual(container.mountPoints, [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }]);
    assert.deepEqual(container.logConfiguration, {
      logDriver: "awslogs",
      options: {
        "awslogs-group": "/cirunners/dev/tasks/db-migrate",
        "awslogs-region": REGION,
        "awslogs-stream-prefix": "task",
      },
    });
    const groups = children.filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup");
    assert.equal(groups.length, 2);
    for (const g of groups) assert.equal(g.inputs.retentionInDays, 14);
    assert.deepEqual(one("aws:ecs/cluster:Cluster").inputs.settings, [{ name: "containerInsights", value: "enabled" }]);
  });

  it("lets the task out only to its destinations and HTTPS", async () => {
    const { one } = await build("sg", devTask());
    const sg = one("aws:ec2/securityGroup:SecurityGroup").inputs;
    assert.equal(sg.vpcId, "vpc-0123456789abcdef0");
    assert.deepEqual(sg.ingress, []);
    assert.deepEqual(
      sg.egress.map((e: Record<string, unknown>) => [e.protocol, e.fromPort, e.toPort, e.cidrBlocks, e.securityGroups]),
      [
        ["tcp", 5432, 5432, ["10.20.0.0/16"], undefined],
        ["tcp", 443, 443, ["0.0.0.0/0"], undefined],
      ],
    );
    assert.match(sg.egress[1].description, /HTTPS/);
    const rules = h.mod.egressRules([
      {
        securityGroupId: "sg-0d1c2b3a4f5e6d7c8",
        port: 5432,
        description: "orders Aurora cluster",
        manageIngress: true,
      },
    ]);
    assert.deepEqual(rules[0], {
      description: "orders Aurora cluster",
      protocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
      securityGroups: ["sg-0d1c2b3a4f5e6d7c8"],
    });
  });

  it("sets the GitHub Actions variables, with a provider per foreign owner", async () => {
    const task: TaskConfig = {
      ...devTask(),
      repositories: [
        { repository: "acme-platform/orders-service", branches: ["main"], environments: [] },
        { repository: "acme-data/warehouse", branches: [], environments: ["production"] },
      ],
    };
    const { urn, outputs } = await build("gh", task);
    const descendants = descendantsOf(h.recorded, urn);
    const variables = descendants.filter((r) => r.type === "github:index/actionsVariable:ActionsVariable");
    assert.equal(variables.length, 8);
    const names = h.mod.githubVariableNames("db-migrate", "dev");
    assert.deepEqual(names, {
      roleArn: "CIRUNNERS_DB_MIGRATE_DEV_ROLE_ARN",
      region: "CIRUNNERS_DB_MIGRATE_DEV_REGION",
      repositoryUrl: "CIRUNNERS_DB_MIGRATE_DEV_ECR_REPOSITORY",
      stateMachineArn: "CIRUNNERS_DB_MIGRATE_DEV_STATE_MACHINE_ARN",
    });
    const orders = Object.fromEntries(
      variables
        .filter((v) => v.inputs.repository === "orders-service")
        .map((v) => [v.inputs.variableName, v.inputs.value]),
    );
    assert.deepEqual(orders, {
      [names.roleArn]: outputs.roleArn,
      [names.region]: REGION,
      [names.repositoryUrl]: outputs.repositoryUrl,
      [names.stateMachineArn]: outputs.stateMachineArn,
    });
    const providers = descendants.filter((r) => r.type === "pulumi:providers:github");
    assert.equal(providers.length, 1);
    assert.equal(providers[0].inputs.owner, "acme-data");
    for (const v of variables.filter((v) => v.inputs.repository === "warehouse"))
      assert.ok(v.provider?.startsWith(providers[0].urn), v.provider);
    for (const v of variables.filter((v) => v.inputs.repository === "orders-service"))
      assert.equal(v.provider, undefined);
    assert.equal(descendants.filter((r) => r.type.includes("ActionsSecret")).length, 0);
  });

  it("uses an existing cluster and scopes SSM parameters and partial secret ARNs", async () => {
    const task: TaskConfig = {
      ...devTask(),
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/shared-tasks`,
      secrets: {
        API_KEY: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/orders/api-key`,
        DB_PASSWORD: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:orders/db:password::`,
      },
    };
    const { children, policyOf, outputs } = await build("existing", task);
    assert.equal(children.filter((r) => r.type === "aws:ecs/cluster:Cluster").length, 0);
    assert.equal(outputs.clusterArn, task.clusterArn);
    const execution = policyOf("-execution");
    assert.deepEqual(execution.find((s) => s.Action === "ssm:GetParameters")?.Resource, [
      `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/orders/api-key`,
    ]);
    assert.deepEqual(execution.find((s) => s.Action === "secretsmanager:GetSecretValue")?.Resource, [
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:orders/db-??????`,
    ]);
    assert.equal(
      policyOf("-sfn").find((s) => list(s.Action).includes("ecs:StopTask"))?.Resource,
      `arn:aws:ecs:${REGION}:${ACCOUNT}:task/shared-tasks/*`,
    );
    assert.throws(
      () => h.mod.clusterNameFromArn("arn:aws:ecs:eu-west-1:123456789012:service/x"),
      /expected an ECS cluster ARN/,
    );
  });
});
