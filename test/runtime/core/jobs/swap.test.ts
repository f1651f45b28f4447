import assert from "node:assert/strict";
import type { JobRecord, LaunchedRunner } from "../../../../contract/ledger.js";
import { canServe, decideSwap, holderStep, servingRunners } from "../../../../runtime/core/jobs/swap.js";

const POOLS = [
  { name: "x64", labels: ["self-hosted", "linux", "x64"] },
  { name: "gpu", labels: ["self-hosted", "linux", "x64", "gpu"] },
  { name: "arm", labels: ["self-hosted", "linux", "arm64"] },
];
const AT = "2026-05-01T10:00:00.000Z";

function runner(name: string, extra: Partial<LaunchedRunner> = {}): LaunchedRunner {
  return { instanceId: `i-${name}`, runnerName: name, launchedAt: AT, ...extra };
}

function job(jobId: number, state: JobRecord["state"], runners: LaunchedRunner[], labels = POOLS[0].labels) {
  return {
    jobId,
    runId: 1,
    runAttempt: 1,
    repository: "acme/app",
    owner: "acme",
    labels,
    pool: "x64",
    state,
    version: 4,
    attempts: 0,
    runners,
    queuedAt: AT,
    updatedAt: AT,
    expiresAt: 1,
  } as JobRecord;
}

// B's runner was taken by A (A started on x64-2-aaaaaa).
const TAKEN = "x64-2-aaaaaa";

describe("swap: a job started on another job's runner", () => {
  it("hands the thief's own runner to the job whose runner it took, when its pool offers that job's labels", () => {
    const holder = job(2, "launched", [runner(TAKEN)]);
    const thief = job(1, "running", [runner("x64-1-bbbbbb")], ["self-hosted", "linux"]);
    const decision = decideSwap(holder, thief, TAKEN, POOLS);
    assert.equal(decision.kind, "transfer");
    assert.ok(decision.kind === "transfer");
    assert.equal(decision.runner.runnerName, "x64-1-bbbbbb");
    assert.deepEqual([decision.thiefIndex, decision.takenIndex], [0, 0]);
  });

  it("relaunches (through the launcher) only when the thief has no runner that can serve the job", () => {
    const holder = job(2, "launched", [runner(TAKEN)], POOLS[1].labels);
    for (const thief of [
      job(1, "running", []), // thief was queued: no runner of its own yet
      job(1, "running", [runner("x64-1-bbbbbb")]), // x64 runner cannot serve a gpu job
      job(1, "running", [runner("arm-1-bbbbbb")]),
      job(1, "running", [runner("gpu-1-bbbbbb", { endedAt: AT })]),
      job(1, "running", [runner("gpu-1-bbbbbb", { takenBy: 9 })]),
      job(1, "running", [runner("gpu-1-bbbbbb", { transferredTo: 9 })]),
    ]) {
      const decision = decideSwap(holder, thief, TAKEN, POOLS);
      assert.equal(decision.kind, "requeue", JSON.stringify(thief.runners));
      assert.ok(decision.kind === "requeue");
      assert.deepEqual(decision.move, {
        state: "queued",
        attempts: 1,
        nextAttemptAt: null,
        lastError: `runner ${TAKEN} was taken by job 1`,
      });
      assert.equal(decision.takenIndex, 0);
    }
    const gpuThief = job(1, "running", [runner("gpu-1-bbbbbb")]);
    assert.equal(decideSwap(holder, gpuThief, TAKEN, POOLS).kind, "transfer");
  });

  it("is a no-op for the job's own runner, a runner handed to it, and a late or repeated in_progress", () => {
    const own = job(2, "running", [runner(TAKEN)]);
    assert.equal(decideSwap(own, own, TAKEN, POOLS).kind, "none");
    // B runs on A's runner, which was handed to B: holderStep from A's record leads to B itself.
    const a = job(1, "running", [runner("x64-1-bbbbbb", { transferredTo: 2 })]);
    assert.deepEqual(holderStep(a, "x64-1-bbbbbb"), { follow: 2 });
    const b = job(2, "running", [runner(TAKEN, { takenBy: 1 }), runner("x64-1-bbbbbb")]);
    assert.deepEqual(holderStep(b, "x64-1-bbbbbb"), { holder: b });
    assert.equal(decideSwap(b, b, "x64-1-bbbbbb", POOLS).kind, "none");
    // A's in_progress delivered again after the swap: the taken runner is marked.
    const thief = job(1, "running", [runner("x64-1-bbbbbb")]);
    assert.equal(decideSwap(job(2, "launched", [runner(TAKEN, { takenBy: 1 })]), thief, TAKEN, POOLS).kind, "none");
  });

  it("leaves a job that needs no runner, still has one, or has a launch in flight", () => {
    const thief = job(1, "running", [runner("x64-1-bbbbbb")]);
    for (const state of ["queued", "waiting", "running", "done", "cancelled", "expired"] as const)
      assert.equal(decideSwap(job(2, state, [runner(TAKEN)]), thief, TAKEN, POOLS).kind, "none", state);
    assert.equal(decideSwap(undefined, thief, TAKEN, POOLS).kind, "none");
    const twoRunners = job(2, "launched", [runner(TAKEN), runner("x64-2-cccccc")]);
    assert.equal(decideSwap(twoRunners, thief, TAKEN, POOLS).kind, "none");
    // A launching job that lists the taken runner got it from an earlier attempt: its new launch serves it.
    assert.equal(decideSwap(job(2, "launching", [runner(TAKEN, {})]), thief, TAKEN, POOLS).kind, "none");
    // A launching job whose in-flight runner was taken (not recorded yet) is launched again.
    assert.equal(decideSwap(job(2, "launching", []), thief, TAKEN, POOLS).kind, "requeue");
  });

  it("matches labels case-insensitively, by the pool in the runner's name", () => {
    assert.equal(canServe("gpu-7-abcdef", ["GPU", "Linux"], POOLS), true);
    assert.equal(canServe("x64-7-abcdef", ["gpu"], POOLS), false);
    assert.equal(canServe("unknown-7-abcdef", ["linux"], POOLS), false);
    assert.deepEqual(
      servingRunners({
        runners: [runner("a", { endedAt: AT }), runner("b"), runner("c", { launchedAt: "2026-05-01T11:00:00.000Z" })],
      }).map((r) => r.runnerName),
      ["c", "b"],
    );
  });
});
