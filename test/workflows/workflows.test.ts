import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";

const ROOT = path.resolve(__dirname, "..", "..");

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  "working-directory"?: string;
  name?: string;
}
interface Job {
  "runs-on": string;
  needs?: string | string[];
  environment?: string;
  permissions?: Record<string, string>;
  steps: Step[];
  strategy?: { matrix: Record<string, unknown> };
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

/** Parses a workflow strictly: YAML errors and warnings (duplicate keys, ...) fail the test. */
function load(file: string): Workflow {
  const doc = parseDocument(fs.readFileSync(path.join(ROOT, file), "utf8"), { uniqueKeys: true, strict: true });
  assert.deepEqual(
    doc.errors.map((e) => e.message),
    [],
    `${file} has YAML errors`,
  );
  assert.deepEqual(
    doc.warnings.map((e) => e.message),
    [],
    `${file} has YAML warnings`,
  );
  const workflow = doc.toJS() as Workflow;
  assert.equal(typeof workflow.name, "string");
  assert.ok(workflow.on && typeof workflow.on === "object", `${file}: no triggers`);
  for (const [id, job] of Object.entries(workflow.jobs)) {
    assert.ok(job["runs-on"], `${file}: job ${id} has no runs-on`);
    assert.ok(Array.isArray(job.steps) && job.steps.length > 0, `${file}: job ${id} has no steps`);
    for (const step of job.steps) {
      assert.ok(
        (step.uses === undefined) !== (step.run === undefined),
        `${file}: a step of ${id} needs exactly one of uses/run`,
      );
    }
    for (const need of [job.needs ?? []].flat())
      assert.ok(need in workflow.jobs, `${file}: ${id} needs unknown job ${need}`);
  }
  assertPinned(file, fs.readFileSync(path.join(ROOT, file), "utf8"));
  return workflow;
}

/**
 * Every third-party action is pinned to a full commit SHA with its version in a comment (a tag can be moved; a
 * SHA cannot), on a major that runs on node24: GitHub is retiring node20 for actions.
 */
function assertPinned(file: string, text: string): void {
  const uses = [...text.matchAll(/^\s*(?:- )?uses:\s*(\S+)(.*)$/gm)];
  for (const [, ref, rest] of uses) {
    if (ref.startsWith("./")) continue;
    assert.match(
      ref,
      /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/,
      `${file}: ${ref} must be pinned to a full commit SHA`,
    );
    assert.match(rest, /^ # v\d+\.\d+\.\d+\b/, `${file}: ${ref} needs its version in a comment (# vX.Y.Z)`);
  }
}

const pulumiSteps = (job: Job) => job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));

describe("GitHub workflows", () => {
  it("preview.yml: offline tests without secrets, then pulumi preview per stack with the pack and a PR comment", () => {
    const wf = load(".github/workflows/preview.yml");
    assert.ok("pull_request" in wf.on);
    assert.deepEqual(wf.permissions, { contents: "read" });
    const offline = wf.jobs.offline;
    assert.ok(offline.steps.some((s) => s.run === "npm test"));
    assert.ok(offline.steps.some((s) => s.run?.startsWith("npm run preview -- --stack dev")));
    assert.ok(!JSON.stringify(offline).includes("secrets."), "the offline job must need no secrets");
    const preview = wf.jobs.preview;
    assert.equal(preview.needs, "offline");
    assert.deepEqual(preview.strategy?.matrix.stack, ["dev", "prod"]);
    assert.equal(preview.permissions?.["id-token"], "write", "AWS credentials by OIDC");
    assert.ok(
      preview.steps.some(
        (s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@") && s.with?.["role-to-assume"],
      ),
    );
    const [step] = pulumiSteps(preview);
    assert.equal(step.with?.command, "preview");
    assert.equal(step.with?.["comment-on-pr"], true);
    assert.equal(step.with?.policyPacks, "policy");
    assert.ok(!JSON.stringify(preview).includes("AWS_SECRET_ACCESS_KEY"), "no stored AWS keys");
  });

  it("deploy.yml: pulumi up per stack on main, prod behind the production environment", () => {
    const wf = load(".github/workflows/deploy.yml");
    assert.deepEqual((wf.on.push as { branches: string[] }).branches, ["main"]);
    assert.equal(wf.jobs.dev.needs, "test");
    assert.equal(wf.jobs.prod.needs, "dev");
    assert.equal(wf.jobs.prod.environment, "production");
    for (const id of ["dev", "prod"]) {
      const [step] = pulumiSteps(wf.jobs[id]);
      assert.equal(step.with?.command, "up");
      assert.match(String(step.with?.["stack-name"]), new RegExp(`/${id}$`));
      assert.equal(step.with?.policyPacks, "policy");
      assert.equal(wf.jobs[id].permissions?.["id-token"], "write");
    }
  });

  it("policy.yml: publishes the pack to the Pulumi organization on tags", () => {
    const wf = load(".github/workflows/policy.yml");
    assert.deepEqual((wf.on.push as { tags: string[] }).tags, ["policy-v*"]);
    const steps = wf.jobs.publish.steps;
    const publish = steps.find((s) => s.run?.includes("pulumi policy publish"));
    assert.ok(publish, "a publish step");
    assert.equal(publish["working-directory"], "policy");
    assert.ok(
      steps.indexOf(publish) > steps.findIndex((s) => s.run?.includes("test/policy")),
      "tests run before publishing",
    );
  });
});

describe("workflow templates for application repositories", () => {
  for (const file of fs.readdirSync(path.join(ROOT, "templates")).filter((f) => f.endsWith(".yml"))) {
    it(`templates/${file} pins every action to a commit SHA`, () => {
      assertPinned(`templates/${file}`, fs.readFileSync(path.join(ROOT, "templates", file), "utf8"));
    });
  }
});

describe("workflows shown in the README", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const yamlBlocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);

  it("pin every action to a commit SHA, as the repository's own workflows do", () => {
    for (const block of yamlBlocks) assertPinned("README.md", block);
  });

  it("parse as workflows", () => {
    assert.ok(yamlBlocks.length > 0);
    for (const block of yamlBlocks) {
      const doc = parseDocument(block, { uniqueKeys: true });
      assert.deepEqual(
        doc.errors.map((e) => e.message),
        [],
      );
      const workflow = doc.toJS() as Workflow;
      assert.ok(workflow.on && workflow.jobs);
    }
  });

  it("pick each region's CodeBuild project with the label the component outputs", async () => {
    const { runnerProjectName, runsOnLabel } = await import("../../program/codebuild-runners/decisions");
    const block = yamlBlocks.find((b) => b.includes("kubectl diff"));
    assert.ok(block, "the kubectl diff example");
    const workflow = parseDocument(block).toJS() as Workflow;
    const runsOn = workflow.jobs.diff["runs-on"];
    for (const region of ["eu-west-1", "us-east-1"]) {
      const expected = runsOnLabel(runnerProjectName("prod", region));
      assert.equal(runsOn.replace("${{ matrix.region }}", region), expected);
    }
  });
});
