import { strict as assert } from "node:assert";
import { decideReaping, type ReaperInstance, unseenRunnerNames } from "../../../../runtime/core/reaper/decide.js";

const NOW = new Date("2025-06-02T12:00:00Z");
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);
const instance = (id: string, ageMinutes: number, overrides: Partial<ReaperInstance> = {}): ReaperInstance => ({
  instanceId: id,
  state: "running",
  launchTime: minutesAgo(ageMinutes),
  runnerName: `runner-${id}`,
  ...overrides,
});

describe("reaper: runners the list did not show", () => {
  it("names the runners of live instances past the grace time that the list missed, and only those", () => {
    const names = unseenRunnerNames({
      instances: [
        instance("listed", 30),
        instance("missed", 30),
        instance("booting", 5),
        instance("gone", 30, { state: "terminated" }),
        instance("untagged", 30, { runnerName: undefined }),
      ],
      runners: [{ id: 1, name: "runner-listed", status: "online", busy: false }],
      now: NOW,
      bootGraceMinutes: 10,
    });
    assert.deepEqual(names, ["runner-missed"]);
  });

  it("spares an instance whose runner could not be looked up, and terminates one confirmed absent", () => {
    const result = decideReaping({
      instances: [instance("unknown", 30), instance("absent", 30)],
      runners: [],
      now: NOW,
      bootGraceMinutes: 10,
      maxJobHours: 8,
      unverified: new Set(["runner-unknown"]),
    });
    assert.deepEqual(result.spared, [{ instanceId: "unknown", reason: "unverified" }]);
    assert.deepEqual(
      result.terminate.map((t) => [t.instanceId, t.reason]),
      [["absent", "never-registered"]],
    );
  });
});
