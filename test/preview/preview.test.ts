import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import type { PreviewResource, PreviewViolation } from "../../tools/preview/engine";
import { buildTree, countByType, hasMandatoryViolation, renderTree } from "../../tools/preview/report";

const ROOT = path.resolve(__dirname, "..", "..");

/** Runs `npm run preview -- ARGS` the way a user does (a fresh process: the Pulumi runtime is global). */
function preview(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "tools", "preview.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface PreviewJson {
  stack: string;
  resources: PreviewResource[];
  violations: PreviewViolation[];
}

describe("offline preview", function () {
  this.timeout(180_000);

  describe("prod --json", () => {
    let run: ReturnType<typeof preview>;
    let json: PreviewJson;
    before(() => {
      run = preview("--stack", "prod", "--json");
      assert.equal(run.status, 0, run.stderr);
      json = JSON.parse(run.stdout);
    });

    it("prints only JSON on stdout, in the documented shape", () => {
      assert.deepEqual(Object.keys(json).sort(), ["resources", "stack", "violations"]);
      assert.equal(json.stack, "prod");
      for (const r of json.resources) {
        assert.equal(typeof r.type, "string");
        assert.equal(typeof r.name, "string");
        assert.ok(r.parent === undefined || typeof r.parent === "string");
        assert.equal(typeof r.inputs, "object");
      }
    });

    it("declares every part of the product", () => {
      const types = new Set(json.resources.map((r) => r.type));
      for (const type of [
        "cirunners:index:EphemeralRunners",
        "cirunners:index:WebhookIngress",
        "cirunners:index:CodeBuildRunners",
        "cirunners:index:TaskRunner",
        "aws:apigatewayv2/api:Api",
        "aws:sqs/queue:Queue",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:lambda/function:Function",
        "aws:codebuild/project:Project",
        "aws:sfn/stateMachine:StateMachine",
        "aws:ecr/repository:Repository",
        "github:index/organizationWebhook:OrganizationWebhook",
        // The job ledger and its scheduled functions, the baked-image pipeline, AI review, runners on EKS.
        "cirunners:index:JobLedger",
        "aws:dynamodb/table:Table",
        "aws:cloudwatch/dashboard:Dashboard",
        "cirunners:index:RunnerImages",
        "aws:imagebuilder/imagePipeline:ImagePipeline",
        "cirunners:index:AiReviewRole",
        "cirunners:index:ArcRunners",
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "kubernetes:helm.sh/v3:Release",
      ]) {
        assert.ok(types.has(type), `missing ${type}`);
      }
      const runnerTemplates = json.resources.filter(
        (r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate" && r.name.startsWith("runners-"),
      );
      assert.equal(runnerTemplates.length, 3, "one runner launch template per prod pool");
      assert.ok(
        json.resources.some((r) => r.type === "aws:lambda/function:Function" && r.name === "runners-jobs-reconciler"),
        "the reconciler",
      );
      assert.equal(
        json.resources.filter((r) => r.type === "aws:codebuild/project:Project").length,
        2,
        "one CodeBuild project per prod region",
      );
    });

    it("links every child to a declared parent", () => {
      const urns = new Set(json.resources.map((r) => r.urn));
      for (const r of json.resources)
        if (r.parent) assert.ok(urns.has(r.parent), `${r.name}'s parent ${r.parent} is not declared`);
    });

    it("never shows a secret", () => {
      assert.ok(!run.stdout.includes("BEGIN RSA PRIVATE KEY"));
      const webhook = json.resources.find((r) => r.type === "github:index/organizationWebhook:OrganizationWebhook");
      assert.equal((webhook?.inputs.configuration as { secret?: string } | undefined)?.secret, "[secret]");
    });

    it("passes the policy pack with no mandatory violation", () => {
      assert.deepEqual(
        json.violations.filter((v) => v.enforcementLevel === "mandatory"),
        [],
      );
    });
  });

  it("dev: prints the tree, the counts per type and the policy result, exit 0", () => {
    const run = preview("--stack", "dev");
    assert.equal(run.status, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /pulumi:pulumi:Stack\s+cirunners-dev/);
    assert.match(run.stdout, /├─ cirunners:index:EphemeralRunners\s+runners/);
    assert.match(run.stdout, /Resources by type:/);
    assert.match(run.stdout, /Policies: 0 mandatory/);
    assert.match(run.stdout, /^Outputs:\n( {4}\w+ +.+\n)+/m);
    assert.match(run.stdout, /^ {4}networkSource +"created"$/m);
    assert.ok(
      run.stdout.split("\n").every((line) => [...line].length <= 120),
      "a pipe gets lines of at most 120 columns",
    );
    assert.ok(!run.stdout.includes("\u001b["), "no colour on a pipe (no ANSI escape)");
  });

  it("exits 1 and names the violations when a mandatory policy is violated", () => {
    const run = preview(
      "--stack",
      "violating",
      "--stack-file",
      "test/fixtures/Pulumi.violating.yaml",
      "--program",
      "test/fixtures/violating-program.ts",
      "--json",
    );
    assert.equal(run.status, 1, run.stderr);
    const json: PreviewJson = JSON.parse(run.stdout);
    const mandatory = json.violations.filter((v) => v.enforcementLevel === "mandatory");
    const byResource = (name: string) => mandatory.filter((v) => v.name === name).map((v) => v.policy);
    assert.ok(
      byResource("careless").some((p) => /terminate/.test(p)),
      JSON.stringify(mandatory),
    );
    assert.ok(
      byResource("careless").some((p) => /ebs|volume/.test(p)),
      JSON.stringify(mandatory),
    );
    assert.ok(byResource("admin-ish").length > 0, JSON.stringify(mandatory));
  });

  it("honours enforcement levels from the policy config: advisory only exits 0", () => {
    const first = preview(
      "--stack",
      "violating",
      "--stack-file",
      "test/fixtures/Pulumi.violating.yaml",
      "--program",
      "test/fixtures/violating-program.ts",
      "--json",
    );
    const policies = [...new Set((JSON.parse(first.stdout) as PreviewJson).violations.map((v) => v.policy))];
    const config = Object.fromEntries(policies.map((p) => [p, { enforcementLevel: "advisory" }]));
    const file = path.join(require("node:os").tmpdir(), `policy-config-${process.pid}.json`);
    require("node:fs").writeFileSync(file, JSON.stringify(config));
    const run = preview(
      "--stack",
      "violating",
      "--stack-file",
      "test/fixtures/Pulumi.violating.yaml",
      "--program",
      "test/fixtures/violating-program.ts",
      "--json",
      "--policy-config",
      file,
    );
    assert.equal(run.status, 0, run.stderr);
    const json: PreviewJson = JSON.parse(run.stdout);
    assert.ok(json.violations.length > 0);
    assert.ok(json.violations.every((v) => v.enforcementLevel === "advisory"));
  });

  it("stops with one clear message on a bad stack config (exit 2)", () => {
    const run = preview("--stack", "broken", "--stack-file", "test/fixtures/Pulumi.broken.yaml");
    assert.equal(run.status, 2);
    assert.match(run.stderr, /cirunners:github\.appId: expected number, found "not a number"/);
    assert.match(run.stderr, /cirunners:runners\.pools\[0\]\.labels: expected a non-empty set of labels, found \[\]/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace for a config error");
  });

  it("names the file, line and column of a YAML syntax error, without a stack trace (exit 2)", () => {
    const file = path.join(require("node:os").tmpdir(), `Pulumi.yamlerror-${process.pid}.yaml`);
    require("node:fs").writeFileSync(file, "config:\n  aws:region: eu-west-1\n  cirunners:github: {owner: acme\n");
    const run = preview("--stack", "yamlerror", "--stack-file", file);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^error: Pulumi\.yamlerror-\d+\.yaml:\d+:\d+: YAML syntax error: /);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  });

  it("rejects an unknown policy name in --policy-config in one line (exit 2)", () => {
    const file = path.join(require("node:os").tmpdir(), `policy-config-unknown-${process.pid}.json`);
    require("node:fs").writeFileSync(file, JSON.stringify({ "aws-no-such-policy": { enforcementLevel: "advisory" } }));
    const run = preview("--stack", "dev", "--policy-config", file);
    assert.equal(run.status, 2);
    assert.match(
      run.stderr,
      /^error: --policy-config: Unknown policy "aws-no-such-policy": the pack has no policy of that name/,
    );
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  });

  it("names the stacks that exist when asked for one that does not", () => {
    const run = preview("--stack", "staging");
    assert.equal(run.status, 2);
    assert.match(run.stderr, /no stack file Pulumi\.staging\.yaml; stacks here: dev, prod/);
  });

  describe("report rendering", () => {
    const resources: PreviewResource[] = [
      { type: "cirunners:index:NodeFunction", name: "webhook", urn: "u:fn", inputs: {} },
      { type: "aws:iam/role:Role", name: "webhook", urn: "u:role", parent: "u:fn", inputs: {} },
      { type: "aws:lambda/function:Function", name: "webhook", urn: "u:lambda", parent: "u:fn", inputs: {} },
      { type: "aws:sqs/queue:Queue", name: "jobs", urn: "u:q", inputs: {} },
    ];

    it("builds the component tree and draws it like pulumi preview", () => {
      const lines = renderTree(buildTree("cirunners-dev", resources));
      assert.equal(lines.length, 6);
      assert.match(lines[1], /^ \+ {3}pulumi:pulumi:Stack\s+cirunners-dev$/);
      assert.match(lines[2], /^ \+ {3}├─ cirunners:index:NodeFunction\s+webhook$/);
      assert.match(lines[3], /^ \+ {3}│ {2}├─ aws:iam:Role\s+webhook$/);
      assert.match(lines[4], /^ \+ {3}│ {2}└─ aws:lambda:Function\s+webhook$/);
      assert.match(lines[5], /^ \+ {3}└─ aws:sqs:Queue\s+jobs$/);
    });

    it("counts resources per type", () => {
      assert.deepEqual(countByType([...resources, { ...resources[3], urn: "u:q2" }])[0], ["aws:sqs/queue:Queue", 2]);
    });

    it("exits non-zero only for mandatory violations", () => {
      const v = (enforcementLevel: string): PreviewViolation => ({
        policy: "p",
        enforcementLevel,
        type: "t",
        name: "n",
        message: "m",
      });
      assert.equal(hasMandatoryViolation([v("advisory")]), false);
      assert.equal(hasMandatoryViolation([v("advisory"), v("mandatory")]), true);
    });
  });
});
