import type { HistoryEvent } from "@aws-sdk/client-sfn";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bundleAction, DIST } from "../../actions/run-task/build";
import { outputLines, summaryMarkdown } from "../../actions/run-task/src/report";
import { LogFollower, type LogReader, logLocationFromHistory } from "../../tools/run-task/task-logs";
import { options, SHA, useSfnFixture } from "./sfn-fixture";

const ROOT = path.resolve(__dirname, "../..");

describe("run-task GitHub Action", function () {
  this.timeout(120_000);

  it("declares a node24 action whose inputs are the ones the code reads", () => {
    const action = fs.readFileSync(path.join(ROOT, "actions/run-task/action.yml"), "utf8");
    assert.match(action, /^runs:\n {2}using: node24\n {2}main: dist\/index\.js$/m);
    for (const input of [
      "state-machine-arn",
      "image-tag",
      "timeout",
      "command",
      "environment",
      "if-running",
      "execution-name",
    ])
      assert.match(action, new RegExp(`^ {2}${input}:$`, "m"), input);
  });

  it("the committed dist/index.js is the bundle of the current sources (run `npx tsx actions/run-task/build.ts`)", async () => {
    const fresh = await bundleAction();
    const committed = fs.readFileSync(DIST, "utf8");
    assert.ok(committed === fresh, "actions/run-task/dist/index.js is stale: rebuild it and commit");
    assert.equal(await bundleAction(), fresh, "the bundle is reproducible");
  });

  describe("the bundle, run as GitHub runs it", () => {
    const sfn = useSfnFixture();
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "run-task-action-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const runBundle = (inputs: Record<string, string>) => {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL: sfn.moto.endpoint,
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        GITHUB_REPOSITORY: "acme/orders",
        GITHUB_RUN_ID: "777",
        GITHUB_RUN_ATTEMPT: "1",
        GITHUB_OUTPUT: path.join(dir, "output"),
        GITHUB_STEP_SUMMARY: path.join(dir, "summary"),
      };
      for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
      const result = spawnSync(process.execPath, [DIST], { encoding: "utf8", env });
      const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : "");
      return { ...result, output: read("output"), summary: read("summary") };
    };

    it("runs the task, names the execution after the run attempt, and writes outputs and the summary", async () => {
      const cause = {
        taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/c/abc",
        logGroup: "/g",
        logStream: "task/db/abc",
        exitCode: 9,
      };
      const arn = await sfn.stateMachine(
        "action",
        { F: { Type: "Fail", Error: "TaskFailed", Cause: JSON.stringify(cause) } },
        "F",
      );
      const run = runBundle({
        "state-machine-arn": arn,
        "image-tag": `repo:${SHA}`,
        timeout: "30s",
        "if-running": "fail",
      });
      assert.equal(run.status, 9, run.stdout + run.stderr);
      assert.match(run.stdout, /started arn:aws:states:eu-west-1:123456789012:execution:action:orders-777-1 /);
      assert.match(run.stdout, /^::error title=run-task: FAILED::task run FAILED: TaskFailed$/m);
      assert.match(run.output, /^exit-code<<(EOF_[0-9a-f-]+)\n9\n\1$/m);
      assert.match(
        run.output,
        /^execution-arn<<(EOF_[0-9a-f-]+)\narn:aws:states:eu-west-1:123456789012:execution:action:orders-777-1\n\1$/m,
      );
      assert.match(
        run.summary,
        /\| Logs \| \[task log stream\]\(https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\//,
      );
    });

    it("rejects a bad input with one error naming it, exit 2, no stack", () => {
      const run = runBundle({
        "state-machine-arn": "arn:aws:states:eu-west-1:123456789012:stateMachine:x",
        "image-tag": SHA,
        command: "npm run x",
      });
      assert.equal(run.status, 2);
      assert.equal(run.stdout.trim().split("\n").length, 1, run.stdout);
      assert.match(
        run.stdout,
        /^::error title=run-task: invalid input::input "command": expected a JSON array of strings/,
      );
      assert.match(run.output, /^status<<(EOF_[0-9a-f-]+)\nINVALID_INPUT\n\1$/m);
    });
  });

  it("summarises a run that never started a task with the reason and the execution's link", () => {
    const executionArn = "arn:aws:states:eu-west-1:123456789012:execution:db:orders-1-1";
    const markdown = summaryMarkdown(options("arn:aws:states:eu-west-1:123456789012:stateMachine:db"), {
      exitCode: 1,
      status: "FAILED",
      executionArn,
      executionUrl: `https://console/${executionArn}`,
      message: "task run FAILED: StartFailed | capacity",
    });
    assert.match(markdown, /\| Logs \| none: the task never started/);
    assert.match(markdown, /\| Execution \| \[orders-1-1\]\(https:\/\/console\//);
    assert.match(markdown, /StartFailed \\\| capacity/);
    assert.doesNotMatch(outputLines({ status: "X", exitCode: 1 }), /undefined/);
  });
});

describe("run-task: the task's logs", () => {
  const taskArn = "arn:aws:ecs:eu-west-1:123456789012:task/db-migrate-dev/0123abcd";
  const registered = (image: string): HistoryEvent => ({
    type: "TaskSucceeded",
    id: 5,
    timestamp: new Date(),
    taskSucceededEventDetails: {
      resourceType: "aws-sdk:ecs",
      resource: "registerTaskDefinition",
      output: JSON.stringify({
        TaskDefinition: {
          ContainerDefinitions: [
            {
              Name: "sidecar",
              Image: "datadog/agent:7",
              LogConfiguration: {
                LogDriver: "awslogs",
                Options: { "awslogs-group": "/other", "awslogs-stream-prefix": "side" },
              },
            },
            {
              Name: "db-migrate",
              Image: image,
              LogConfiguration: {
                LogDriver: "awslogs",
                Options: { "awslogs-group": "/cirunners/dev/tasks/db-migrate", "awslogs-stream-prefix": "task" },
              },
            },
          ],
        },
      }),
    },
  });
  const submitted = (arn: string): HistoryEvent => ({
    type: "TaskSubmitted",
    id: 8,
    timestamp: new Date(),
    taskSubmittedEventDetails: {
      resourceType: "ecs",
      resource: "runTask.sync",
      output: JSON.stringify({ Failures: [], Tasks: [{ TaskArn: arn }] }),
    },
  });

  it("finds the started task's stream in the execution history (awslogs: prefix/container/task id)", () => {
    const image = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/db-migrate-dev:${SHA}`;
    assert.equal(logLocationFromHistory([registered(image)], SHA), undefined, "no task yet, no stream");
    assert.deepEqual(
      logLocationFromHistory([registered(image), submitted(`${taskArn}-first`), submitted(taskArn)], SHA),
      {
        logGroup: "/cirunners/dev/tasks/db-migrate",
        logStream: "task/db-migrate/0123abcd",
      },
    );
    assert.equal(logLocationFromHistory([registered("x/db-migrate-dev:other"), submitted(taskArn)], SHA), undefined);
  });

  it("follows the stream: waits for it to exist, prints each event once, stops on access denied", async () => {
    const pages = new Map<string | undefined, { events: { message: string }[]; nextToken: string }>([
      [undefined, { events: [{ message: "migrating 1/2\n" }], nextToken: "f/1" }],
      ["f/1", { events: [{ message: "migrating 2/2\ndone" }], nextToken: "f/2" }],
      ["f/2", { events: [], nextToken: "f/2" }],
    ]);
    let exists = false;
    let denied = false;
    const reader: LogReader = {
      read: async (_location, token) => {
        if (denied) throw Object.assign(new Error("no"), { name: "AccessDeniedException" });
        if (!exists)
          throw Object.assign(new Error("The specified log stream does not exist."), {
            name: "ResourceNotFoundException",
          });
        return pages.get(token) ?? { events: [], nextToken: token };
      },
    };
    const printed: string[] = [];
    const logged: string[] = [];
    const follower = new LogFollower(
      reader,
      { logGroup: "/g", logStream: "s" },
      (l) => printed.push(l),
      (l) => logged.push(l),
    );
    await follower.drain();
    assert.deepEqual(printed, []);
    exists = true;
    await follower.drain();
    await follower.drain();
    assert.deepEqual(printed, ["migrating 1/2", "migrating 2/2", "done"]);
    denied = true;
    await follower.drain();
    await follower.drain();
    assert.equal(logged.length, 1);
    assert.match(logged[0], /cannot read the task's logs \(AccessDeniedException\).*logs:GetLogEvents/);
  });
});
