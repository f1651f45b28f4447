import * as fc from "fast-check";
import * as assert from "node:assert/strict";
import {
  ECS_OVERRIDES_MAX_CHARACTERS,
  ecsContainerOverride,
  EXECUTION_NAME_PATTERN,
  executionArnOf,
  executionNameFor,
  overridePolicyProblems,
  runOfExecutionName,
  taskRunInputProblems,
  taskRunInputSchema,
} from "../../contract/task";
import { executionInput } from "../../tools/run-task/exclusive";
import { parseArgs } from "../../tools/run-task/options";

const SHA = "3f786850e387550fdab836ed7e6dc881de23001b";
const ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:db-migrate-dev";

describe("contract/task.ts: the execution input and name", () => {
  it("what the CLI sends is what the schema accepts, unchanged through JSON (round trip)", () => {
    const envName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
    fc.assert(
      fc.property(
        fc.option(fc.array(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 5 }), {
          nil: undefined,
        }),
        fc.dictionary(envName, fc.string({ maxLength: 30 }), { maxKeys: 5 }),
        (command, environment) => {
          const argv = ["--state-machine-arn", ARN, "--image-tag", SHA];
          if (command) argv.push("--command", JSON.stringify(command));
          for (const [name, value] of Object.entries(environment))
            if (!/[\r\n]/.test(value)) argv.push("--env", `${name}=${value}`);
          const options = parseArgs(argv);
          assert.ok(options !== "help");
          const sent = JSON.parse(JSON.stringify(executionInput(options)));
          assert.deepEqual(taskRunInputSchema.parse(sent), sent);
          assert.deepEqual(sent.command, command);
        },
      ),
    );
  });

  it("names each problem with its field", () => {
    assert.deepEqual(taskRunInputProblems({ imageTag: SHA }), []);
    assert.match(taskRunInputProblems({ imageTag: "latest" })[0], /^imageTag: "latest" names no particular build/);
    assert.match(
      taskRunInputProblems({ imageTag: SHA, environment: { "A-B": "1" } })[0],
      /^environment: A-B: expected a variable name/,
    );
    assert.match(taskRunInputProblems({ imageTag: SHA, command: [] })[0], /^command: /);
    assert.match(taskRunInputProblems({ imageTag: SHA, extra: 1 })[0], /extra/);
    const big = { imageTag: SHA, environment: { BLOB: "x".repeat(ECS_OVERRIDES_MAX_CHARACTERS) } };
    assert.match(taskRunInputProblems(big)[0], /RunTask allows 8192/);
  });

  it("builds the ECS container override and checks it against the task's allow-list", () => {
    assert.deepEqual(ecsContainerOverride({ command: ["a"], environment: { B: "2", A: "1" } }, "db-migrate"), {
      Name: "db-migrate",
      Command: ["a"],
      Environment: [
        { Name: "A", Value: "1" },
        { Name: "B", Value: "2" },
      ],
    });
    assert.deepEqual(ecsContainerOverride({}, "db-migrate"), { Name: "db-migrate" });
    const input = { imageTag: SHA, command: ["x"], environment: { STEPS: "1", DROP: "yes" } };
    assert.deepEqual(overridePolicyProblems(input, { command: false, environment: ["STEPS"] }), [
      "command: this task does not allow a command override",
      "environment: DROP not allowed for this task (allowed: STEPS)",
    ]);
    assert.deepEqual(overridePolicyProblems(input, { command: true, environment: ["STEPS", "DROP"] }), []);
  });

  it("execution names tie a run attempt to at most 80 valid characters and back", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,100}$/),
        fc.bigInt({ min: 1n, max: 10n ** 19n }),
        fc.integer({ min: 1, max: 99 }),
        (repo, runId, attempt) => {
          const run = { repository: `acme/${repo}`, runId: String(runId), runAttempt: String(attempt) };
          const name = executionNameFor(run);
          assert.match(name, EXECUTION_NAME_PATTERN);
          assert.deepEqual(runOfExecutionName(name), { runId: run.runId, runAttempt: run.runAttempt });
          assert.equal(executionNameFor(run), name, "the same attempt gets the same name");
          assert.notEqual(executionNameFor({ ...run, runAttempt: String(attempt + 1) }), name, "a re-run gets another");
        },
      ),
    );
    assert.equal(
      executionArnOf(ARN, "orders-1-1"),
      "arn:aws:states:eu-west-1:123456789012:execution:db-migrate-dev:orders-1-1",
    );
    assert.throws(
      () => executionNameFor({ repository: "a/b", runId: "x", runAttempt: "1" }),
      /run id: expected digits/,
    );
  });
});
