import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "../..");
interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, { steps: Step[]; if?: string }>;
}
const load = (file: string) => parse(fs.readFileSync(path.join(ROOT, "templates", file), "utf8")) as Workflow;

describe("templates for application repositories", () => {
  it("run-task.yml runs the task with the action: no platform checkout, no npm install", () => {
    const workflow = load("run-task.yml");
    for (const [name, job] of Object.entries(workflow.jobs)) {
      const run = job.steps.find((s) => s.uses?.startsWith("acme-platform/cirunners/actions/run-task@"));
      assert.ok(run, `${name} uses the run-task action`);
      assert.match(
        run.with?.["state-machine-arn"] ?? "",
        /^\$\{\{ vars\.CIRUNNERS_DB_MIGRATE_(DEV|PROD)_STATE_MACHINE_ARN \}\}$/,
      );
      assert.equal(run.with?.["image-tag"], "${{ github.sha }}");
      assert.ok(!job.steps.some((s) => s.with?.repository), `${name} checks out no other repository`);
      assert.ok(!job.steps.some((s) => /npm (ci|install)|npx/.test(s.run ?? "")), `${name} installs nothing`);
      const inputs = fs.readFileSync(path.join(ROOT, "actions/run-task/action.yml"), "utf8");
      for (const input of Object.keys(run.with ?? {})) assert.match(inputs, new RegExp(`^ {2}${input}:$`, "m"), input);
    }
  });

  it("ai-review.yml reviews pull requests through Bedrock with an OIDC role and no stored key", () => {
    const text = fs.readFileSync(path.join(ROOT, "templates", "ai-review.yml"), "utf8");
    const workflow = load("ai-review.yml");
    assert.deepEqual(Object.keys(workflow.on), ["pull_request"]);
    assert.deepEqual(workflow.permissions, { "id-token": "write", "pull-requests": "write", contents: "read" });
    const steps = workflow.jobs.review.steps;
    const aws = steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    assert.equal(aws?.with?.["role-to-assume"], "${{ vars.CIRUNNERS_AI_REVIEW_ROLE_ARN }}");
    assert.ok(steps.indexOf(aws as Step) < steps.findIndex((s) => s.with?.use_bedrock === "true"));
    assert.doesNotMatch(
      text.replace(/secrets\.GITHUB_TOKEN/g, ""),
      /secrets\./,
      "no stored secret besides GITHUB_TOKEN",
    );
    assert.match(
      workflow.jobs.review.if ?? "",
      /head\.repo\.full_name == github\.repository/,
      "forks get no OIDC token",
    );
  });
});
