import { strict as assert } from "node:assert";
import { ENV } from "../../../../contract/names.js";
import { ambiguousLabelSets, distinctLabels, labelSet, routeJob } from "../../../../contract/pool.js";
import { readSettings } from "../../../../contract/settings.js";
import { POOLS, pool } from "../../support/webhook.js";

describe("webhook: routeJob (GitHub's assignment rule)", () => {
  const name = (labels: string[]) => routeJob(labels, POOLS)?.name;

  it("routes a job whose label set equals a pool's to that pool, in any order", () => {
    assert.equal(name(["self-hosted", "linux", "x64"]), "linux-x64");
    assert.equal(name(["x64", "linux", "self-hosted"]), "linux-x64");
    assert.equal(name(["self-hosted", "linux", "arm64"]), "linux-arm64");
    assert.equal(name(["release", "x64", "self-hosted", "linux"]), "linux-x64-release");
  });

  it("routes a subset of a pool's labels, as GitHub assigns it to that pool's runners", () => {
    assert.equal(name(["x64"]), "linux-x64");
    assert.equal(name(["arm64"]), "linux-arm64");
    assert.equal(name(["release"]), "linux-x64-release");
    assert.equal(name(["linux", "arm64"]), "linux-arm64");
  });

  it("compares case-insensitively, on both sides, and collapses duplicates", () => {
    assert.equal(name(["Self-Hosted", "LINUX", "X64"]), "linux-x64");
    assert.equal(routeJob(["self-hosted", "gpu"], [pool("gpu", ["Self-Hosted", "GPU"])])?.name, "gpu");
    assert.equal(name(["self-hosted", "linux", "x64", "linux", "X64"]), "linux-x64");
  });

  it("picks the most specific pool (fewest labels the job did not ask for), never a specialised one first", () => {
    const pools = [pool("big", ["self-hosted", "linux", "x64", "gpu"]), pool("plain", ["self-hosted", "linux"])];
    assert.equal(routeJob(["self-hosted"], pools)?.name, "plain");
    assert.equal(routeJob(["linux", "gpu"], pools)?.name, "big");
    assert.equal(name(["self-hosted", "linux", "x64"]), "linux-x64", "not the release pool, a superset");
  });

  it("breaks ties by config order", () => {
    assert.equal(name(["self-hosted", "linux"]), "linux-x64");
    assert.equal(routeJob(["self-hosted", "linux"], [POOLS[1], POOLS[0]])?.name, "linux-arm64");
    const same = [pool("first", ["a", "b"]), pool("second", ["B", "A"])];
    assert.equal(routeJob(["a", "b"], same)?.name, "first");
  });

  it("routes nothing for a superset of every pool, no labels, GitHub-hosted labels, or no pools", () => {
    assert.equal(name(["self-hosted", "linux", "x64", "gpu"]), undefined);
    assert.equal(name(["self-hosted", "linux", "arm64", "release"]), undefined);
    assert.equal(name([]), undefined);
    assert.equal(name(["ubuntu-latest"]), undefined);
    assert.equal(routeJob(["self-hosted"], []), undefined);
  });

  it("does not trim or otherwise rewrite labels", () => {
    assert.equal(name([" self-hosted", "linux", "x64"]), undefined);
    assert.equal(name(["self-hosted", "linux", "x64 "]), undefined);
  });
});

describe("webhook: ambiguousLabelSets", () => {
  it("names pools whose label sets are equal (case-insensitively): the later one would never get a job", () => {
    const pools = [pool("a", ["x", "Y"]), pool("b", ["y", "x"]), pool("c", ["x"]), pool("d", ["X", "y", "x"])];
    assert.deepEqual(
      ambiguousLabelSets(pools).map(([p, q]) => [p.name, q.name]),
      [
        ["a", "b"],
        ["a", "d"],
        ["b", "d"],
      ],
    );
  });

  it("accepts a subset next to its superset (the most specific pool decides) and the example pools", () => {
    assert.deepEqual(ambiguousLabelSets([pool("a", ["x"]), pool("b", ["x", "y"])]), []);
    assert.deepEqual(ambiguousLabelSets(POOLS), []);
  });
});

describe("webhook: label sets", () => {
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
    [ENV.webhookSecretArn]: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf",
    [ENV.ledgerTable]: "jobs",
    [ENV.githubOwner]: "acme",
    [ENV.repositories]: "[]",
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
