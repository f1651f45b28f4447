import { strict as assert } from "node:assert";
import { ENV } from "../../../../contract/names.js";
import { distinctLabels, labelSet, matchPool } from "../../../../contract/pool.js";
import { readSettings } from "../../../../contract/settings.js";
import { POOLS, pool } from "../../support/webhook.js";

describe("webhook: matchPool", () => {
  const name = (labels: string[]) => matchPool(labels, POOLS)?.name;

  it("matches a job whose label set equals a pool's", () => {
    assert.equal(name(["self-hosted", "linux", "x64"]), "linux-x64");
    assert.equal(name(["self-hosted", "linux", "arm64"]), "linux-arm64");
    assert.equal(name(["self-hosted", "linux", "x64", "release"]), "linux-x64-release");
  });

  it("ignores order", () => {
    assert.equal(name(["x64", "linux", "self-hosted"]), "linux-x64");
    assert.equal(name(["release", "x64", "self-hosted", "linux"]), "linux-x64-release");
  });

  it("compares case-insensitively, on both sides", () => {
    assert.equal(name(["Self-Hosted", "LINUX", "X64"]), "linux-x64");
    assert.equal(matchPool(["self-hosted", "gpu"], [pool("gpu", ["Self-Hosted", "GPU"])])?.name, "gpu");
  });

  it("collapses duplicate labels in the job's list, in any case", () => {
    assert.equal(name(["self-hosted", "linux", "x64", "linux", "X64"]), "linux-x64");
  });

  it("rejects a subset of a pool's labels", () => {
    assert.equal(name(["self-hosted", "linux"]), undefined);
    assert.equal(name(["self-hosted"]), undefined);
    assert.equal(name(["x64"]), undefined);
  });

  it("rejects a superset of a pool's labels", () => {
    assert.equal(name(["self-hosted", "linux", "x64", "gpu"]), undefined);
    assert.equal(name(["self-hosted", "linux", "arm64", "release"]), undefined);
  });

  it("does not mistake one pool's superset for the pool that has it exactly", () => {
    // The release pool is a superset of linux-x64: each job lands on exactly its own set.
    assert.equal(name(["self-hosted", "linux", "x64"]), "linux-x64");
    assert.equal(name(["self-hosted", "linux", "x64", "release"]), "linux-x64-release");
  });

  it("matches nothing for no labels, GitHub-hosted labels, or no pools", () => {
    assert.equal(name([]), undefined);
    assert.equal(name(["ubuntu-latest"]), undefined);
    assert.equal(matchPool(["self-hosted", "linux", "x64"], []), undefined);
  });

  it("does not trim or otherwise rewrite labels", () => {
    assert.equal(name([" self-hosted", "linux", "x64"]), undefined);
    assert.equal(name(["self-hosted", "linux", "x64 "]), undefined);
  });

  it("takes the first pool in configuration order if two ever had the same set", () => {
    const pools = [pool("first", ["a", "b"]), pool("second", ["B", "A"])];
    assert.equal(matchPool(["a", "b"], pools)?.name, "first");
  });

  it("labelSet lower-cases and de-duplicates", () => {
    assert.deepEqual([...labelSet(["A", "a", "B"])], ["a", "b"]);
  });

  it("distinctLabels keeps the first spelling and the order", () => {
    assert.deepEqual(distinctLabels(["Linux", "self-hosted", "LINUX", "x64", "linux"]), [
      "Linux",
      "self-hosted",
      "x64",
    ]);
  });
});

describe("webhook: pools from the environment", () => {
  const env = (pools: string) => ({
    [ENV.pools]: pools,
    [ENV.jobQueueUrl]: "https://sqs.example/q.fifo",
    [ENV.webhookSecretParameter]: "/s",
  });

  it("reads a JSON array of pool specs", () => {
    assert.deepEqual(
      readSettings("webhook", env(JSON.stringify(POOLS)))[ENV.pools].map((p) => p.name),
      POOLS.map((p) => p.name),
    );
  });

  it("names the variable and the entry that is wrong", () => {
    const fails = (raw: string, pattern: RegExp) =>
      assert.throws(
        () => readSettings("webhook", env(raw)),
        (e: Error) => e.message.includes(ENV.pools) && pattern.test(e.message),
      );
    fails("{", /not valid JSON/);
    fails("[]", /CIRUNNERS_POOLS/);
    fails("[null]", /\(0\)/);
    fails('[{"labels":["a"]}]', /\(0\.name\)/);
    fails(JSON.stringify([POOLS[0], { ...POOLS[1], labels: [] }]), /\(1\.labels\)/);
  });
});
