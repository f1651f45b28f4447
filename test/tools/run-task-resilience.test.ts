import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { runTask } from "../../tools/run-task/run";
import { faultProxy, options, REGION, SHA, until, useSfnFixture } from "./sfn-fixture";

const CLI = path.resolve(__dirname, "../../tools/run-task/cli.ts");
const slow = { Long: { Type: "Wait", Seconds: 60, Next: "Done" }, Done: { Type: "Succeed" } };
const quick = { Short: { Type: "Wait", Seconds: 1, Next: "Done" }, Done: { Type: "Succeed" } };
/** An execution with an image tag ends at once; one without (the other run's, below) runs until it is stopped. */
const held = {
  Route: { Type: "Choice", Choices: [{ Variable: "$.imageTag", IsPresent: true, Next: "Done" }], Default: "Long" },
  Long: { Type: "Wait", Seconds: 600, Next: "Done" },
  Done: { Type: "Succeed" },
};

describe("run-task against moto's Step Functions: cancel, exclusivity, transient errors", function () {
  this.timeout(120_000);
  const sfn = useSfnFixture();
  const text = () => sfn.lines.join("\n");
  const status = async (executionArn?: string) =>
    (await sfn.client.send(new DescribeExecutionCommand({ executionArn }))).status;

  it("a cancel (abort with SIGTERM) stops the execution and exits 143", async () => {
    const arn = await sfn.stateMachine("cancel", slow, "Long");
    const controller = new AbortController();
    const deps = sfn.deps({ signal: controller.signal });
    const log = deps.log;
    deps.log = (line) => {
      log(line);
      if (line.startsWith("RUNNING")) controller.abort("SIGTERM");
    };
    const run = options(arn, { runUrl: "https://github.com/acme/orders/actions/runs/42/attempts/1" });
    const result = await runTask(run, deps);
    assert.equal(result.exitCode, 143);
    assert.equal(result.status, "CANCELLED");
    assert.match(text(), /cancelled \(SIGTERM\): stopped execution arn:aws:states:.*:execution:cancel:/);
    assert.match(
      text(),
      /cause: GitHub Actions run https:\/\/github.com\/acme\/orders\/actions\/runs\/42\/attempts\/1 was cancelled/,
    );
    assert.equal(await status(result.executionArn), "ABORTED");
  });

  it("the command line stops its execution on SIGINT and exits 130", async () => {
    const arn = await sfn.stateMachine("cli-cancel", slow, "Long");
    const child = spawn(process.execPath, ["--import", "tsx", CLI, "--state-machine-arn", arn, "--image-tag", SHA], {
      env: { ...process.env, AWS_ENDPOINT_URL: sfn.moto.endpoint, AWS_REGION: REGION },
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/RUNNING/.test(stdout) && !child.killed) child.kill("SIGINT");
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    assert.equal(code, 130, stdout);
    assert.match(stdout, /received SIGINT: stopping the execution/);
    const executionArn = /started (\S+)/.exec(stdout)?.[1];
    assert.match(stdout, /cancelled \(SIGINT\): stopped execution/);
    assert.equal(await status(executionArn), "ABORTED");
  });

  it("refuses to start while another execution of the task runs, naming it", async () => {
    const arn = await sfn.stateMachine("busy", slow, "Long");
    await sfn.client.send(new StartExecutionCommand({ stateMachineArn: arn, name: "orders-111-1", input: "{}" }));
    const result = await runTask(options(arn, { executionName: "orders-222-1" }), sfn.deps());
    assert.equal(result.exitCode, 1);
    assert.equal(result.status, "REFUSED");
    assert.match(
      text(),
      /another execution of this task is running, refusing to start a second one \(if-running: fail\): orders-111-1 \(started /,
    );
    assert.ok(!sfn.lines.some((l) => l.startsWith("started ")), text());
  });

  it("with if-running: wait, starts once the other execution has ended", async () => {
    const arn = await sfn.stateMachine("queue", held, "Route");
    const other = await sfn.client.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: "orders-111-1", input: "{}" }),
    );
    const running = runTask(options(arn, { executionName: "orders-222-1", ifRunning: "wait" }), sfn.deps());
    // The other execution ends once this run is seen waiting for it, not after a time this run may not reach.
    await until("the run to wait for orders-111-1", () => sfn.lines.some((l) => l.startsWith("waiting for ")));
    assert.ok(!sfn.lines.some((l) => l.startsWith("started ")), text());
    await sfn.client.send(new StopExecutionCommand({ executionArn: other.executionArn }));
    const result = await running;
    assert.equal(result.exitCode, 0, text());
    assert.match(text(), /waiting for the running execution to end \(if-running: wait\): orders-111-1/);
    assert.ok(sfn.lines.some((l) => l.startsWith("started ") && l.endsWith(`with image tag ${SHA}`)));
  });

  it("a second start in the same run attempt follows the running execution instead of starting another", async () => {
    const arn = await sfn.stateMachine("rerun", quick, "Short");
    const input = JSON.stringify({ imageTag: SHA });
    const first = await sfn.client.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: "orders-333-1", input }),
    );
    const result = await runTask(options(arn, { executionName: "orders-333-1" }), sfn.deps());
    assert.equal(result.exitCode, 0, text());
    assert.equal(result.executionArn, first.executionArn);
    assert.match(text(), /this run attempt's execution orders-333-1 is already running: following it/);
  });

  it("a finished execution of the same attempt (ExecutionAlreadyExists) is reported, not run again", async () => {
    const arn = await sfn.stateMachine(
      "done",
      { F: { Type: "Fail", Error: "TaskFailed", Cause: JSON.stringify({ exitCode: 4 }) } },
      "F",
    );
    const input = JSON.stringify({ imageTag: SHA });
    const done = await sfn.client.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: "orders-444-1", input }),
    );
    // moto runs it in a thread: it may still be RUNNING when StartExecution answers. The case here is a closed one.
    assert.equal(await sfn.ended(done.executionArn), "FAILED");
    const result = await runTask(options(arn, { executionName: "orders-444-1" }), sfn.deps());
    assert.equal(result.exitCode, 4, text());
    assert.match(
      text(),
      /this run attempt already has execution orders-444-1 \(FAILED\): reporting it instead of running the task twice/,
    );
  });

  it("the same name with another input is an error naming the conflict", async () => {
    const arn = await sfn.stateMachine("conflict", { F: { Type: "Succeed" } }, "F");
    const other = await sfn.client.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: "orders-555-1", input: '{"imageTag":"other"}' }),
    );
    assert.equal(await sfn.ended(other.executionArn), "SUCCEEDED");
    const result = await runTask(options(arn, { executionName: "orders-555-1" }), sfn.deps());
    assert.equal(result.exitCode, 2);
    assert.match(text(), /an execution with this name already exists with another input/);
  });

  it("the same name with another input is an error while that execution still runs, not followed", async () => {
    const arn = await sfn.stateMachine("conflict-running", slow, "Long");
    const other = await sfn.client.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: "orders-556-1", input: '{"imageTag":"other"}' }),
    );
    const result = await runTask(options(arn, { executionName: "orders-556-1" }), sfn.deps());
    assert.equal(result.exitCode, 2, text());
    assert.match(text(), /an execution with this name already exists with another input/);
    assert.ok(!sfn.lines.some((l) => l.includes("following it")), text());
    assert.equal(await status(other.executionArn), "RUNNING");
  });

  describe("through a proxy that injects errors", () => {
    let proxy: Awaited<ReturnType<typeof faultProxy>>;
    let client: SFNClient;
    beforeEach(async () => {
      proxy = await faultProxy(sfn.moto.endpoint);
      client = new SFNClient({ region: REGION, endpoint: proxy.endpoint, maxAttempts: 1 });
    });
    afterEach(async () => {
      client.destroy();
      await proxy.close();
    });

    it("survives throttled, unavailable and dropped DescribeExecution calls and gets the task's result", async () => {
      const arn = await sfn.stateMachine("throttled", quick, "Short");
      proxy.inject("DescribeExecution", [
        "throttle",
        "throttle",
        "throttle",
        "throttle",
        "throttle",
        "throttle",
        "unavailable",
        "reset",
      ]);
      proxy.inject("ListExecutions", ["throttle", "throttle"]);
      const result = await runTask(options(arn), sfn.deps({ client }));
      assert.equal(result.exitCode, 0, text());
      assert.ok(proxy.calls.DescribeExecution >= 9, JSON.stringify(proxy.calls));
      assert.match(text(), /DescribeExecution: ThrottlingException, retrying in/);
      assert.match(text(), /DescribeExecution: ServiceUnavailable, retrying in/);
    });

    it("gives up after the stated budget and says the execution goes on", async () => {
      const arn = await sfn.stateMachine("throttled-long", slow, "Long");
      proxy.inject("DescribeExecution", Array(1000).fill("throttle"));
      const result = await runTask(
        options(arn),
        sfn.deps({ client, retry: { baseMs: 5, capMs: 20, budgetMs: 1_000 } }),
      );
      assert.equal(result.exitCode, 1);
      assert.match(
        text(),
        /error: DescribeExecution kept failing for 1s \(ThrottlingException: Rate exceeded\): gave up waiting; the execution goes on/,
      );
      assert.match(text(), /execution: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/states\//);
    });

    it("fails at once on access denied, with a message naming the role to check", async () => {
      const arn = await sfn.stateMachine("denied", slow, "Long");
      proxy.inject("DescribeExecution", ["denied"]);
      const result = await runTask(options(arn), sfn.deps({ client }));
      assert.equal(result.exitCode, 1);
      assert.equal(proxy.calls.DescribeExecution, 1);
      assert.match(text(), /error: access denied: User is not authorized to perform: states:DescribeExecution/);
    });
  });
});
