/**
 * QueueToStartSeconds from the reconciler: a job whose `in_progress` delivery was lost is seen started through
 * GitHub's job API; the reconciler records the start (`startedAt`) and reports the wait, once, like the webhook.
 */
import { strict as assert } from "node:assert";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { JobRecord } from "../../../../contract/ledger.js";
import { METRIC } from "../../../../contract/metrics.js";
import { publishReconcileMetrics } from "../../../../runtime/handlers/reconciler.js";
import { planAfterCheck, queueToStartSeconds } from "../../../../runtime/core/reconcile/plan.js";
import type { ReconcileReport } from "../../../../runtime/services/reconcile-jobs.js";

const NOW = new Date("2025-06-02T12:00:00Z");
const launched: JobRecord = {
  jobId: 7,
  runId: 70,
  runAttempt: 1,
  repository: "acme/app",
  owner: "acme",
  labels: ["self-hosted", "linux"],
  pool: "linux-x64",
  state: "launched",
  version: 3,
  runners: [],
  attempts: 0,
  queuedAt: "2025-06-02T11:58:00Z",
  updatedAt: "2025-06-02T11:59:00Z",
  expiresAt: 1,
};

/** A Metrics stand-in that keeps what single metrics were published. */
function sink() {
  const published: { name: string; value: number; unit: string; pool?: string }[] = [];
  const metrics = {
    singleMetric() {
      let pool: string | undefined;
      return {
        addDimension: (_: string, value: string) => {
          pool = value;
        },
        addMetric: (name: string, unit: string, value: number) => published.push({ name, value, unit, pool }),
      };
    },
    addMetric: () => undefined,
  };
  return { published, metrics: metrics as unknown as Metrics };
}

describe("reconcile: QueueToStartSeconds for the starts it records", () => {
  it("records GitHub's start time when the record has none, and not over one the webhook wrote", () => {
    const job = {
      status: "in_progress",
      conclusion: null,
      runnerName: "linux-x64-7-abcdef",
      startedAt: "2025-06-02T11:59:30Z",
    };
    const step = planAfterCheck(launched, job, NOW);
    assert.equal(step.kind === "move" && step.move.startedAt, "2025-06-02T11:59:30Z");
    const done = planAfterCheck(launched, { ...job, status: "completed", conclusion: "success" }, NOW);
    assert.equal(done.kind === "move" && done.move.startedAt, "2025-06-02T11:59:30Z");
    const known = planAfterCheck({ ...launched, startedAt: "2025-06-02T11:59:31Z" }, job, NOW);
    assert.equal(known.kind === "move" && known.move.startedAt, undefined);
    assert.equal(queueToStartSeconds(launched.queuedAt, job.startedAt), 90);
    assert.equal(queueToStartSeconds(launched.queuedAt, undefined), undefined);
  });

  it("publishes the wait of a start it recorded on one of our runners, per pool, in seconds", () => {
    const report: ReconcileReport = {
      enqueued: [],
      moved: [
        {
          jobId: 7,
          pool: "linux-x64",
          from: "launched",
          to: "running",
          reason: "",
          ranOn: "linux-x64-7-abcdef",
          queueToStartSeconds: 90,
        },
        {
          jobId: 8,
          pool: "linux-x64",
          from: "launched",
          to: "running",
          reason: "",
          ranOn: "build-laptop",
          queueToStartSeconds: 5,
        },
        { jobId: 9, pool: "linux-x64", from: "launched", to: "running", reason: "", ranOn: "linux-x64-9-abcdef" },
      ],
      capacityWaits: [],
      idleRunnersEnded: [],
      failures: [],
    };
    const { published, metrics } = sink();
    publishReconcileMetrics(report, metrics);
    assert.deepEqual(
      published.filter((p) => p.name === METRIC.queueToStartSeconds),
      [{ name: METRIC.queueToStartSeconds, value: 90, unit: "Seconds", pool: "linux-x64" }],
    );
  });
});
