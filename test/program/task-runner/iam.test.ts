import * as assert from "node:assert/strict";
import type { TaskConfig } from "../../../program/config";
import { LOG_DELIVERY_ACTIONS } from "../../../program/task-runner/policies";
import type { RecordedResource } from "../../../testkit/pulumi-mocks";
import { ACCOUNT, devTask, list, OIDC_PROVIDER_ARN, REGION, type Statement, useTaskRunnerHarness } from "./harness";

// Actions without resource types: "*" is the only resource AWS accepts for them. The log delivery ones are the
// program's own list, which says the same of them.
const STAR_ALLOWED = new Set(["ecr:GetAuthorizationToken", "ecs:DescribeTaskDefinition", ...LOG_DELIVERY_ACTIONS]);

describe("TaskRunner IAM: trust and permissions", function () {
  this.timeout(60_000);
  const h = useTaskRunnerHarness();
  const build: typeof h.build = (name, task) => h.build(name, task);

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
  });

  it("with repository ids, trusts exactly the name-based and the immutable-id subject of each branch and environment", async () => {
    const task: TaskConfig = {
      ...devTask(),
      repositories: [
        {
          repository: "acme/app",
          ownerId: 123,
          repositoryId: 456,
          branches: ["main", "release/1"],
          environments: ["production"],
        },
        { repository: "acme/legacy", branches: ["main"], environments: [] },
      ],
    };
    const { one } = await build("trust-ids", task);
    const [statement] = JSON.parse(one("aws:iam/role:Role", "-deploy").inputs.assumeRolePolicy).Statement;
    assert.deepEqual(statement.Principal, { Federated: OIDC_PROVIDER_ARN });
    assert.deepEqual(Object.keys(statement.Condition), ["StringEquals"], "exact values only, no StringLike");
    assert.equal(statement.Condition.StringEquals["token.actions.githubusercontent.com:aud"], "sts.amazonaws.com");
    assert.deepEqual(statement.Condition.StringEquals["token.actions.githubusercontent.com:sub"], [
      "repo:acme/app:ref:refs/heads/main",
      "repo:acme/app:ref:refs/heads/release/1",
      "repo:acme/app:environment:production",
      "repo:acme-123/app-456:ref:refs/heads/main",
      "repo:acme-123/app-456:ref:refs/heads/release/1",
      "repo:acme-123/app-456:environment:production",
      "repo:acme/legacy:ref:refs/heads/main",
    ]);
  });

  it("refuses a repository with one id only, and an empty subject list", async () => {
    const { taskSchema } = await import("../../../program/config/workloads");
    const base = { name: "t", cpu: 256, memory: 512, egress: [{ cidrBlock: "10.0.0.0/16", port: 5432 }] };
    const parsed = taskSchema.safeParse({
      ...base,
      repositories: [{ repository: "acme/app", ownerId: 1, branches: ["main"] }],
    });
    assert.equal(parsed.success, false);
    assert.match(JSON.stringify(parsed.error?.issues), /both ownerId and repositoryId/);
    assert.throws(() => h.oidc.githubOidcTrustPolicy(OIDC_PROVIDER_ARN, []), /at least one subject/);
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
    const executions = `${stateMachineArn.replace(":stateMachine:", ":execution:")}:*`;
    for (const action of ["states:StartExecution", "states:ListExecutions"]) {
      assert.equal(byAction(deploy, action).length, 1, action);
      assert.deepEqual(byAction(deploy, action)[0].Resource, stateMachineArn, action);
    }
    for (const action of ["states:DescribeExecution", "states:GetExecutionHistory", "states:StopExecution"]) {
      assert.equal(byAction(deploy, action).length, 1, action);
      assert.equal(byAction(deploy, action)[0].Resource, executions, `${action}: this machine's executions only`);
    }
    assert.equal(byAction(deploy, "logs:GetLogEvents")[0].Resource, `${logGroupArn}:log-stream:*`);
    assert.deepEqual(deploy.flatMap((s) => list(s.Action)).sort(), [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:GetAuthorizationToken",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
      "logs:GetLogEvents",
      "states:DescribeExecution",
      "states:GetExecutionHistory",
      "states:ListExecutions",
      "states:StartExecution",
      "states:StopExecution",
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
});
