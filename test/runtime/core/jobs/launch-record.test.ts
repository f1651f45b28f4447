import assert from "node:assert/strict";
import { capacityWait, failedLaunch, launchedMove } from "../../../../runtime/core/jobs/launch-record.js";

describe("core/jobs: the launcher's ledger fields", () => {
  const now = new Date("2026-05-01T10:01:30Z");

  it("waits for capacity as long again as the job has waited, counting no attempt", () => {
    assert.deepEqual(capacityWait({ queuedAt: "2026-05-01T10:00:00Z" }, now), {
      nextAttemptAt: "2026-05-01T10:03:00.000Z",
    });
  });

  it("counts a failed launch, backs off by its attempt, and records the error", () => {
    assert.deepEqual(failedLaunch({ attempts: 1 }, { reason: "fleet-error", detail: "boom" }, now), {
      nextAttemptAt: "2026-05-01T10:02:30.000Z",
      attempts: 2,
      lastError: "fleet-error: boom",
    });
  });

  it("moves to launched with the runner entry and clears the last failure", () => {
    const runner = { instanceId: "i-1", runnerName: "p-7-abc123", runnerId: 9, fleetLaunchedAt: now.getTime() };
    assert.deepEqual(launchedMove(runner), {
      state: "launched",
      addRunner: { instanceId: "i-1", runnerName: "p-7-abc123", runnerId: 9, launchedAt: "2026-05-01T10:01:30.000Z" },
      lastError: null,
      nextAttemptAt: null,
    });
  });
});
