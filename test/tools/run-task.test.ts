import { CreateStateMachineCommand, SFNClient } from "@aws-sdk/client-sfn";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { startMoto, type MotoServer } from "../../testkit/moto";
import {
  DEFAULT_TIMEOUT_MS,
  describeAwsError,
  EXIT,
  imageTagProblem,
  interpretExecution,
  logStreamConsoleUrl,
  parseArgs,
  parseDuration,
  pollDelay,
  processExitCode,
  UsageError,
} from "../../tools/run-task/lib";
import { runTask } from "../../tools/run-task/run";

const REGION = "eu-west-1";
const ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:db-migrate-dev";
const SHA = "3f786850e387550fdab836ed7e6dc881de23001b";

describe("run-task CLI: pure functions", () => {
  it("parses the arguments and takes the region from the state machine ARN", () => {
    const options = parseArgs([
      "--state-machine-arn",
      ARN,
      `--image-tag=${SHA}`,
      "--timeout",
      "45m",
      "--execution-name",
      "123-1",
    ]);
    assert.deepEqual(options, {
      stateMachineArn: ARN,
      imageTag: SHA,
      timeoutMs: 45 * 60_000,
      executionName: "123-1",
      region: REGION,
    });
    assert.equal(
      (parseArgs(["--state-machine-arn", ARN, "--image-tag", SHA]) as { timeoutMs: number }).timeoutMs,
      DEFAULT_TIMEOUT_MS,
    );
    assert.equal(parseArgs(["--help"]), "help");
  });

  it("names what is wrong with bad arguments", () => {
    const cases: [string[], RegExp][] = [
      [["--image-tag", SHA], /--state-machine-arn is required/],
      [["--state-machine-arn", ARN], /--image-tag is required/],
      [
        ["--state-machine-arn", "arn:aws:states:eu-west-1:123456789012:execution:x:y", "--image-tag", SHA],
        /expected arn:aws:states:<region>:<account>:stateMachine:<name>/,
      ],
      [["--state-machine-arn", ARN, "--image-tag", "-bad"], /not an ECR image tag/],
      [["--state-machine-arn", ARN, "--image-tag", "latest"], /"latest" names no particular build/],
      [["--state-machine-arn", ARN, "--image-tag", SHA, "--timeout", "soon"], /--timeout: expected a duration/],
      [["--state-machine-arn", ARN, "--image-tag", SHA, "--verbose"], /unknown argument "--verbose"/],
      [["--state-machine-arn", ARN, "--image-tag"], /--image-tag: expected a value/],
      [["--state-machine-arn", ARN, "--image-tag", SHA, "--image-tag", SHA], /given twice/],
      [["--state-machine-arn", ARN, "--image-tag", SHA, "--execution-name", "a b"], /--execution-name/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(
        () => parseArgs(argv),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
        argv.join(" "),
      );
    }
  });

  it("parses durations and image tags", () => {
    assert.equal(parseDuration("90"), 90_000);
    assert.equal(parseDuration("2h"), 7_200_000);
    assert.throws(() => parseDuration("0"), UsageError);
    assert.equal(imageTagProblem(SHA), undefined);
    assert.equal(imageTagProblem("v1.2.3_rc-1"), undefined);
    assert.match(imageTagProblem("") ?? "", /empty/);
    assert.match(imageTagProblem("a".repeat(129)) ?? "", /at most 128/);
    assert.match(imageTagProblem("sha:abc") ?? "", /not an ECR image tag/);
  });

  it("backs off polls geometrically up to a cap", () => {
    const backoff = { initialMs: 1000, maxMs: 5000, factor: 2 };
    assert.deepEqual(
      [0, 1, 2, 3, 10].map((a) => pollDelay(a, backoff)),
      [1000, 2000, 4000, 5000, 5000],
    );
  });

  it("maps task exit codes to process exit codes", () => {
    assert.equal(processExitCode(3), 3);
    assert.equal(processExitCode(255), 255);
    assert.equal(processExitCode(undefined), 1);
    assert.equal(processExitCode(0), 1, "a failed run never exits 0");
    assert.equal(processExitCode(300), 1);
    assert.equal(processExitCode(-1), 1);
  });

  it("interprets execution results", () => {
    assert.deepEqual(interpretExecution({ status: "RUNNING" }), { kind: "running" });
    const ok = interpretExecution({ status: "SUCCEEDED", output: JSON.stringify({ exitCode: 0, taskArn: "t" }) });
    assert.equal(ok.kind, "succeeded");
    const failed = interpretExecution({
      status: "FAILED",
      error: "TaskFailed",
      cause: JSON.stringify({
        exitCode: 42,
        stoppedReason: "Essential container in task exited",
        logGroup: "/g",
        logStream: "task/c/1",
      }),
    });
    assert.equal(failed.kind, "failed");
    assert.equal(failed.kind === "failed" && failed.exitCode, 42);
    assert.equal(
      (interpretExecution({ status: "FAILED", error: "InvalidInput", cause: "expected input" }) as { exitCode: number })
        .exitCode,
      EXIT.usage,
    );
    assert.equal((interpretExecution({ status: "TIMED_OUT" }) as { error: string }).error, "States.Timeout");
    assert.equal((interpretExecution({ status: "ABORTED" }) as { exitCode: number }).exitCode, 1);
    assert.equal(interpretExecution({ status: "SUCCEEDED", output: JSON.stringify({ exitCode: 5 }) }).kind, "failed");
  });

  it("links to the log stream the way the CloudWatch console encodes it", () => {
    assert.equal(
      logStreamConsoleUrl("eu-west-1", "/cirunners/dev/tasks/db-migrate", "task/db-migrate/abc"),
      "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fcirunners$252Fdev$252Ftasks$252Fdb-migrate/log-events/task$252Fdb-migrate$252Fabc",
    );
  });

  it("explains access denied and missing state machines", () => {
    const options = { stateMachineArn: ARN, region: REGION };
    const denied = describeAwsError(
      Object.assign(new Error("User is not authorized to perform: states:StartExecution"), {
        name: "AccessDeniedException",
      }),
      options,
    );
    assert.match(denied.message, /access denied: User is not authorized/);
    assert.match(denied.message, /ROLE_ARN/);
    assert.equal(denied.exitCode, 1);
    assert.match(
      describeAwsError(Object.assign(new Error("x"), { name: "StateMachineDoesNotExist" }), options).message,
      /does not exist in eu-west-1/,
    );
    assert.equal(
      describeAwsError(Object.assign(new Error("x"), { name: "InvalidExecutionInput" }), options).exitCode,
      EXIT.usage,
    );
  });
});

describe("run-task CLI against moto's Step Functions", function () {
  this.timeout(120_000);
  let moto: MotoServer;
  let client: SFNClient;
  let lines: string[];
  const deps = () => ({
    client,
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 50))),
    now: () => Date.now(),
    log: (line: string) => lines.push(line),
    backoff: { initialMs: 100, maxMs: 200, factor: 2 },
  });

  /**
   * moto runs state machines only in its "execute_state_machine" mode (set through /moto-api/config), and its
   * interpreter does not evaluate JSONata: these stand-ins use JSONPath states that end the way the real
   * definition ends (same error names, same summary in the output or the cause).
   */
  async function stateMachine(name: string, states: Record<string, unknown>, startAt: string): Promise<string> {
    const created = await client.send(
      new CreateStateMachineCommand({
        name,
        roleArn: "arn:aws:iam::123456789012:role/sfn",
        definition: JSON.stringify({ StartAt: startAt, States: states }),
      }),
    );
    return created.stateMachineArn as string;
  }

  before(async () => {
    moto = await startMoto({ region: REGION });
    client = new SFNClient({ region: REGION });
  });
  after(async () => {
    client?.destroy();
    await moto?.stop();
  });
  // One execution per test on a fresh moto: its interpreter fails to start an execution after another one
  // finished (it deep-copies state holding a lock), so every test begins with a reset.
  beforeEach(async () => {
    lines = [];
    await moto.reset();
    const response = await fetch(`${moto.endpoint}/moto-api/config`, {
      method: "POST",
      body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
    });
    assert.ok(response.ok);
  });

  const summary = {
    imageTag: SHA,
    taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/db-migrate-dev/0123abcd",
    logGroup: "/cirunners/dev/tasks/db-migrate",
    logStream: "task/db-migrate/0123abcd",
  };

  it("starts, polls while running and exits 0 on success", async () => {
    const arn = await stateMachine(
      "succeeds",
      {
        Provision: { Type: "Wait", Seconds: 1, Next: "Done" },
        Done: {
          Type: "Pass",
          Result: { ...summary, exitCode: 0, stoppedReason: "Essential container in task exited" },
          End: true,
        },
      },
      "Provision",
    );
    const code = await runTask(
      { stateMachineArn: arn, imageTag: SHA, timeoutMs: 30_000, region: REGION, executionName: "run-1" },
      deps(),
    );
    assert.equal(code, 0, lines.join("\n"));
    assert.ok(
      lines.some((l) => l.startsWith("started ") && l.includes(":execution:succeeds:run-1")),
      lines.join("\n"),
    );
    assert.ok(
      lines.includes("RUNNING (0s)") || lines.some((l) => /^RUNNING \(\d+s\)$/.test(l)),
      "reports the running state",
    );
    assert.ok(lines.some((l) => l.includes("logs: https://eu-west-1.console.aws.amazon.com/cloudwatch/")));
  });

  it("exits with the container's exit code and prints the stopped reason and the logs link", async () => {
    const cause = {
      ...summary,
      exitCode: 3,
      stoppedReason: "Essential container in task exited",
      stopCode: "EssentialContainerExited",
    };
    const arn = await stateMachine(
      "fails",
      { Failed: { Type: "Fail", Error: "TaskFailed", Cause: JSON.stringify(cause) } },
      "Failed",
    );
    const code = await runTask({ stateMachineArn: arn, imageTag: SHA, timeoutMs: 30_000, region: REGION }, deps());
    assert.equal(code, 3);
    const text = lines.join("\n");
    assert.match(text, /task run FAILED: TaskFailed/);
    assert.match(text, /stopped reason: Essential container in task exited \(EssentialContainerExited\)/);
    assert.match(text, /container exit code: 3/);
    assert.match(
      text,
      /logs: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#logsV2:log-groups\/log-group\/\$252Fcirunners/,
    );
    assert.match(text, /execution: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/states\/home/);
  });

  it("exits 1 when the task never started (no exit code)", async () => {
    const cause = { imageTag: SHA, error: "ECS.AmazonECSException", message: "Capacity is unavailable at this time" };
    const arn = await stateMachine(
      "start-fails",
      { Failed: { Type: "Fail", Error: "StartFailed", Cause: JSON.stringify(cause) } },
      "Failed",
    );
    const code = await runTask({ stateMachineArn: arn, imageTag: SHA, timeoutMs: 30_000, region: REGION }, deps());
    assert.equal(code, 1);
    assert.match(lines.join("\n"), /caused by: ECS.AmazonECSException\n {2}message: Capacity is unavailable/);
  });

  it("exits 2 with the state machine's message when it rejects the input", async () => {
    const arn = await stateMachine(
      "rejects",
      { Invalid: { Type: "Fail", Error: "InvalidInput", Cause: 'expected input {"imageTag": "<immutable ECR tag>"}' } },
      "Invalid",
    );
    const code = await runTask({ stateMachineArn: arn, imageTag: SHA, timeoutMs: 30_000, region: REGION }, deps());
    assert.equal(code, 2);
    assert.match(lines.join("\n"), /the state machine rejected the input: expected input/);
  });

  it("says clearly that the state machine does not exist", async () => {
    const missing = "arn:aws:states:eu-west-1:123456789012:stateMachine:no-such-task-dev";
    const code = await runTask({ stateMachineArn: missing, imageTag: SHA, timeoutMs: 30_000, region: REGION }, deps());
    assert.equal(code, 1);
    assert.match(
      lines.join("\n"),
      /error: state machine arn:aws:states:eu-west-1:123456789012:stateMachine:no-such-task-dev does not exist in eu-west-1/,
    );
  });

  it("stops waiting at --timeout and says the execution goes on", async () => {
    const arn = await stateMachine(
      "slow",
      { Long: { Type: "Wait", Seconds: 60, Next: "Done" }, Done: { Type: "Succeed" } },
      "Long",
    );
    const code = await runTask(
      { stateMachineArn: arn, imageTag: SHA, timeoutMs: 1_000, region: REGION },
      { ...deps(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
    );
    assert.equal(code, 1);
    assert.match(lines.join("\n"), /still running after 1s \(--timeout\); the execution goes on/);
  });

  it("the command line rejects a bad image tag before calling AWS (exit 2)", () => {
    const cli = path.resolve(__dirname, "../../tools/run-task/cli.ts");
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", cli, "--state-machine-arn", ARN, "--image-tag", "bad tag"],
      {
        encoding: "utf8",
        env: { ...process.env, AWS_ENDPOINT_URL: moto.endpoint },
      },
    );
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /--image-tag: "bad tag" is not an ECR image tag/);
    assert.match(result.stderr, /Usage: run-task/);
  });

  it("the command line exits with the task's exit code", () => {
    return (async () => {
      const cause = { ...summary, exitCode: 7, stoppedReason: "Essential container in task exited" };
      const arn = await stateMachine(
        "cli-fails",
        { Failed: { Type: "Fail", Error: "TaskFailed", Cause: JSON.stringify(cause) } },
        "Failed",
      );
      const cli = path.resolve(__dirname, "../../tools/run-task/cli.ts");
      const result = spawnSync(
        process.execPath,
        ["--import", "tsx", cli, "--state-machine-arn", arn, "--image-tag", SHA, "--timeout", "30s"],
        {
          encoding: "utf8",
          env: {
            ...process.env,
            AWS_ENDPOINT_URL: moto.endpoint,
            AWS_ACCESS_KEY_ID: "testing",
            AWS_SECRET_ACCESS_KEY: "testing",
          },
        },
      );
      assert.equal(result.status, 7, result.stdout + result.stderr);
      assert.match(result.stdout, /container exit code: 7/);
    })();
  });
});
