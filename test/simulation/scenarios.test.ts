/**
 * Issue 12's named scenarios, each on a fresh simulated pipeline (dev stack in moto, the GitHub stand-in, the REAL
 * functions): every one must end with no job lost, no duplicate runner, no busy runner killed and no idle runner
 * left, and show what it set out to show.
 */
import assert from "node:assert/strict";
import { parseRunnerName } from "../../contract/names.js";
import { startPipeline, type Pipeline } from "../../simulation/pipeline.js";
import { problems, SCENARIOS, type ScenarioReport } from "../../simulation/scenarios/index.js";

const CHECKS: Record<string, (facts: Record<string, any>, report: ScenarioReport) => void> = {
  stealing(facts) {
    assert.equal(parseRunnerName(facts.stolenRunner)?.jobId, facts.stolenFromJob, "A ran on the runner launched for B");
    assert.notEqual(facts.jobBRanOn, facts.stolenRunner);
    // A's own runner is handed to B (same pool): no second launch for B, no runner left idle.
    assert.notEqual(facts.jobBRanOnTheRunnerOfJob, facts.stolenFromJob, "B runs on the runner launched for A");
    assert.equal(typeof facts.jobBRanOnTheRunnerOfJob, "number");
  },
  "cancel-before-start"(facts) {
    assert.equal(facts.idleAfterBoot, 1, "the cancelled job's runner came online with nothing to do");
    assert.equal(facts.idleAfterAMinute, 0, "and was ended within a simulated minute");
  },
  "capacity-wait-2h"(facts, report) {
    assert.equal(facts.stillQueued, true, "the job still waited after two simulated hours");
    assert.equal(facts.deadLettered, 0, "nothing in the dead-letter queue");
    assert.ok(report.simulatedMinutes >= 120);
  },
  "github-outage-30m"(facts) {
    assert.equal(facts.queuedThroughout, true);
  },
  "webhook-outage-redelivery"(facts) {
    assert.ok(facts.failed >= 2, `${facts.failed} failed deliveries`);
    assert.ok(facts.redeliveries >= 2, `${facts.redeliveries} redeliveries`);
  },
  "redelivery-after-10m"(facts) {
    assert.equal(facts.runnersLaunchedByRedelivery, 0);
  },
  "reaper-pagination-race"(facts) {
    assert.equal(facts.stillRunning, facts.ours, "every busy runner survived the reaper");
  },
};

for (const [name, scenario] of Object.entries(SCENARIOS)) {
  describe(`scenario ${name}: ${scenario.describe}`, function () {
    this.timeout(600_000);
    let pipeline: Pipeline | undefined;
    let report: ScenarioReport;

    before(async () => {
      pipeline = await startPipeline({ stack: "dev" });
      report = await scenario.run(pipeline, () => undefined);
    });
    after(async () => pipeline?.stop());

    it("loses no job, launches no duplicate runner, kills no busy runner, leaves no idle runner", () => {
      assert.deepEqual(problems(report), [], JSON.stringify(report.summary));
      assert.ok(report.summary.jobsSeen > 0);
      assert.equal(report.summary.jobsLost, 0);
      assert.equal(report.summary.duplicateRunners, 0);
    });

    it("shows what the scenario is about", () => {
      assert.ok(CHECKS[name], `no check for scenario ${name}`);
      CHECKS[name](report.facts, report);
    });
  });
}
