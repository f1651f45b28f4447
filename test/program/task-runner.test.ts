import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { parseStackConfig, type TaskConfig } from "../../program/config";
import {
  descendantsOf,
  installMocks,
  outputValue,
  type RecordedResource,
  settleRegistrations,
} from "../../testkit/pulumi-mocks";

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
};
const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const STAR_ALLOWED = new Set([
  "ecr:GetAuthorizationToken",
  "ecs:DescribeTaskDefinition",
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  "logs:DescribeLogGroups",
]);

function devTask(): TaskConfig {
  const raw = parseYaml(readFileSync(path.resolve(__dirname, "../../Pulumi.dev.yaml"), "utf8")).config as Record<
    string,
    unknown
  >;
  const project = Object.fromEntries(
    Object.entries(raw)
      .filter(([k]) => k.startsWith("cirunners:"))
      .map(([k, v]) => [k.slice("cirunners:".length), v]),
  );
  return parseStackConfig(project, "dev", REGION).tasks[0];
}

describe("TaskRunner component", function () {
  this.timeout(60_000);
  let recorded: RecordedResource[];
  let mod: typeof import("../../program/task-runner");
  let oidc: typeof import("../../program/github-oidc");

  before(async () => {
    ({ recorded } = await installMocks({ region: REGION, stack: "dev" }));
    mod = await import("../../program/task-runner");
    oidc = await import("../../program/github-oidc");
  });

  async function build(name: string, task: TaskConfig) {
    const providerArn = oidc.githubOidcProvider(`${name}-oidc`);
    const runner = new mod.TaskRunner(name, {
      stack: "dev",
      task,
      oidcProviderArn: providerArn,
      network: {
        vpcId: "vpc-0123456789abcdef0",
        privateSubnetIds: ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
      },
      githubOwner: "acme-platform",
      logRetentionDays: 14,
      tags: { project: "cirunners" },
    });
    const outputs = {
      roleArn: await outputValue(runner.roleArn),
      repositoryUrl: await outputValue(runner.repositoryUrl),
      stateMachineArn: await outputValue(runner.stateMachineArn),
      clusterArn: await outputValue(runner.clusterArn),
      logGroupName: await outputValue(runner.logGroupName),
    };
    await settleRegistrations(recorded);
    const urn = recorded.find((r) => r.type === "cirunners:index:TaskRunner" && r.name === name)?.urn;
    assert.ok(urn, "component registered");
    const children = descendantsOf(recorded, urn);
    const one = (type: string, suffix?: string) => {
      const found = children.filter((r) => r.type === type && (suffix === undefined || r.name.endsWith(suffix)));
      assert.equal(found.length, 1, `one ${type} ${suffix ?? ""}: ${found.map((f) => f.name).join(", ")}`);
      return found[0];
    };
    const policyOf = (suffix: string): Statement[] =>
      JSON.parse(one("aws:iam/rolePolicy:RolePolicy", suffix).inputs.policy).Statement;
    return { runner, urn, outputs, children, one, policyOf };
  }

  it("exposes the outputs", async () => {
    const { outputs } = await build("out", devTask());
    assert.equal(outputs.repositoryUrl, `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/db-migrate-dev`);
    assert.match(outputs.roleArn, /^arn:aws:iam::123456789012:role\/out-deploy/);
    assert.match(outputs.stateMachineArn, /^arn:aws:states:eu-west-1:123456789012:stateMachine:/);
    assert.equal(outputs.clusterArn, `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/db-migrate-dev`);
    assert.equal(outputs.logGroupName, "/cirunners/dev/tasks/db-migrate");
  });

  it("creates the GitHub OIDC provider without thumbprints, or looks an existing one up", async () => {
    const arn = await outputValue(oidc.githubOidcProvider("standalone-oidc"));
    const provider = recorded.find(
      (r) => r.type === "aws:iam/openIdConnectProvider:OpenIdConnectProvider" && r.name === "standalone-oidc",
    );
    assert.deepEqual(provider?.inputs.clientIdLists, ["sts.amazonaws.com"]);
    assert.equal(provider?.inputs.url, "https://token.actions.githubusercontent.com");
    assert.equal(arn, `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`);
    const existing = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
    assert.equal(
      await outputValue(oidc.githubOidcProvider("existing-oidc", { existingProviderArn: existing })),
      existing,
    );
    assert.equal(recorded.filter((r) => r.name === "existing-oidc").length, 0, "no resource for an existing provider");
  });

  it("trusts exactly the configured GitHub subjects with aud pinned", async () => {
    const { one } = await build("trust", devTask());
    const trust = JSON.parse(one("aws:iam/role:Role", "-deploy").inputs.assumeRolePolicy);
    assert.equal(trust.Statement.length, 1);
    const [s] = trust.Statement;
    assert.equal(s.Effect, "Allow");
    assert.equal(s.Action, "sts:AssumeRoleWithWebIdentity");
    assert.deepEqual(s.Principal, {
      Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
    });
    assert.deepEqual(s.Condition, {
      StringEquals: {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": ["repo:acme-platform/orders-service:ref:refs/heads/main"],
      },
    });
    assert.deepEqual(
      mod.githubSubjects({
        repositories: [{ repository: "acme/app", branches: ["main", "release/1"], environments: ["production"] }],
      }),
      [
        "repo:acme/app:ref:refs/heads/main",
        "repo:acme/app:ref:refs/heads/release/1",
        "repo:acme/app:environment:production",
      ],
    );
  });

  it("scopes every IAM statement to the task's resources", async () => {
    const { policyOf, one, outputs } = await build("iam", devTask());
    const repositoryArn = `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/db-migrate-dev`;
    const stateMachineArn = outputs.stateMachineArn;
    const logGroupArn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/cirunners/dev/tasks/db-migrate`;
    const all: [string, Statement[]][] = [
      ["-deploy", policyOf("-deploy")],
      ["-execution", policyOf("-execution")],
      ["-sfn", policyOf("-sfn")],
    ];
    for (const [role, statements] of all) {
      for (const s of statements) {
        assert.equal(s.Effect, "Allow");
        for (const action of list(s.Action)) assert.ok(!action.includes("*"), `${role}: wildcard action ${action}`);
        if (list(s.Resource).includes("*")) {
          for (const action of list(s.Action)) assert.ok(STAR_ALLOWED.has(action), `${role}: ${action} on "*"`);
        }
      }
    }
    const deploy = policyOf("-deploy");
    const byAction = (statements: Statement[], action: string) =>
      statements.filter((s) => list(s.Action).includes(action));
    assert.deepEqual(byAction(deploy, "ecr:PutImage")[0].Resource, repositoryArn);
    assert.deepEqual(byAction(deploy, "states:StartExecution")[0].Resource, stateMachineArn);
    assert.equal(
      byAction(deploy, "states:DescribeExecution")[0].Resource,
      `${stateMachineArn.replace(":stateMachine:", ":execution:")}:*`,
    );
    assert.deepEqual(deploy.flatMap((s) => list(s.Action)).sort(), [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:GetAuthorizationToken",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
      "states:DescribeExecution",
      "states:StartExecution",
    ]);

    const execution = policyOf("-execution");
    assert.deepEqual(byAction(execution, "ecr:BatchGetImage")[0].Resource, repositoryArn);
    assert.equal(byAction(execution, "logs:PutLogEvents")[0].Resource, `${logGroupArn}:*`);
    assert.deepEqual(byAction(execution, "secretsmanager:GetSecretValue")[0].Resource, [
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dev/orders/database-url-a1B2c3",
    ]);
    assert.equal(byAction(execution, "ssm:GetParameters").length, 0, "no SSM parameters configured");
    assert.equal(execution.flatMap((s) => list(s.Action)).filter((a) => a.startsWith("kms:")).length, 0);

    const sfn = policyOf("-sfn");
    const family = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/db-migrate-dev:*`;
    const runTask = byAction(sfn, "ecs:RunTask")[0];
    assert.equal(runTask.Resource, family);
    assert.deepEqual(runTask.Condition, { ArnEquals: { "ecs:cluster": outputs.clusterArn } });
    assert.equal(byAction(sfn, "ecs:RegisterTaskDefinition")[0].Resource, family);
    assert.equal(byAction(sfn, "ecs:StopTask")[0].Resource, `arn:aws:ecs:${REGION}:${ACCOUNT}:task/db-migrate-dev/*`);
    assert.equal(
      byAction(sfn, "ecs:DescribeTasks")[0].Resource,
      `arn:aws:ecs:${REGION}:${ACCOUNT}:task/db-migrate-dev/*`,
    );
    const pass = byAction(sfn, "iam:PassRole")[0];
    const executionRoleArn = one("aws:iam/role:Role", "-execution").state.arn;
    const taskRoleArn = one("aws:iam/role:Role", "-task").state.arn;
    assert.deepEqual(pass.Resource, [executionRoleArn, taskRoleArn]);
    assert.deepEqual(pass.Condition, { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } });
    assert.equal(
      byAction(sfn, "events:PutRule")[0].Resource,
      `arn:aws:events:${REGION}:${ACCOUNT}:rule/StepFunctionsGetEventsForECSTaskRule`,
    );

    for (const [suffix, service] of [
      ["-execution", "ecs-tasks.amazonaws.com"],
      ["-task", "ecs-tasks.amazonaws.com"],
      ["-sfn", "states.amazonaws.com"],
    ]) {
      const trust = JSON.parse(one("aws:iam/role:Role", suffix).inputs.assumeRolePolicy).Statement[0];
      assert.deepEqual(trust.Principal, { Service: service });
      assert.deepEqual(trust.Condition, { StringEquals: { "aws:SourceAccount": ACCOUNT } });
    }
    assert.equal(
      one("aws:iam/role:Role", "-task").inputs.managedPolicyArns,
      undefined,
      "the task role has no permissions",
    );
    assert.equal(policyOfMaybe(one, "-task"), undefined);
  });

  function policyOfMaybe(
    one: (type: string, suffix?: string) => RecordedResource,
    suffix: string,
  ): RecordedResource | undefined {
    try {
      return one("aws:iam/rolePolicy:RolePolicy", suffix);
    } catch {
      return undefined;
    }
  }

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
      `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/db-migrate-dev:${mod.PLACEHOLDER_IMAGE_TAG}`,
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
    const rules = mod.egressRules([
      { securityGroupId: "sg-0d1c2b3a4f5e6d7c8", port: 5432, description: "orders Aurora cluster" },
    ]);
    assert.deepEqual(rules[0], {
      description: "orders Aurora cluster",
      protocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
      securityGroups: ["sg-0d1c2b3a4f5e6d7c8"],
    });
  });

  it("builds the state machine: validation, image override, runTask.sync, capped retries, failure states", async () => {
    const { one, outputs, children } = await build("sfn", devTask());
    const machine = one("aws:sfn/stateMachine:StateMachine").inputs;
    assert.equal(machine.type, "STANDARD");
    assert.deepEqual(machine.loggingConfiguration, {
      level: "ALL",
      includeExecutionData: false,
      logDestination: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/vendedlogs/states/cirunners-db-migrate-dev:*`,
    });
    assert.ok(
      children.some(
        (r) =>
          r.type === "aws:cloudwatch/logGroup:LogGroup" &&
          r.inputs.name === "/aws/vendedlogs/states/cirunners-db-migrate-dev",
      ),
    );
    const def = JSON.parse(machine.definition);
    assert.equal(def.QueryLanguage, "JSONata");
    assert.equal(def.StartAt, "ValidateInput");
    assert.equal(def.TimeoutSeconds, 15 * 60 + mod.EXECUTION_MARGIN_SECONDS);
    const states = def.States as Record<string, any>;

    // Every Next/Default points at an existing state; every state is reachable; terminal states end.
    const targets = new Set<string>([def.StartAt]);
    for (const state of Object.values(states)) {
      for (const next of [
        state.Next,
        state.Default,
        ...(state.Choices ?? []).map((c: any) => c.Next),
        ...(state.Catch ?? []).map((c: any) => c.Next),
      ]) {
        if (next === undefined) continue;
        assert.ok(states[next], `missing state ${next}`);
        targets.add(next);
      }
      if (!["Choice", "Succeed", "Fail"].includes(state.Type))
        assert.ok(state.Next || state.End, `${JSON.stringify(state)} neither continues nor ends`);
      assert.equal(state.Parameters, undefined, "JSONata states use Arguments");
      assert.equal(state.ResultPath, undefined, "JSONata states use Output");
    }
    assert.deepEqual([...targets].sort(), Object.keys(states).sort());

    assert.equal(states.ValidateInput.Type, "Choice");
    assert.match(states.ValidateInput.Choices[0].Condition, /\$states\.input\.imageTag/);
    assert.equal(states.ValidateInput.Default, "InvalidInput");
    assert.equal(states.InvalidInput.Type, "Fail");
    assert.equal(states.InvalidInput.Error, "InvalidInput");

    assert.equal(states.DescribeTaskDefinition.Resource, "arn:aws:states:::aws-sdk:ecs:describeTaskDefinition");
    assert.deepEqual(states.DescribeTaskDefinition.Arguments, { TaskDefinition: "db-migrate-dev" });
    const register = states.RegisterTaskDefinition;
    assert.equal(register.Resource, "arn:aws:states:::aws-sdk:ecs:registerTaskDefinition");
    assert.match(register.Arguments, /^\{% .* %\}$/);
    assert.ok(register.Arguments.includes(`"Image": "${outputs.repositoryUrl}:" & $imageTag`), register.Arguments);
    assert.ok(register.Arguments.includes(`$c.Name = "db-migrate"`));
    assert.equal(states.RememberInput.Assign.imageTag, "{% $states.input.imageTag %}");
    assert.equal(register.Assign.taskDefinitionArn, "{% $states.result.TaskDefinition.TaskDefinitionArn %}");

    const run = states.RunTask;
    assert.equal(run.Resource, "arn:aws:states:::ecs:runTask.sync");
    assert.equal(run.TimeoutSeconds, 15 * 60);
    assert.equal(run.Arguments.TaskDefinition, "{% $taskDefinitionArn %}");
    assert.equal(run.Arguments.Cluster, outputs.clusterArn);
    assert.equal(run.Arguments.LaunchType, "FARGATE");
    const sgId = one("aws:ec2/securityGroup:SecurityGroup").state.id;
    assert.deepEqual(run.Arguments.NetworkConfiguration, {
      AwsvpcConfiguration: {
        Subnets: ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
        SecurityGroups: [sgId],
        AssignPublicIp: "DISABLED",
      },
    });
    assert.match(run.Output, /\$t\.Containers\[Name = "db-migrate"\]\.ExitCode/);
    assert.match(run.Output, /"logStream": \$t\.TaskArn \? "task\/db-migrate\/" & \$split\(\$t\.TaskArn, "\/"\)\[-1\]/);

    // Retries: only throttling/server errors of the idempotent SDK calls and RunTask throttling, all capped.
    const retriers = Object.values(states).flatMap((s: any) => s.Retry ?? []);
    assert.ok(retriers.length >= 3);
    for (const retrier of retriers) {
      assert.ok(retrier.MaxAttempts >= 1 && retrier.MaxAttempts <= 3, JSON.stringify(retrier));
      for (const error of retrier.ErrorEquals)
        assert.match(error, /^(ECS|Ecs)\.(ThrottlingException|ServerException)$/);
      assert.ok(!retrier.ErrorEquals.includes("States.ALL") && !retrier.ErrorEquals.includes("States.TaskFailed"));
    }
    assert.deepEqual(
      run.Retry[0].ErrorEquals,
      ["ECS.ThrottlingException"],
      "RunTask is never retried on ServerException (it may have started)",
    );
    // Capacity re-runs: a bounded loop through WaitBeforeRetry.
    assert.equal(run.Catch[0].Next, "ClassifyFailure");
    assert.deepEqual(run.Catch[0].ErrorEquals, ["States.ALL"]);
    assert.match(run.Catch[0].Output, /\$parse\(\$c\)/);
    const retryRule = states.ClassifyFailure.Choices[0];
    assert.equal(retryRule.Next, "WaitBeforeRetry");
    assert.match(retryRule.Condition, new RegExp(`\\$attempt < ${mod.MAX_START_ATTEMPTS - 1} and`));
    assert.match(retryRule.Condition, /TaskFailedToStart/);
    assert.match(retryRule.Condition, /Capacity is unavailable/);
    assert.equal(states.WaitBeforeRetry.Next, "RunTask");
    assert.equal(states.WaitBeforeRetry.Assign.attempt, "{% $attempt + 1 %}");
    assert.equal(states.RememberInput.Assign.attempt, 0);
    assert.deepEqual(
      states.ClassifyFailure.Choices.slice(1).map((c: any) => c.Next),
      ["TimedOut", "TaskFailed"],
    );
    assert.equal(states.ClassifyFailure.Default, "StartFailed");

    // Success only on exit code 0.
    assert.equal(run.Next, "CheckExitCode");
    assert.deepEqual(states.CheckExitCode.Choices, [
      { Condition: "{% $states.input.exitCode = 0 %}", Next: "Succeeded" },
    ]);
    assert.equal(states.CheckExitCode.Default, "TaskFailed");
    for (const fail of ["TaskFailed", "TimedOut", "StartFailed", "PrepareFailed"]) {
      assert.equal(states[fail].Type, "Fail");
      assert.equal(states[fail].Cause, "{% $string($states.input) %}");
    }
    for (const state of ["DescribeTaskDefinition", "RegisterTaskDefinition"])
      assert.equal(states[state].Catch[0].Next, "PrepareFailed");

    // Every JSONata expression is delimited and balanced.
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === "string") strings.push(v);
      else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    walk(def);
    const expressions = strings.filter((v) => v.includes("{%"));
    for (const e of expressions) assert.match(e, /^\{% [\s\S]* %\}$/, "an expression is the whole string");
    assert.ok(expressions.length > 10);
    for (const e of expressions) {
      const body = e.slice(2, -2);
      let depth = 0;
      for (const ch of body.replace(/"(?:\\.|[^"\\])*"/g, '""').replace(/\/(?:\\.|[^/\\])+\//g, "//")) {
        if ("([{".includes(ch)) depth++;
        if (")]}".includes(ch)) depth--;
        assert.ok(depth >= 0, `unbalanced: ${e}`);
      }
      assert.equal(depth, 0, `unbalanced: ${e}`);
    }
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
    const descendants = descendantsOf(recorded, urn);
    const variables = descendants.filter((r) => r.type === "github:index/actionsVariable:ActionsVariable");
    assert.equal(variables.length, 8);
    const names = mod.githubVariableNames("db-migrate", "dev");
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
      () => mod.clusterNameFromArn("arn:aws:ecs:eu-west-1:123456789012:service/x"),
      /expected an ECS cluster ARN/,
    );
  });
});

describe("templates/run-task.yml", () => {
  const workflow = parseYaml(readFileSync(path.resolve(__dirname, "../../templates/run-task.yml"), "utf8"));

  it("asks for an OIDC token and nothing more", () => {
    assert.deepEqual(workflow.permissions, { "id-token": "write", contents: "read" });
  });

  it("builds and pushes the commit SHA tag with the deploy role in each stack (the run step: test/tools/templates.test.ts)", () => {
    const jobs = Object.entries(workflow.jobs) as [string, any][];
    assert.deepEqual(
      jobs.map(([id]) => id),
      ["migrate-dev", "migrate-prod"],
    );
    assert.equal(workflow.jobs["migrate-prod"].environment, "production");
    assert.equal(
      workflow.jobs["migrate-dev"].environment,
      undefined,
      "a job with an environment gets the environment subject",
    );
    for (const [id, job] of jobs) {
      const stack = id === "migrate-dev" ? "DEV" : "PROD";
      const uses = job.steps.map((s: any) => s.uses).filter(Boolean);
      for (const u of uses) assert.match(u, /@[0-9a-f]{40}$/, `${id}: ${u} pinned to a commit SHA`);
      const credentials = job.steps.find((s: any) =>
        String(s.uses).startsWith("aws-actions/configure-aws-credentials@"),
      );
      assert.equal(credentials.with["role-to-assume"], `\${{ vars.CIRUNNERS_DB_MIGRATE_${stack}_ROLE_ARN }}`);
      assert.equal(credentials.with["aws-region"], `\${{ vars.CIRUNNERS_DB_MIGRATE_${stack}_REGION }}`);
      assert.ok(job.steps.some((s: any) => String(s.uses).startsWith("aws-actions/amazon-ecr-login@")));
      const push = job.steps.find((s: any) => typeof s.run === "string" && s.run.includes("docker push"));
      assert.match(push.run, /docker push "\$IMAGE"/);
      assert.match(
        push.env.IMAGE,
        new RegExp(
          `^\\$\\{\\{ vars\\.CIRUNNERS_DB_MIGRATE_${stack}_ECR_REPOSITORY \\}\\}:\\$\\{\\{ github\\.sha \\}\\}$`,
        ),
      );
    }
  });
});
