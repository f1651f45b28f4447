/**
 * The stack configuration as a whole: the checked-in stack files parse, and defaults fill what they leave out.
 * The messages for bad input are in config-problems.test.ts.
 */
import * as assert from "node:assert/strict";
import { instanceTypeArchitecture, isCidr, parseStackConfig } from "../../program/config";
import { loadStackFile, readStackFile } from "../../testkit/stack-files";
import { validConfig } from "./support";

describe("stack configuration", () => {
  it("accepts the dev and prod stack files", () => {
    for (const stack of ["dev", "prod"]) {
      const config = loadStackFile(stack);
      assert.equal(config.stack, stack);
      assert.equal(config.region, "eu-west-1");
    }
  });

  it("gives the dev stack a pool whose labels are exactly self-hosted, linux, x64 and a created network", () => {
    const config = loadStackFile("dev");
    assert.ok(config.runners.pools.some((p) => [...p.labels].sort().join(",") === "linux,self-hosted,x64"));
    assert.ok(!("vpcId" in config.network));
    assert.deepEqual(
      config.tasks.map((t) => t.name),
      ["db-migrate"],
    );
  });

  it("sizes prod larger than dev and spans two CodeBuild regions", () => {
    const dev = parseStackConfig(readStackFile("dev").raw, "dev", "eu-west-1");
    const prod = parseStackConfig(readStackFile("prod").raw, "prod", "eu-west-1");
    const capacity = (c: typeof dev) => c.runners.pools.reduce((sum, p) => sum + p.maxRunners, 0);
    assert.ok(capacity(prod) > capacity(dev));
    assert.deepEqual(
      prod.codebuild?.regions.map((r) => r.region),
      ["eu-west-1", "us-east-1"],
    );
  });

  it("fills defaults", () => {
    const config = parseStackConfig(validConfig(), "test", "eu-west-1");
    assert.equal(config.github.scope, "org");
    assert.equal(config.runners.pools[0].diskSizeGiB, 40);
    assert.equal(config.runners.pools[0].spot, false);
    assert.equal(config.runners.launcher.batchSize, 10);
    assert.equal(config.logRetentionDays, 30);
    assert.deepEqual(config.network, { cidrBlock: "10.20.0.0/16", availabilityZones: 2, natGateways: "single" });
    assert.deepEqual(config.tasks, []);
  });

  it("treats the empty defaults of Pulumi.yaml as unset", () => {
    const config = parseStackConfig(
      { ...validConfig(), githubOidcProviderArn: "", alarmTopicArn: "" },
      "test",
      "eu-west-1",
    );
    assert.equal(config.githubOidcProviderArn, undefined);
  });

  describe("helpers", () => {
    it("tells Graviton instance types from x86 ones", () => {
      for (const t of [
        "m7g.large",
        "c7gn.xlarge",
        "t4g.micro",
        "r8gd.2xlarge",
        "a1.large",
        "g5g.xlarge",
        "im4gn.large",
        "is4gen.large",
      ])
        assert.equal(instanceTypeArchitecture(t), "arm64", t);
      for (const t of ["m7i.large", "g5.xlarge", "c6a.large", "m5.large", "t3.micro", "m7i-flex.large", "p4d.24xlarge"])
        assert.equal(instanceTypeArchitecture(t), "x64", t);
    });

    it("accepts only network CIDR blocks", () => {
      assert.ok(isCidr("10.0.0.0/16"));
      assert.ok(isCidr("0.0.0.0/0"));
      assert.ok(isCidr("192.168.1.128/25"));
      assert.ok(!isCidr("10.0.0.1/16"));
      assert.ok(!isCidr("10.0.0.0/33"));
      assert.ok(!isCidr("10.0.0/16"));
      assert.ok(!isCidr("256.0.0.0/8"));
    });
  });
});
