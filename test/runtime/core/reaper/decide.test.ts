import { strict as assert } from "node:assert";
import {
  decideReaping,
  type ReaperInput,
  type ReaperInstance,
  type ReaperRunner,
} from "../../../../runtime/core/reaper/decide.js";

const NOW = new Date("2025-06-02T12:00:00Z");
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

function instance(id: string, ageMinutes: number, overrides: Partial<ReaperInstance> = {}): ReaperInstance {
  return {
    instanceId: id,
    state: "running",
    launchTime: minutesAgo(ageMinutes),
    pool: "linux-x64",
    runnerName: `runner-${id}`,
    ...overrides,
  };
}

function runner(id: number, name: string, overrides: Partial<ReaperRunner> = {}): ReaperRunner {
  return { id, name, status: "online", busy: false, ...overrides };
}

function decide(partial: Partial<ReaperInput>) {
  return decideReaping({ instances: [], runners: [], now: NOW, bootGraceMinutes: 10, maxJobHours: 6, ...partial });
}

describe("reaper: decideReaping", () => {
  describe("instances", () => {
    it("terminates an instance whose runner never registered once the grace time is over", () => {
      const result = decide({ instances: [instance("i-1", 11)] });
      assert.deepEqual(result.terminate, [{ instanceId: "i-1", pool: "linux-x64", reason: "never-registered" }]);
      assert.deepEqual(result.deregister, []);
    });

    it("spares an instance exactly at the grace time and terminates it one second later", () => {
      assert.deepEqual(decide({ instances: [instance("i-1", 10)] }).terminate, []);
      assert.deepEqual(decide({ instances: [instance("i-1", 10)] }).spared, [{ instanceId: "i-1", reason: "booting" }]);
      const later = decide({ instances: [instance("i-1", 10)], now: new Date(NOW.getTime() + 1000) });
      assert.deepEqual(
        later.terminate.map((t) => t.reason),
        ["never-registered"],
      );
    });

    it("spares a booting instance whose runner is registered but still offline", () => {
      const result = decide({
        instances: [instance("i-1", 3)],
        runners: [runner(7, "runner-i-1", { status: "offline" })],
      });
      assert.deepEqual(result.terminate, []);
      assert.deepEqual(result.deregister, []);
      assert.deepEqual(result.spared, [{ instanceId: "i-1", reason: "booting" }]);
    });

    it("terminates an instance whose runner is offline past the grace time and removes the runner", () => {
      const result = decide({
        instances: [instance("i-1", 30)],
        runners: [runner(7, "runner-i-1", { status: "offline" })],
      });
      assert.deepEqual(result.terminate, [{ instanceId: "i-1", pool: "linux-x64", reason: "runner-offline" }]);
      assert.deepEqual(result.deregister, [{ runnerId: 7, name: "runner-i-1", reason: "offline-beyond-grace" }]);
    });

    it("never touches a busy runner, even past the max job lifetime, nor one that is busy and offline", () => {
      const result = decide({
        instances: [instance("i-1", 7 * 60), instance("i-2", 45)],
        runners: [runner(1, "runner-i-1", { busy: true }), runner(2, "runner-i-2", { busy: true, status: "offline" })],
      });
      assert.deepEqual(result.terminate, []);
      assert.deepEqual(result.deregister, []);
      assert.deepEqual(result.spared, [
        { instanceId: "i-1", reason: "busy" },
        { instanceId: "i-2", reason: "busy" },
      ]);
    });

    it("spares an online idle runner within its lifetime (a warm runner waiting for a job)", () => {
      const result = decide({ instances: [instance("i-1", 5 * 60)], runners: [runner(1, "runner-i-1")] });
      assert.deepEqual(result.terminate, []);
      assert.deepEqual(result.spared, [{ instanceId: "i-1", reason: "idle-within-lifetime" }]);
    });

    it("recycles an idle runner past the max lifetime only after removing it from GitHub", () => {
      const atLimit = decide({ instances: [instance("i-1", 6 * 60)], runners: [runner(1, "runner-i-1")] });
      assert.deepEqual(atLimit.terminate, []);
      const result = decide({ instances: [instance("i-1", 6 * 60 + 1)], runners: [runner(1, "runner-i-1")] });
      assert.deepEqual(result.terminate, [
        { instanceId: "i-1", pool: "linux-x64", reason: "max-lifetime", afterDeregistering: 1 },
      ]);
      assert.deepEqual(result.deregister, [{ runnerId: 1, name: "runner-i-1", reason: "idle-beyond-lifetime" }]);
    });

    it("terminates an instance without a runner-name tag after the grace time", () => {
      const result = decide({ instances: [instance("i-1", 20, { runnerName: undefined, pool: undefined })] });
      assert.deepEqual(result.terminate, [{ instanceId: "i-1", reason: "never-registered" }]);
    });

    it("ignores instances that are already shutting down or terminated", () => {
      const result = decide({
        instances: [instance("i-1", 600, { state: "shutting-down" }), instance("i-2", 600, { state: "terminated" })],
      });
      assert.deepEqual(result.terminate, []);
      assert.deepEqual(result.spared, []);
    });
  });

  describe("runners", () => {
    it("deregisters an offline runner whose instance was terminated (a spot interruption ghost)", () => {
      const result = decide({
        instances: [instance("i-1", 4, { state: "terminated" })],
        runners: [runner(9, "runner-i-1", { status: "offline", repository: "acme/app" })],
      });
      assert.deepEqual(result.deregister, [
        { runnerId: 9, name: "runner-i-1", repository: "acme/app", reason: "instance-gone" },
      ]);
      assert.deepEqual(result.terminate, []);
    });

    it("leaves alone offline runners that no instance of ours names (foreign, or their instance is being created)", () => {
      const result = decide({ runners: [runner(9, "someone-else", { status: "offline" })] });
      assert.deepEqual(result.deregister, []);
    });

    it("never deregisters a busy runner whose instance is gone", () => {
      const result = decide({
        instances: [instance("i-1", 60, { state: "terminated" })],
        runners: [runner(9, "runner-i-1", { status: "offline", busy: true })],
      });
      assert.deepEqual(result.deregister, []);
    });

    it("never deregisters an online runner", () => {
      const result = decide({
        instances: [instance("i-1", 60, { state: "terminated" })],
        runners: [runner(9, "runner-i-1")],
      });
      assert.deepEqual(result.deregister, []);
    });

    it("prefers the live instance when a runner name appears on a terminated and a live instance", () => {
      const result = decide({
        instances: [
          instance("i-old", 90, { state: "terminated", runnerName: "r" }),
          instance("i-new", 2, { runnerName: "r" }),
        ],
        runners: [runner(3, "r", { status: "offline" })],
      });
      assert.deepEqual(result.deregister, []);
      assert.deepEqual(result.spared, [{ instanceId: "i-new", reason: "booting" }]);
    });

    it("lists a runner once even when two rules ask for its removal", () => {
      const result = decide({
        instances: [instance("i-1", 30)],
        runners: [runner(7, "runner-i-1", { status: "offline" })],
      });
      assert.equal(result.deregister.length, 1);
    });
  });

  describe("just-in-time parameters", () => {
    const parameter = (instanceId: string, ageMinutes: number) => ({
      name: `/cirunners/dev/runners/${instanceId}`,
      instanceId,
      lastModified: minutesAgo(ageMinutes),
    });

    it("deletes the parameter of a terminated instance and keeps the one of a live instance", () => {
      const result = decide({
        instances: [instance("i-gone", 30, { state: "terminated" }), instance("i-live", 2)],
        parameters: [parameter("i-gone", 1), parameter("i-live", 1)],
      });
      assert.deepEqual(result.deleteParameters, ["/cirunners/dev/runners/i-gone"]);
    });

    it("deletes a parameter of an unknown instance only after the grace time (EC2 is eventually consistent)", () => {
      const result = decide({ parameters: [parameter("i-young", 10), parameter("i-old", 11)] });
      assert.deepEqual(result.deleteParameters, ["/cirunners/dev/runners/i-old"]);
    });
  });

  it("rejects a non-positive grace time or lifetime, naming the setting", () => {
    assert.throws(() => decide({ bootGraceMinutes: 0 }), /bootGraceMinutes/);
    assert.throws(() => decide({ maxJobHours: Number.NaN }), /maxJobHours/);
  });
});
