import assert from "node:assert/strict";
import { TAG } from "../../../../contract/names.js";
import { fleetTags, makeRunnerName, runnerTags, warmRunnerPrefix } from "../../../../runtime/core/launch/runner.js";

describe("runner names and tags", () => {
  it("names runners <pool>-<id>-<random>; warm runners start with the warm prefix", () => {
    assert.equal(
      makeRunnerName("linux-x64", 42, () => "abc123"),
      "linux-x64-42-abc123",
    );
    assert.match(makeRunnerName("linux-x64", "warm"), /^linux-x64-warm-[0-9a-f]{6}$/);
    assert.ok(makeRunnerName("linux-x64", "warm").startsWith(warmRunnerPrefix("linux-x64")));
  });

  it("tags a job's runner with its name, job and repository, a warm runner with its name only", () => {
    const tags = (labels: Parameters<typeof runnerTags>[0]) =>
      Object.fromEntries(runnerTags(labels).map((t) => [t.Key, t.Value]));
    assert.deepEqual(tags({ runnerName: "r-1", jobId: 7, repository: "acme/app" }), {
      [TAG.runnerName]: "r-1",
      Name: "r-1",
      [TAG.jobId]: "7",
      [TAG.repository]: "acme/app",
    });
    assert.deepEqual(tags({ runnerName: "r-2" }), { [TAG.runnerName]: "r-2", Name: "r-2" });
  });

  it("puts the extra tags on the fleet, and the runner's own tags only when the fleet serves one runner", () => {
    const keys = (tags: ReturnType<typeof fleetTags>) => Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
    assert.deepEqual(keys(fleetTags("dev", "linux-x64", { [TAG.warm]: "true" }, undefined)), {
      [TAG.stack]: "dev",
      [TAG.pool]: "linux-x64",
      [TAG.warm]: "true",
      Name: "dev-linux-x64-runner",
    });
    assert.equal(keys(fleetTags("dev", "linux-x64", {}, { runnerName: "r-1", jobId: 7 }))[TAG.jobId], "7");
  });
});
