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

describe("reaper: runners the ledger records running a job", () => {
  const offline = (id: number, name: string) => ({ id, name, status: "offline", busy: false });
  const decide = (runningInLedger: string[], unverified: string[] = []) =>
    decideReaping({
      instances: [
        instance("unseen", 30),
        instance("offline", 30),
        instance("past-lifetime", 10 * 60),
        instance("orphan", 30),
        instance("gone", 30, { state: "terminated" }),
      ],
      runners: [
        offline(2, "runner-offline"),
        { id: 3, name: "runner-past-lifetime", status: "online", busy: false },
        offline(5, "runner-gone"),
      ],
      now: NOW,
      bootGraceMinutes: 10,
      maxJobHours: 8,
      runningInLedger: new Set(runningInLedger),
      unverified: new Set(unverified),
    });

  it("spares their instances and keeps their runners, whatever GitHub shows; the others are ended", () => {
    const result = decide(["runner-unseen", "runner-offline", "runner-past-lifetime", "runner-gone"]);
    assert.deepEqual(result.spared, [
      { instanceId: "unseen", reason: "running-in-ledger" },
      { instanceId: "offline", reason: "running-in-ledger" },
      { instanceId: "past-lifetime", reason: "running-in-ledger" },
    ]);
    assert.deepEqual(
      result.terminate.map((t) => [t.instanceId, t.reason]),
      [["orphan", "never-registered"]],
    );
    // A runner whose instance is gone ran nothing more: its registration goes, whatever the ledger says.
    assert.deepEqual(
      result.deregister.map((d) => [d.name, d.reason]),
      [["runner-gone", "instance-gone"]],
    );
  });

  it("ends them when the ledger does not say so, and spares an offline runner it could not read", () => {
    const ended = decide([]);
    assert.deepEqual(
      ended.terminate.map((t) => t.instanceId),
      ["unseen", "offline", "past-lifetime", "orphan"],
    );
    const unread = decide([], ["runner-offline"]);
    assert.deepEqual(unread.spared, [{ instanceId: "offline", reason: "unverified" }]);
    assert.ok(!unread.deregister.some((d) => d.name === "runner-offline"));
  });
});
