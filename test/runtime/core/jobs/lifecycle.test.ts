import assert from "node:assert/strict";
import fc from "fast-check";
import type { JobRecord } from "../../../../contract/ledger.js";
import { canMove } from "../../../../contract/ledger.js";
import { decideDelivery, type JobDelivery, type Verdict } from "../../../../runtime/core/jobs/lifecycle.js";

const NOW = new Date("2026-05-01T10:00:00Z");
const JOB = { jobId: 41, runId: 7, runAttempt: 1, repository: "acme/app", owner: "acme", labels: ["self-hosted"] };

function delivery(action: JobDelivery["action"], extra: Partial<JobDelivery> = {}): JobDelivery {
  const status = action === "waiting" ? "waiting" : action;
  return { action, status, job: JOB, pool: "linux", createdAt: "2026-05-01T09:59:00Z", ...extra };
}

/** Applies a verdict's write as the ledger would (the adapter's behaviour is tested against moto). */
function apply(verdict: Verdict, current: JobRecord | undefined): JobRecord | undefined {
  if (!verdict.write) return current;
  if (verdict.write.kind === "create")
    return {
      ...verdict.write.record,
      version: 0,
      runners: [],
      attempts: 0,
      updatedAt: NOW.toISOString(),
      expiresAt: 1,
    } as JobRecord;
  assert.ok(current && canMove(current.state, verdict.write.move.state));
  const next = { ...current, version: current.version + 1 } as Record<string, unknown>;
  for (const [k, v] of Object.entries(verdict.write.move))
    if (v === null) delete next[k];
    else next[k] = v;
  return next as JobRecord;
}

function replay(deliveries: JobDelivery[]): { record?: JobRecord; enqueued: number } {
  let record: JobRecord | undefined;
  let enqueued = 0;
  for (const d of deliveries) {
    const verdict = decideDelivery(d, record, NOW);
    record = apply(verdict, record);
    if (verdict.write && verdict.enqueue) enqueued++;
  }
  return { record, enqueued };
}

const RAN = "linux-41-a1b2c3";

describe("core/jobs: a job's lifecycle from its deliveries", () => {
  it("records a queued job and asks for one launch", () => {
    const verdict = decideDelivery(delivery("queued"), undefined, NOW);
    assert.equal(verdict.write?.kind, "create");
    assert.ok(verdict.write);
    assert.equal(verdict.enqueue, true);
    assert.equal(verdict.outcome, "queued");
    assert.equal(verdict.write.kind === "create" && verdict.write.record.queuedAt, "2026-05-01T09:59:00Z");
  });

  it("gives a job behind an approval no runner until GitHub queues it (GitHub's queued example has status waiting)", () => {
    const waiting = replay([delivery("queued", { status: "waiting" }), delivery("waiting")]);
    assert.equal(waiting.record?.state, "waiting");
    assert.equal(waiting.enqueued, 0);
    const approved = replay([delivery("queued", { status: "waiting" }), delivery("waiting"), delivery("queued")]);
    assert.equal(approved.record?.state, "queued");
    assert.equal(approved.enqueued, 1);
  });

  it("moves a queued job back to waiting when GitHub says it waits (nothing launched yet)", () => {
    assert.equal(replay([delivery("queued"), delivery("waiting")]).record?.state, "waiting");
  });

  it("records the runner a job started on, and when it started", () => {
    const { record } = replay([
      delivery("queued"),
      delivery("in_progress", { runnerName: RAN, startedAt: "2026-05-01T10:00:05Z" }),
    ]);
    assert.equal(record?.state, "running");
    assert.equal(record?.ranOn, RAN);
    assert.equal(record?.startedAt, "2026-05-01T10:00:05Z");
  });

  it("finishes a job that ran as done and one that never ran as cancelled", () => {
    const ran = [
      delivery("queued"),
      delivery("in_progress", { runnerName: RAN }),
      delivery("completed", { runnerName: RAN }),
    ];
    assert.equal(replay(ran).record?.state, "done");
    assert.equal(replay([delivery("queued"), delivery("completed")]).record?.state, "cancelled");
    assert.equal(replay([delivery("queued"), delivery("completed", { runnerName: RAN })]).record?.state, "done");
  });

  it("records a job first seen running or completed, so a late queued delivery launches nothing", () => {
    for (const first of [delivery("in_progress", { runnerName: RAN }), delivery("completed")]) {
      const { record, enqueued } = replay([first, delivery("queued")]);
      assert.notEqual(record?.state, "queued");
      assert.equal(enqueued, 0);
    }
  });

  it("names the job whose runner another job took, once", () => {
    const stolen = delivery("in_progress", { runnerName: "linux-99-abcdef" });
    const verdict = decideDelivery(stolen, undefined, NOW);
    assert.equal(verdict.write && verdict.tookRunnerOf, 99);
    const { record } = replay([delivery("queued"), stolen]);
    assert.equal(decideDelivery(stolen, record, NOW).write, undefined);
    for (const name of [RAN, "linux-warm-abcdef", "GitHub Actions 5", undefined]) {
      const v = decideDelivery(delivery("in_progress", { runnerName: name }), undefined, NOW);
      assert.equal(v.write && v.tookRunnerOf, undefined, String(name));
    }
  });

  describe("any order and any repetition of one job's deliveries", () => {
    const deliveries = fc.constantFrom(
      delivery("queued"),
      delivery("queued", { status: "waiting" }),
      delivery("waiting"),
      delivery("in_progress", { runnerName: RAN }),
      delivery("completed", { runnerName: RAN }),
      delivery("completed"),
    );

    it("only ever moves the record along the allowed transitions", () => {
      fc.assert(
        fc.property(fc.array(deliveries, { maxLength: 12 }), (sequence) => {
          replay(sequence); // `apply` asserts every move is allowed
        }),
      );
    });

    it("asks for a launch only when entering queued, and none once the job ran or ended", () => {
      fc.assert(
        fc.property(fc.array(deliveries, { maxLength: 12 }), (sequence) => {
          let record: JobRecord | undefined;
          let over = false;
          for (const d of sequence) {
            const verdict = decideDelivery(d, record, NOW);
            const next = apply(verdict, record);
            if (verdict.write && verdict.enqueue) {
              assert.equal(over, false, "a launch after the job ran or ended");
              assert.equal(next?.state, "queued");
              assert.notEqual(record?.state, "queued");
            }
            over ||= d.action === "in_progress" || d.action === "completed";
            record = next;
          }
        }),
      );
    });

    it("repeating a delivery right away changes nothing", () => {
      fc.assert(
        fc.property(fc.array(deliveries, { minLength: 1, maxLength: 12 }), (sequence) => {
          const once = replay(sequence);
          const twice = replay(sequence.flatMap((d) => [d, d]));
          assert.equal(twice.record?.state, once.record?.state);
          assert.equal(twice.enqueued, once.enqueued);
        }),
      );
    });

    it("ends in done or cancelled once completed has arrived", () => {
      fc.assert(
        fc.property(fc.array(deliveries, { maxLength: 12 }), deliveries, (sequence, last) => {
          const completed = replay([...sequence, delivery("completed"), last]).record?.state;
          assert.ok(completed === "done" || completed === "cancelled");
        }),
      );
    });
  });
});
