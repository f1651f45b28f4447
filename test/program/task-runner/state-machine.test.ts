import * as assert from "node:assert/strict";
import { ACCOUNT, devTask, REGION, useTaskRunnerHarness } from "./harness";

describe("TaskRunner state machine", function () {
  this.timeout(60_000);
  const h = useTaskRunnerHarness();
  const build: typeof h.build = (name, task) => h.build(name, task);

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
    assert.equal(def.TimeoutSeconds, 15 * 60 + h.mod.EXECUTION_MARGIN_SECONDS);
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
    assert.match(retryRule.Condition, new RegExp(`\\$attempt < ${h.mod.MAX_START_ATTEMPTS - 1} and`));
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
});
