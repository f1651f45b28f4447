/** The bench report's ledger table (bench/report.ts): every runner verdict of the run accounting gets a row. */
import { strict as assert } from "node:assert";
import { ledgerTable } from "../../bench/report";
import type { RunSummary } from "../../simulation/accounting";

const summary: RunSummary = {
  jobsSeen: 10,
  jobsRun: 8,
  jobsCancelled: 2,
  jobsLost: 0,
  lostJobIds: [],
  duplicateRunners: 0,
  duplicateRunnerNames: [],
  runnersForCancelledJobs: 1,
  runnersForCancelledJobNames: ["linux-x64-9-abcdef"],
  runnersForCancelledJobsMaxIdleSeconds: 42,
  runnersNeverOnline: 3,
  idleRunnerMinutes: 1,
  idleRunnersLeft: 0,
  busyRunnersKilled: 0,
};

describe("bench report: ledger burst table", () => {
  it("reports runners left over by cancellations (with the longest idle time) and runners never online", () => {
    const rows = ledgerTable({
      jobs: 10,
      cancelled: 2,
      fewerLabels: 0,
      summary,
      callsPerJob: { dynamodb: 1, sqs: 1, ec2: 1, github: 1 },
      simulatedMinutes: 5,
      wallSeconds: 9,
    });
    const row = (start: string) => rows.find((r) => r.startsWith(`| ${start}`));
    assert.match(row("duplicate runners") ?? "", /\| 0 \| 0 \| pass/i);
    assert.match(row("runners for jobs cancelled before they started") ?? "", /\| 1 \(longest idle 42 s\) \|/);
    assert.match(row("runners that never came online") ?? "", /\| 3 \|/);
  });
});
