import { DescribeExecutionCommand } from "@aws-sdk/client-sfn";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { runTask } from "../../tools/run-task/run";
import { options, REGION, SHA, useSfnFixture } from "./sfn-fixture";

const CLI = path.resolve(__dirname, "../../tools/run-task/cli.ts");
const summary = {
  imageTag: SHA,
  taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/db-migrate-dev/0123abcd",
  logGroup: "/cirunners/dev/tasks/db-migrate",
  logStream: "task/db-migrate/0123abcd",
};

describe("run-task against moto's Step Functions: outcomes and links", function () {
  this.timeout(120_000);
  const sfn = useSfnFixture();
  const text = () => sfn.lines.join("\n");

  it("starts with the input contract, polls while running and exits 0 on success", async () => {
    const arn = await sfn.stateMachine(
      "succeeds",
      {
        Provision: { Type: "Wait", Seconds: 1, Next: "Done" },
        Done: { Type: "Pass", Result: { ...summary, exitCode: 0 }, End: true },
      },
      "Provision",
    );
    const run = options(arn, { executionName: "run-1", command: ["npm", "run", "seed"], environment: { STEPS: "2" } });
    const result = await runTask(run, sfn.deps());
    assert.equal(result.exitCode, 0, text());
    assert.equal(result.status, "SUCCEEDED");
    assert.ok(
      sfn.lines.some((l) => l.startsWith("started ") && l.includes(":execution:succeeds:run-1")),
      text(),
    );
    assert.ok(
      sfn.lines.some((l) => /^RUNNING \(\d+s\)$/.test(l)),
      "reports the running state",
    );
    assert.match(text(), /logs: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\//);
    const sent = await sfn.client.send(new DescribeExecutionCommand({ executionArn: result.executionArn }));
    assert.deepEqual(JSON.parse(sent.input ?? ""), {
      imageTag: SHA,
      command: ["npm", "run", "seed"],
      environment: { STEPS: "2" },
    });
  });

  it("exits with the container's exit code and prints the stopped reason and both links", async () => {
    const cause = {
      ...summary,
      exitCode: 3,
      stoppedReason: "Essential container in task exited",
      stopCode: "EssentialContainerExited",
    };
    const arn = await sfn.stateMachine(
      "fails",
      { F: { Type: "Fail", Error: "TaskFailed", Cause: JSON.stringify(cause) } },
      "F",
    );
    const result = await runTask(options(arn), sfn.deps());
    assert.equal(result.exitCode, 3);
    assert.match(text(), /task run FAILED: TaskFailed/);
    assert.match(text(), /stopped reason: Essential container in task exited \(EssentialContainerExited\)/);
    assert.match(
      text(),
      /logs: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#logsV2:log-groups\/log-group\/\$252Fcirunners/,
    );
    assert.match(text(), /execution: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/states\/home/);
    assert.match(result.logsUrl ?? "", /log-events\/task\$252Fdb-migrate\$252F0123abcd$/);
  });

  it("when the task never started: exit 1, no stream link, the execution's link", async () => {
    const cause = {
      imageTag: SHA,
      logGroup: summary.logGroup,
      error: "ECS.AmazonECSException",
      message: "Capacity is unavailable at this time",
    };
    const arn = await sfn.stateMachine(
      "start-fails",
      { F: { Type: "Fail", Error: "StartFailed", Cause: JSON.stringify(cause) } },
      "F",
    );
    const result = await runTask(options(arn), sfn.deps());
    assert.equal(result.exitCode, 1);
    assert.equal(result.logsUrl, undefined);
    assert.match(text(), /caused by: ECS.AmazonECSException\n {2}message: Capacity is unavailable/);
    assert.match(text(), /logs: none, the task never started/);
    assert.doesNotMatch(text(), /cloudwatch/);
    assert.match(text(), /execution: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/states\//);
  });

  it("the run's timeout (TaskTimedOut) still links the task's logs", async () => {
    const cause = { ...summary, error: "States.Timeout", stoppedReason: "Task stopped by Step Functions" };
    const arn = await sfn.stateMachine(
      "times-out",
      { T: { Type: "Fail", Error: "TaskTimedOut", Cause: JSON.stringify(cause) } },
      "T",
    );
    const result = await runTask(options(arn), sfn.deps());
    assert.equal(result.exitCode, 1);
    assert.match(text(), /task run FAILED: TaskTimedOut/);
    assert.match(text(), /logs: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\//);
  });

  it("exits 2 with the state machine's message when it rejects the input", async () => {
    const arn = await sfn.stateMachine(
      "rejects",
      { I: { Type: "Fail", Error: "InvalidInput", Cause: 'expected input {"imageTag": "<immutable ECR tag>"}' } },
      "I",
    );
    const result = await runTask(options(arn), sfn.deps());
    assert.equal(result.exitCode, 2);
    assert.match(text(), /the state machine rejected the input: expected input/);
  });

  it("says clearly that the state machine does not exist, at once", async () => {
    const missing = "arn:aws:states:eu-west-1:123456789012:stateMachine:no-such-task-dev";
    const result = await runTask(options(missing), sfn.deps());
    assert.equal(result.exitCode, 1);
    assert.match(
      text(),
      /error: state machine arn:aws:states:eu-west-1:123456789012:stateMachine:no-such-task-dev does not exist in eu-west-1/,
    );
    assert.ok(!sfn.lines.some((l) => l.includes("retrying")), "not found is not retried");
  });

  it("stops waiting at the timeout, says the execution goes on and links it", async () => {
    const arn = await sfn.stateMachine(
      "slow",
      { Long: { Type: "Wait", Seconds: 60, Next: "Done" }, Done: { Type: "Succeed" } },
      "Long",
    );
    const result = await runTask(options(arn, { timeoutMs: 1_000 }), {
      ...sfn.deps(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    });
    assert.equal(result.exitCode, 1);
    assert.equal(result.status, "WAIT_TIMEOUT");
    assert.match(text(), /still running after 1s \(timeout\); the execution goes on/);
    assert.match(text(), /logs: none, the task never started/);
    assert.match(
      text(),
      /execution: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/states\/home\?region=eu-west-1#\/v2\/executions\/details\/arn:aws:states:eu-west-1:123456789012:execution:slow:/,
    );
  });

  it("the command line rejects a bad image tag before calling AWS (exit 2)", () => {
    const result = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        CLI,
        "--state-machine-arn",
        "arn:aws:states:eu-west-1:123456789012:stateMachine:x",
        "--image-tag",
        "bad tag",
      ],
      {
        encoding: "utf8",
        env: { ...process.env, AWS_ENDPOINT_URL: sfn.moto.endpoint },
      },
    );
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /--image-tag: "bad tag" is not an ECR image tag/);
    assert.match(result.stderr, /Usage: run-task/);
  });

  it("the command line exits with the task's exit code", async () => {
    const cause = { ...summary, exitCode: 7, stoppedReason: "Essential container in task exited" };
    const arn = await sfn.stateMachine(
      "cli-fails",
      { F: { Type: "Fail", Error: "TaskFailed", Cause: JSON.stringify(cause) } },
      "F",
    );
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", CLI, "--state-machine-arn", arn, "--image-tag", SHA, "--timeout", "30s"],
      {
        encoding: "utf8",
        env: { ...process.env, AWS_ENDPOINT_URL: sfn.moto.endpoint, AWS_REGION: REGION },
      },
    );
    assert.equal(result.status, 7, result.stdout + result.stderr);
    assert.match(result.stdout, /container exit code: 7/);
  });
});
