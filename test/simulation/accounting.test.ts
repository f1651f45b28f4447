/**
 * The run accounting's runner verdicts (simulation/accounting.ts), on hand-made GitHub histories: what counts as a
 * duplicate runner, what as a runner left over by a cancellation, and what is neither.
 */
import { strict as assert } from "node:assert";
import { classifyRunners } from "../../simulation/accounting";
import type { RunnerHistory, StandInJob } from "../../testkit/github/server";

const S = 1000;

function job(id: number, fields: Partial<StandInJob> = {}): StandInJob {
  return {
    id,
    runId: id * 10,
    runAttempt: 1,
    owner: "acme",
    repository: "app",
    repositoryId: 1,
    labels: ["self-hosted", "linux", "x64"],
    status: "completed",
    conclusion: "success",
    createdAt: 0,
    durationMs: 300,
    ...fields,
  };
}

/** Job `id` ran on runner `runner` (its name) from `at`. */
function ran(id: number, runner: string, at: number): StandInJob {
  return job(id, { startedAt: at, completedAt: at + 300, runnerName: runner });
}

const cancelled = (id: number) => job(id, { conclusion: "cancelled", completedAt: 100 });

let nextId = 1;
function runner(name: string, fields: Partial<RunnerHistory> = {}): RunnerHistory {
  return { id: nextId++, name, createdAt: 1 * S, onlineAt: 5 * S, ...fields };
}

function verdicts(jobs: StandInJob[], history: RunnerHistory[]) {
  return classifyRunners(new Map(jobs.map((j) => [j.id, j])), history);
}

describe("accounting: duplicate runners", () => {
  it("counts nothing when every runner ran one job, even a runner that ran another job than its own", () => {
    const v = verdicts(
      [ran(1, "linux-x64-2-bbbbbb", 6 * S), ran(2, "linux-x64-1-aaaaaa", 6 * S)],
      [
        runner("linux-x64-1-aaaaaa", { assignedAt: 6 * S, jobId: 2 }),
        runner("linux-x64-2-bbbbbb", { assignedAt: 6 * S, jobId: 1 }),
      ],
    );
    assert.deepEqual([v.duplicates, v.forCancelledJobs, v.neverOnline], [[], [], []]);
  });

  it("counts a second runner for a job that ran on its first", () => {
    const v = verdicts(
      [ran(1, "linux-x64-1-aaaaaa", 6 * S)],
      [
        runner("linux-x64-1-aaaaaa", { assignedAt: 6 * S, jobId: 1 }),
        runner("linux-x64-1-bbbbbb", { createdAt: 7 * S, onlineAt: 9 * S, removedAt: 70 * S }),
      ],
    );
    assert.deepEqual(
      v.duplicates.map((r) => r.name),
      ["linux-x64-1-bbbbbb"],
    );
  });

  it("counts a runner that came online for a job that had already started elsewhere and took nothing", () => {
    const v = verdicts(
      [ran(1, "linux-x64-warm-aaaaaa", 2 * S)],
      [
        runner("linux-x64-warm-aaaaaa", { assignedAt: 2 * S, jobId: 1 }),
        runner("linux-x64-1-bbbbbb", { createdAt: 3 * S, removedAt: 70 * S }),
      ],
    );
    assert.deepEqual(
      v.duplicates.map((r) => r.name),
      ["linux-x64-1-bbbbbb"],
    );
  });

  it("puts the idle runner that ends a chain started by a cancelled job's runner on the cancellation, not on duplicates", () => {
    // Job 1 was cancelled before its runner came online; that runner took job 2, whose runner took job 3, whose
    // runner found nothing to take: one runner too many, because of the cancellation.
    const v = verdicts(
      [cancelled(1), ran(2, "linux-x64-1-aaaaaa", 6 * S), ran(3, "linux-x64-2-bbbbbb", 7 * S)],
      [
        runner("linux-x64-1-aaaaaa", { assignedAt: 6 * S, jobId: 2 }),
        runner("linux-x64-2-bbbbbb", { assignedAt: 7 * S, jobId: 3 }),
        runner("linux-x64-3-cccccc", { onlineAt: 8 * S, removedAt: 68 * S }),
      ],
    );
    assert.deepEqual(v.duplicates, []);
    assert.deepEqual(
      v.forCancelledJobs.map((r) => [r.runner.name, r.cancelledJob, r.idleSeconds]),
      [["linux-x64-3-cccccc", 1, 60]],
    );
  });

  it("explains at most one idle runner per cancelled job", () => {
    const v = verdicts(
      [cancelled(1)],
      [
        runner("linux-x64-1-aaaaaa", { removedAt: 65 * S }),
        runner("linux-x64-1-bbbbbb", { createdAt: 2 * S, removedAt: 65 * S }),
      ],
    );
    assert.equal(v.forCancelledJobs.length, 1);
    assert.deepEqual(
      v.duplicates.map((r) => r.name),
      ["linux-x64-1-bbbbbb"],
    );
  });

  it("reports runners that never came online apart: they never were a runner a job could get", () => {
    const v = verdicts(
      [ran(1, "linux-x64-1-bbbbbb", 9 * S)],
      [
        runner("linux-x64-1-aaaaaa", { onlineAt: undefined, removedAt: 2 * S }),
        runner("linux-x64-1-bbbbbb", { createdAt: 3 * S, onlineAt: 8 * S, assignedAt: 9 * S, jobId: 1 }),
      ],
    );
    assert.deepEqual(v.duplicates, []);
    assert.deepEqual(
      v.neverOnline.map((r) => r.name),
      ["linux-x64-1-aaaaaa"],
    );
  });

  it("leaves warm runners out: an idle warm runner is the warm pool's purpose", () => {
    const v = verdicts([], [runner("linux-x64-warm-aaaaaa", { removedAt: 600 * S })]);
    assert.deepEqual([v.duplicates, v.forCancelledJobs, v.neverOnline], [[], [], []]);
  });
});
