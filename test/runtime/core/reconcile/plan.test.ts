import { strict as assert } from "node:assert";
import type { JobRecord } from "../../../../contract/ledger.js";
import { handedOnTo, idleRunnersOfEndedJobs, jobIdsOf, launchBudget } from "../../../../runtime/core/reconcile/idle.js";
import { planAfterCheck, planJob, planRunnerCheck, type RunnerView } from "../../../../runtime/core/reconcile/plan.js";

const NOW = new Date("2025-06-02T12:00:00Z");
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();
const options = { now: NOW, bootGraceMs: 10 * 60_000, recheckAfterMs: 10 * 60_000 };

function record(overrides: Partial<JobRecord>): JobRecord {
  return {
    jobId: 7,
    runId: 70,
    runAttempt: 1,
    repository: "acme/app",
    owner: "acme",
    labels: ["self-hosted", "linux"],
    pool: "linux-x64",
    state: "queued",
    version: 3,
    runners: [],
    attempts: 0,
    queuedAt: ago(5),
    updatedAt: ago(1),
    expiresAt: 1,
    ...overrides,
  };
}

describe("reconcile: planJob and planAfterCheck", () => {
  it("expires a queued job past GitHub's 24-hour limit, launches a fresh one, rechecks a long-waiting one", () => {
    assert.equal(planJob(record({ queuedAt: ago(24 * 60) }), options).kind, "move");
    assert.deepEqual(planJob(record({}), options), { kind: "launch" });
    assert.deepEqual(planJob(record({ updatedAt: ago(10) }), options), { kind: "check" });
  });

  it("sends a launching record whose lease ran out back to queued with one more attempt", () => {
    const step = planJob(record({ state: "launching", attempts: 2 }), options);
    assert.ok(step.kind === "move");
    assert.deepEqual({ state: step.move.state, attempts: step.move.attempts }, { state: "queued", attempts: 3 });
  });

  it("leaves a launched job inside the boot grace and checks it afterwards; checks waiting jobs", () => {
    const runner = (minutes: number) => ({
      instanceId: "i-1",
      runnerName: "linux-x64-7-abcdef",
      launchedAt: ago(minutes),
    });
    assert.equal(planJob(record({ state: "launched", runners: [runner(9)] }), options).kind, "none");
    assert.equal(planJob(record({ state: "launched", runners: [runner(11)] }), options).kind, "check");
    // A relaunched job: the grace runs from its newest runner, wherever it sits in the list.
    assert.equal(planJob(record({ state: "launched", runners: [runner(30), runner(9)] }), options).kind, "none");
    assert.equal(planJob(record({ state: "launched", runners: [runner(9), runner(30)] }), options).kind, "none");
    assert.equal(planJob(record({ state: "launched", runners: [runner(30), runner(12)] }), options).kind, "check");
    // No runner recorded (a record written before runners were): the grace runs from its last write.
    assert.equal(planJob(record({ state: "launched", updatedAt: ago(9) }), options).kind, "none");
    assert.equal(planJob(record({ state: "launched", updatedAt: ago(11) }), options).kind, "check");
    assert.equal(planJob(record({ state: "waiting" }), options).kind, "check");
  });

  it("moves on from what GitHub reports", () => {
    const job = (status: string, runnerName: string | null = null) => ({ status, conclusion: null, runnerName });
    const moveOf = (r: JobRecord, j: Parameters<typeof planAfterCheck>[1]) => {
      const step = planAfterCheck(r, j, NOW);
      return step.kind === "move" ? step.move.state : step.kind;
    };
    assert.equal(moveOf(record({ state: "waiting" }), job("queued")), "queued", "approval granted");
    assert.equal(moveOf(record({ state: "waiting" }), job("waiting")), "none");
    assert.equal(moveOf(record({ state: "waiting" }), job("completed")), "cancelled");
    assert.equal(moveOf(record({ state: "launched" }), job("completed")), "cancelled");
    assert.equal(moveOf(record({ state: "launched" }), job("completed", "other-runner")), "done");
    assert.equal(moveOf(record({ state: "launched" }), job("in_progress", "linux-x64-7-abcdef")), "running");
    assert.equal(moveOf(record({ state: "launched" }), job("queued")), "check-runner", "is its runner alive?");
    assert.equal(moveOf(record({}), job("queued")), "launch");
    assert.equal(moveOf(record({}), undefined), "cancelled", "GitHub no longer knows the job");
  });
});

describe("reconcile: a launched job GitHub still queues after the boot grace", () => {
  const view = (overrides: Partial<RunnerView> = {}): RunnerView => ({
    runnerName: "linux-x64-7-abcdef",
    instanceId: "i-1",
    github: { id: 3, status: "online", busy: false },
    instanceLive: true,
    ...overrides,
  });
  const launched = record({ state: "launched", attempts: 2 });
  it("sends the job back to the queue (one more attempt, backoff) when its runner failed to start, and ends it", () => {
    for (const [dead, reason] of [
      [view({ github: { id: 3, status: "offline", busy: false } }), /offline after the boot grace/],
      [view({ github: undefined }), /not registered at GitHub/],
      [view({ instanceLive: false }), /instance .* is gone/],
    ] as const) {
      const step = planRunnerCheck(launched, dead, NOW);
      assert.equal(step.kind, "relaunch");
      assert.ok(step.kind === "relaunch");
      assert.equal(step.end, dead);
      assert.deepEqual(
        { ...step.move, lastError: undefined },
        {
          state: "queued",
          attempts: 3,
          nextAttemptAt: new Date(NOW.getTime() + 120_000).toISOString(),
          lastError: undefined,
        },
      );
      assert.match(step.move.lastError ?? "", reason);
    }
    const none = planRunnerCheck(launched, undefined, NOW);
    assert.ok(none.kind === "relaunch" && none.end === undefined, "no runner serves it: nothing to end");
  });

  it("leaves a runner online and idle (GitHub assigns it) and a busy one (another job took it)", () => {
    assert.equal(planRunnerCheck(launched, view(), NOW).kind, "none");
    assert.equal(
      planRunnerCheck(launched, view({ github: { id: 3, status: "online", busy: true } }), NOW).kind,
      "none",
    );
  });
});

describe("reconcile: idle runners of ended jobs", () => {
  const instance = (id: string, runnerName: string, warm = false) => ({ instanceId: id, runnerName, pool: "p", warm });
  it("names runners whose job ended without them, never the runner that ran it, a warm or a foreign one", () => {
    const instances = [
      instance("i-cancelled", "p-1-aaaaaa"),
      instance("i-ran", "p-2-bbbbbb"),
      instance("i-live", "p-3-cccccc"),
      instance("i-warm", "p-warm-dddddd", true),
      instance("i-foreign", "someone-else"),
    ];
    assert.deepEqual(jobIdsOf(instances), [1, 2, 3]);
    const records = new Map([
      [1, record({ jobId: 1, state: "cancelled" })],
      [2, record({ jobId: 2, state: "done", ranOn: "p-2-bbbbbb" })],
      [3, record({ jobId: 3, state: "launched" })],
    ]);
    assert.deepEqual(
      idleRunnersOfEndedJobs(instances, records, NOW).map((r) => r.instanceId),
      ["i-cancelled"],
    );
  });

  it("judges a runner handed on (swap) by the job it serves now, and ends a running job's spare runner", () => {
    const handed = { instanceId: "i-a", runnerName: "p-1-aaaaaa", launchedAt: ago(3) };
    const instances = [instance("i-a", "p-1-aaaaaa"), instance("i-spare", "p-4-eeeeee")];
    const records = new Map([
      // Job 1 ran on job 2's runner and its own runner now serves job 2, which waits for it.
      [1, record({ jobId: 1, state: "done", ranOn: "p-2-bbbbbb", runners: [{ ...handed, transferredTo: 2 }] })],
      [2, record({ jobId: 2, state: "launched", runners: [handed] })],
      // Job 4 runs on another runner; its own one has idled since.
      [4, record({ jobId: 4, state: "running", ranOn: "p-9-ffffff", updatedAt: ago(3) })],
    ]);
    assert.deepEqual(handedOnTo(new Map([[1, records.get(1) as JobRecord]])), [2]);
    assert.deepEqual(
      idleRunnersOfEndedJobs(instances, records, NOW).map((r) => r.instanceId),
      ["i-spare"],
    );
    // Once job 2 ended without it, the handed-on runner is idle; a job just started keeps its spare a while.
    records.set(2, record({ jobId: 2, state: "cancelled", runners: [handed] }));
    records.set(4, record({ jobId: 4, state: "running", ranOn: "p-9-ffffff", updatedAt: ago(0.5) }));
    assert.deepEqual(
      idleRunnersOfEndedJobs(instances, records, NOW).map((r) => [r.instanceId, r.jobId]),
      [["i-a", 2]],
    );
    // A chain whose record is missing decides nothing.
    records.delete(2);
    assert.deepEqual(idleRunnersOfEndedJobs(instances, records, NOW), []);
  });

  it("gives a pool the launches its free capacity allows, never fewer than none", () => {
    assert.equal(launchBudget(4, 1), 3);
    assert.equal(launchBudget(2, 5), 0);
  });
});
