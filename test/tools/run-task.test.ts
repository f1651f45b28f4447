import * as assert from "node:assert/strict";
import { AWS_RETRY, backoffDelay, isTransient, RetryBudgetExceeded, withRetry } from "../../tools/run-task/aws-retry";
import {
  describeAwsError,
  describeFailure,
  interpretExecution,
  logStreamConsoleUrl,
  pollDelay,
  processExitCode,
} from "../../tools/run-task/lib";
import {
  DEFAULT_TIMEOUT_MS,
  EXIT,
  githubRun,
  imageTagOf,
  parseArgs,
  parseDuration,
  UsageError,
} from "../../tools/run-task/options";

const REGION = "eu-west-1";
const ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:db-migrate-dev";
const SHA = "3f786850e387550fdab836ed7e6dc881de23001b";
const awsError = (name: string, extra: object = {}) => Object.assign(new Error(`${name} happened`), { name }, extra);

describe("run-task: options", () => {
  it("parses the arguments and takes the region from the state machine ARN", () => {
    const options = parseArgs([
      "--state-machine-arn",
      ARN,
      `--image-tag=${SHA}`,
      "--timeout",
      "45m",
      "--execution-name",
      "123-1",
      "--command",
      '["npm","run","migrate:down"]',
      "--env",
      "STEPS=2",
      "--env=NOTE=a=b",
      "--if-running",
      "wait",
    ]);
    assert.deepEqual(options, {
      stateMachineArn: ARN,
      region: REGION,
      imageTag: SHA,
      timeoutMs: 45 * 60_000,
      executionName: "123-1",
      command: ["npm", "run", "migrate:down"],
      environment: { STEPS: "2", NOTE: "a=b" },
      ifRunning: "wait",
      runUrl: undefined,
    });
    const defaults = parseArgs(["--state-machine-arn", ARN, "--image-tag", SHA]) as {
      timeoutMs: number;
      ifRunning: string;
    };
    assert.equal(defaults.timeoutMs, DEFAULT_TIMEOUT_MS);
    assert.equal(defaults.ifRunning, "fail");
    assert.equal(parseArgs(["--help"]), "help");
  });

  it("names the execution after the GitHub run attempt when it runs in a workflow", () => {
    const env = { GITHUB_REPOSITORY: "acme/orders.service", GITHUB_RUN_ID: "9876543210", GITHUB_RUN_ATTEMPT: "2" };
    assert.deepEqual(githubRun(env), {
      executionName: "orders-service-9876543210-2",
      runUrl: "https://github.com/acme/orders.service/actions/runs/9876543210/attempts/2",
    });
    const options = parseArgs(["--state-machine-arn", ARN, "--image-tag", SHA], env) as { executionName: string };
    assert.equal(options.executionName, "orders-service-9876543210-2");
    assert.equal(githubRun({}), undefined);
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
      [["--state-machine-arn", ARN, "--image-tag", SHA, "--command", "npm run x"], /--command: expected a JSON array/],
      [["--state-machine-arn", ARN, "--image-tag", SHA, "--command", "[]"], /--command: expected a non-empty/],
      [["--state-machine-arn", ARN, "--image-tag", SHA, "--env", "NOVALUE"], /--env: line 1: expected NAME=value/],
      [["--state-machine-arn", ARN, "--image-tag", SHA, "--env", "1X=2"], /--env: 1X: expected a variable name/],
      [["--state-machine-arn", ARN, "--image-tag", SHA, "--env", "A=1", "--env", "A=2"], /--env: A is given twice/],
      [["--state-machine-arn", ARN, "--image-tag", SHA, "--if-running", "queue"], /--if-running: expected "fail"/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(
        () => parseArgs(argv),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
        argv.join(" "),
      );
    }
  });

  it("parses durations and takes the tag from an image reference", () => {
    assert.equal(parseDuration("90"), 90_000);
    assert.equal(parseDuration("2h"), 7_200_000);
    assert.throws(() => parseDuration("0"), UsageError);
    assert.equal(imageTagOf(SHA, "x"), SHA);
    assert.equal(imageTagOf(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/db-migrate-dev:${SHA}`, "x"), SHA);
    assert.equal(imageTagOf("localhost:5000/app:v1.2.3", "x"), "v1.2.3");
    assert.throws(() => imageTagOf("localhost:5000/app", "image"), /image: "localhost:5000\/app" has no tag/);
    assert.throws(() => imageTagOf("app@sha256:abc", "image"), /digests are not supported/);
  });
});

describe("run-task: results, links and AWS errors", () => {
  it("backs off polls geometrically up to a cap", () => {
    const backoff = { initialMs: 1000, maxMs: 5000, factor: 2 };
    assert.deepEqual(
      [0, 1, 2, 3, 10].map((a) => pollDelay(a, backoff)),
      [1000, 2000, 4000, 5000, 5000],
    );
  });

  it("maps task exit codes to process exit codes", () => {
    assert.deepEqual([3, 255, undefined, 0, 300, -1].map(processExitCode), [3, 255, 1, 1, 1, 1]);
  });

  it("interprets execution results", () => {
    assert.deepEqual(interpretExecution({ status: "RUNNING" }), { kind: "running" });
    assert.equal(
      interpretExecution({ status: "SUCCEEDED", output: JSON.stringify({ exitCode: 0 }) }).kind,
      "succeeded",
    );
    const failed = interpretExecution({
      status: "FAILED",
      error: "TaskFailed",
      cause: JSON.stringify({ exitCode: 42 }),
    });
    assert.equal(failed.kind === "failed" && failed.exitCode, 42);
    const invalid = interpretExecution({ status: "FAILED", error: "InvalidInput", cause: "expected input" });
    assert.equal(invalid.kind === "failed" && invalid.exitCode, EXIT.usage);
    const timedOut = interpretExecution({ status: "TIMED_OUT" });
    assert.equal(timedOut.kind === "failed" && timedOut.error, "States.Timeout");
    assert.equal(interpretExecution({ status: "SUCCEEDED", output: JSON.stringify({ exitCode: 5 }) }).kind, "failed");
  });

  it("links the log stream only for a task that started, else says why and links the execution", () => {
    const execution = "arn:aws:states:eu-west-1:123456789012:execution:db-migrate-dev:x";
    const neverStarted = interpretExecution({
      status: "FAILED",
      error: "StartFailed",
      // What a run that never got a task reports: a log group, and no task ARN, so no stream exists.
      cause: JSON.stringify({ logGroup: "/g", error: "ECS.AmazonECSException", message: "Capacity is unavailable" }),
    });
    assert.equal(neverStarted.kind, "failed");
    const lines = describeFailure(neverStarted as never, REGION, execution).join("\n");
    assert.match(lines, /logs: none, the task never started/);
    assert.match(lines, /execution: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/states\/home/);
    const timedOut = describeFailure(interpretExecution({ status: "TIMED_OUT" }) as never, REGION, execution, {
      logGroup: "/g",
      logStream: "task/c/1",
    }).join("\n");
    assert.match(timedOut, /States.Timeout/);
    assert.match(timedOut, /logs: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\/.*task\$252Fc\$252F1/);
  });

  it("links to the log stream the way the CloudWatch console encodes it", () => {
    assert.equal(
      logStreamConsoleUrl("eu-west-1", "/cirunners/dev/tasks/db-migrate", "task/db-migrate/abc"),
      "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fcirunners$252Fdev$252Ftasks$252Fdb-migrate/log-events/task$252Fdb-migrate$252Fabc",
    );
  });

  it("explains access denied and missing state machines", () => {
    const options = { stateMachineArn: ARN, region: REGION };
    const denied = describeAwsError(awsError("AccessDeniedException"), options);
    assert.match(denied.message, /access denied: AccessDeniedException happened/);
    assert.match(denied.message, /ROLE_ARN/);
    assert.equal(denied.exitCode, 1);
    assert.match(
      describeAwsError(awsError("StateMachineDoesNotExist"), options).message,
      /does not exist in eu-west-1/,
    );
    assert.equal(describeAwsError(awsError("InvalidExecutionInput"), options).exitCode, EXIT.usage);
  });
});

describe("run-task: retrying AWS calls", () => {
  it("retries throttling, 5xx and dropped connections, never access denied or not found", () => {
    assert.ok(isTransient(awsError("ThrottlingException", { $metadata: { httpStatusCode: 400 } })));
    assert.ok(isTransient(awsError("Whatever", { $metadata: { httpStatusCode: 503 } })));
    assert.ok(isTransient(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })));
    assert.ok(isTransient(new Error("fetch failed", { cause: Object.assign(new Error("x"), { code: "ETIMEDOUT" }) })));
    for (const name of ["AccessDeniedException", "ExecutionDoesNotExist", "StateMachineDoesNotExist", "InvalidArn"])
      assert.ok(!isTransient(awsError(name, { $metadata: { httpStatusCode: 400 } })), name);
    assert.ok(!isTransient(Object.assign(new Error("getaddrinfo"), { code: "ENOTFOUND" })));
  });

  it("backs off with full jitter under a doubling, capped ceiling", () => {
    const policy = { baseMs: 1000, capMs: 8000, budgetMs: 60_000 };
    assert.deepEqual(
      [1, 2, 3, 4, 9].map((n) => backoffDelay(n, policy, () => 1)),
      [1000, 2000, 4000, 8000, 8000],
    );
    assert.equal(
      backoffDelay(5, policy, () => 0),
      0,
    );
    assert.ok(AWS_RETRY.budgetMs >= 60_000, "the budget outlasts a throttling burst");
  });

  it("gives up after the budget with a message naming the call and the last error", async () => {
    let clock = 0;
    let calls = 0;
    const deps = {
      now: () => clock,
      sleep: async (ms: number) => {
        clock += ms;
      },
      log: () => undefined,
      random: () => 1,
      retry: { baseMs: 1000, capMs: 4000, budgetMs: 20_000 },
    };
    await assert.rejects(
      withRetry(
        "DescribeExecution",
        async () => {
          calls++;
          throw awsError("ThrottlingException");
        },
        deps,
      ),
      (e: unknown) =>
        e instanceof RetryBudgetExceeded &&
        /DescribeExecution kept failing for 20s \(ThrottlingException/.test(e.message),
    );
    assert.ok(calls > 3 && clock <= 20_000, `${calls} calls, ${clock} ms`);
    calls = 0;
    await assert.rejects(
      withRetry(
        "x",
        async () => {
          calls++;
          throw awsError("AccessDeniedException");
        },
        deps,
      ),
      /AccessDeniedException/,
    );
    assert.equal(calls, 1, "access denied is not retried");
  });
});
