import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  isResourcePolicy,
  isStackPolicy,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from "../../policy/evaluate";
import { PACK_NAME, PACK_VERSION } from "../../policy/pack";
import { policies } from "../../policy/policies";

const POLICY_DIR = path.resolve(__dirname, "../../policy");

describe("policy pack metadata", () => {
  it("names follow aws-<service>-<resource>-<rule> and are unique", () => {
    const names = policies.map((p) => p.name);
    assert.equal(new Set(names).size, names.length);
    for (const n of names) assert.match(n, /^aws-[a-z0-9]+-[a-z0-9]+-[a-z0-9]+(-[a-z0-9]+)*$/, n);
  });

  it("every policy has a description, an explicit level, a severity, remediation steps and exemption config", () => {
    for (const p of policies) {
      assert.ok(p.description.length > 20, p.name);
      assert.ok(p.enforcementLevel === "mandatory" || p.enforcementLevel === "advisory", p.name);
      assert.ok(["low", "medium", "high", "critical"].includes(p.severity ?? ""), p.name);
      assert.ok((p.remediationSteps ?? "").length > 20, p.name);
      const props = p.configSchema?.properties ?? {};
      assert.ok("exemptNamePatterns" in props && "exemptTags" in props && "exemptStackTags" in props, p.name);
      assert.ok(!("enforcementLevel" in props), `${p.name}: the engine forbids enforcementLevel in the schema`);
      for (const [k, v] of Object.entries(props))
        assert.ok(typeof v === "object" && v.type !== undefined && v.description, `${p.name}.${k}`);
    }
  });

  it("contains the mandatory policies of the issue, as resource or stack policies", () => {
    const mandatory = [
      "aws-iam-policy-no-wildcard-actions",
      "aws-iam-policy-no-star-resource",
      "aws-iam-policy-no-passrole-star",
      "aws-iam-policy-no-allow-not-elements",
      "aws-iam-attachment-no-broad-managed-policies",
      "aws-iam-role-github-oidc-trust-pinned",
      "aws-iam-role-no-public-trust",
      "aws-ebs-volume-encrypted",
      "aws-ebs-volume-gp3",
      "aws-ec2-launch-template-root-volume-declared",
      "aws-ec2-instance-terminate-on-shutdown",
    ];
    for (const name of mandatory)
      assert.equal(policies.find((p) => p.name === name)?.enforcementLevel, "mandatory", name);
    const stack = policies
      .filter((p) => isStackPolicy(p))
      .map((p) => p.name)
      .sort();
    assert.deepEqual(stack, [
      "aws-ebs-volume-encrypted",
      "aws-ec2-instance-terminate-on-shutdown",
      "aws-lambda-function-async-failure-destination",
      "aws-s3-bucket-encryption",
      "aws-s3-bucket-public-access-blocked",
    ]);
    for (const p of policies)
      assert.ok(isResourcePolicy(p as ResourceValidationPolicy) !== isStackPolicy(p as StackValidationPolicy), p.name);
  });

  it("the README lists every policy with its level", () => {
    const readme = fs.readFileSync(path.join(POLICY_DIR, "README.md"), "utf8");
    for (const p of policies) {
      const row = readme.split("\n").find((l) => l.startsWith(`| \`${p.name}\``));
      assert.ok(row, `README row for ${p.name}`);
      assert.ok(row.includes(`| ${p.enforcementLevel} |`), `README level for ${p.name}`);
      assert.ok(row.includes(`| ${p.severity} |`), `README severity for ${p.name}`);
    }
  });

  it("pack files: PulumiPolicy.yaml (nodejs), package.json with a version, a strict commonjs tsconfig", () => {
    const yaml = fs.readFileSync(path.join(POLICY_DIR, "PulumiPolicy.yaml"), "utf8");
    assert.match(yaml, /^runtime: nodejs$/m);
    assert.match(yaml, /^description: /m);
    const pkg = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8"));
    assert.match(pkg.version, /^\d+\.\d+\.\d+/);
    assert.equal(PACK_VERSION, pkg.version);
    assert.match(PACK_NAME, /^[a-zA-Z0-9-_.]{1,100}$/, "the engine's pack name pattern");
    const tsconfig = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "tsconfig.json"), "utf8"));
    assert.equal(tsconfig.compilerOptions.strict, true);
    assert.equal(tsconfig.compilerOptions.module, "commonjs");
    const index = fs.readFileSync(path.join(POLICY_DIR, "index.ts"), "utf8");
    assert.match(index, /new PolicyPack\(PACK_NAME, \{\s*policies,/);
  });

  it("loading the policies does not load @pulumi/aws or start the policy server (checked in a fresh process)", function () {
    this.timeout(60_000);
    const script = [
      "require('./policies');",
      "require('./evaluate');",
      "const loaded = Object.keys(require.cache);",
      "console.log(JSON.stringify({ aws: loaded.some((k) => k.includes('@pulumi/aws')), server: loaded.some((k) => /@pulumi[\\\\/]policy[\\\\/]server\\.js$/.test(k)), grpc: loaded.some((k) => k.includes('@grpc')) }));",
    ].join("\n");
    const tsx = require.resolve("tsx/cjs");
    const out = execFileSync(process.execPath, ["--require", tsx, "-e", script], { cwd: POLICY_DIR, encoding: "utf8" });
    assert.deepEqual(JSON.parse(out.trim().split("\n").pop()!), { aws: false, server: false, grpc: false });
  });
});
