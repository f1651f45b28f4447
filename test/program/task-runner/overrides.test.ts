import * as assert from "node:assert/strict";
import type { TaskConfig } from "../../../program/config";
import { devTask, useTaskRunnerHarness } from "./harness";

type State = Record<string, any>;

describe("TaskRunner state machine: overrides, allow-list, capacity re-runs; database ingress", function () {
  this.timeout(60_000);
  const h = useTaskRunnerHarness();

  async function statesOf(name: string, task: TaskConfig): Promise<Record<string, State>> {
    const { one } = await h.build(name, task);
    return JSON.parse(one("aws:sfn/stateMachine:StateMachine").inputs.definition).States;
  }

  it("checks the input contract, then the task's allow-list, before anything runs", async () => {
    const states = await statesOf("allow", {
      ...devTask(),
      allowCommandOverride: false,
      allowedEnvironment: ["STEPS"],
    });
    assert.equal(states.ValidateInput.Choices[0].Next, "CheckAllowList");
    const valid = states.ValidateInput.Choices[0].Condition as string;
    for (const part of [
      '"imageTag","command","environment"',
      '!= "latest"',
      "<= 64",
      "$lookup($states.input.environment",
    ])
      assert.ok(valid.includes(part), `validation checks ${part}`);
    const check = states.CheckAllowList;
    assert.deepEqual([check.Choices[0].Next, check.Default], ["OverrideNotAllowed", "RememberInput"]);
    const problems = check.Choices[0].Condition as string;
    assert.ok(problems.includes("this task does not allow a command override"), problems);
    assert.ok(problems.includes('$not($k in ["STEPS"])'), problems);
    assert.ok(problems.includes("(allowed: STEPS)"), problems);
    assert.equal(states.OverrideNotAllowed.Type, "Fail");
    assert.equal(states.OverrideNotAllowed.Error, h.mod.TASK_RUN_ERRORS.notAllowed);
    assert.match(states.OverrideNotAllowed.Cause, /^\{% \$join\(.*, "; "\) %\}$/);

    const open = await statesOf("allow-open", { ...devTask(), allowCommandOverride: true, allowedEnvironment: [] });
    const openProblems = open.CheckAllowList.Choices[0].Condition as string;
    assert.ok(!openProblems.includes("does not allow a command override"), "command allowed");
    assert.ok(openProblems.includes("$not($k in [])") && openProblems.includes("(allowed: none)"), openProblems);
  });

  it("passes the command and environment to the task container as ECS ContainerOverrides", async () => {
    const states = await statesOf("overrides", { ...devTask(), allowCommandOverride: true });
    const override = states.RememberInput.Assign.containerOverride as string;
    assert.ok(override.includes('{ "Name": "db-migrate" }'), override);
    assert.ok(override.includes('{ "Command": [$states.input.command] }'), override);
    assert.ok(override.includes("$sort($keys($states.input.environment))"), "environment sorted by name");
    assert.deepEqual(states.RunTask.Arguments.Overrides, { ContainerOverrides: ["{% $containerOverride %}"] });
  });

  it("re-runs capacity failures under the names the .sync integration uses, capped, never States.ALL", async () => {
    const states = await statesOf("capacity", devTask());
    const rule = states.ClassifyFailure.Choices[0].Condition as string;
    assert.ok(rule.includes('["AmazonECS.Unknown","ECS.AmazonECSException"]'), rule);
    assert.ok(rule.includes('"States.TaskFailed" and $states.input.stopCode = "TaskFailedToStart"'), rule);
    assert.ok(rule.includes(h.mod.CAPACITY_REASONS.toString()), "matched on the capacity message");
    assert.ok(rule.startsWith(`{% $attempt < ${h.mod.MAX_START_ATTEMPTS - 1} and`), "capped");
    assert.ok(h.mod.CAPACITY_REASONS.test("Capacity is unavailable at this time. Please try again later"));
    assert.ok(h.mod.CAPACITY_REASONS.test("RESOURCE:ENI"));
    assert.ok(!h.mod.CAPACITY_REASONS.test("CannotPullContainerError: pull image manifest has been retried"));
    assert.equal(states.WaitBeforeRetry.Next, "RunTask");
  });

  it("opens each security-group target to the task on its port, unless manageIngress is false", async () => {
    const task: TaskConfig = {
      ...devTask(),
      egress: [
        { securityGroupId: "sg-0aaaaaaaaaaaaaaa1", port: 5432, manageIngress: true },
        { securityGroupId: "sg-0aaaaaaaaaaaaaaa1", port: 5432, manageIngress: true, description: "same, twice" },
        { securityGroupId: "sg-0bbbbbbbbbbbbbbb2", port: 6379, manageIngress: false },
        { cidrBlock: "10.20.0.0/16", port: 5432, manageIngress: true },
      ],
    };
    const { children, one } = await h.build("ingress", task);
    const rules = children.filter((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    assert.equal(rules.length, 1, rules.map((r) => r.name).join(", "));
    const taskGroup = one("aws:ec2/securityGroup:SecurityGroup").state.id;
    assert.deepEqual(
      {
        group: rules[0].inputs.securityGroupId,
        from: rules[0].inputs.referencedSecurityGroupId,
        protocol: rules[0].inputs.ipProtocol,
        ports: [rules[0].inputs.fromPort, rules[0].inputs.toPort],
      },
      { group: "sg-0aaaaaaaaaaaaaaa1", from: taskGroup, protocol: "tcp", ports: [5432, 5432] },
    );
    assert.equal(rules[0].inputs.cidrIpv4, undefined, "from the task's group only");
  });
});
