import assert from "node:assert/strict";
import type { FleetInstance } from "../../../../runtime/core/launch/fleet.js";
import { sortConfigured } from "../../../../runtime/core/launch/outcome.js";

const instance = (id: string): FleetInstance => ({ instanceId: id, lifecycle: "spot" }) as FleetInstance;
const runner = (key: string, runnerId: number) => ({ request: { key, runnerName: `p-${key}` }, runnerId });

describe("core/launch: sortConfigured", () => {
  it("sorts each runner into launched, withdrawn by the caller, or broken", () => {
    const runners = [runner("a", 1), runner("b", 2), runner("c", 3)];
    const sorted = sortConfigured(
      runners,
      [instance("i-1"), instance("i-2"), instance("i-3")],
      [
        { status: "fulfilled", value: undefined },
        { status: "fulfilled", value: { withdraw: "the job moved on" } },
        { status: "rejected", reason: new Error("AccessDenied") },
      ],
      1000,
    );
    assert.deepEqual(sorted.launched, [
      { key: "a", runnerName: "p-a", runnerId: 1, instanceId: "i-1", lifecycle: "spot", fleetLaunchedAt: 1000 },
    ]);
    assert.deepEqual(sorted.withdrawn, [
      { runner: runners[1], entry: { key: "b", runnerName: "p-b", instanceId: "i-2", reason: "the job moved on" } },
    ]);
    assert.deepEqual(sorted.broken, [
      {
        runner: runners[2],
        instanceId: "i-3",
        failure: { key: "c", reason: "parameter-error", detail: "Error: AccessDenied" },
      },
    ]);
  });
});
