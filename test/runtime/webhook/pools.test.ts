import { strict as assert } from "node:assert";
import { distinctLabels, labelSet, matchPool, parsePools } from "../../../runtime/webhook/pools";
import { pool, POOLS } from "./support";

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

describe("webhook: parsePools", () => {
  it("reads a JSON array of pool specs", () => {
    assert.deepEqual(parsePools(JSON.stringify(POOLS)), POOLS);
  });

  it("names what is wrong", () => {
    assert.throws(() => parsePools("{"), /pools are not valid JSON/);
    assert.throws(() => parsePools("[]"), /non-empty JSON array/);
    assert.throws(() => parsePools('{"name":"x"}'), /non-empty JSON array/);
    assert.throws(() => parsePools("[null]"), /pools\[0\] must be an object/);
    assert.throws(() => parsePools('[{"labels":["a"]}]'), /pools\[0\]\.name/);
    assert.throws(() => parsePools('[{"name":"a","labels":["a"]},{"name":"b","labels":[]}]'), /pools\[1\]\.labels/);
    assert.throws(() => parsePools('[{"name":"a","labels":["a", 3]}]'), /pools\[0\]\.labels/);
  });
});
