/** The named scenarios of `npm run simulate -- --scenario <name>` (docs/simulation.md describes each). */
import type { Scenario } from "./kit";
import { cancelBeforeStart } from "./cancel-before-start";
import { capacityWait2h } from "./capacity-wait";
import { githubOutage30m, redeliveryAfter10m, webhookOutageRedelivery } from "./outages";
import { reaperPaginationRace } from "./reaper-race";
import { stealing } from "./stealing";

export type { Scenario, ScenarioReport } from "./kit";

export const SCENARIOS: Record<string, { describe: string; run: Scenario }> = {
  stealing: {
    describe: "a job with fewer labels takes another job's runner; that job gets the thief's own runner",
    run: stealing,
  },
  "cancel-before-start": {
    describe: "a job cancelled while its instance boots: the idle runner ends",
    run: cancelBeforeStart,
  },
  "capacity-wait-2h": { describe: "a job waits two simulated hours for pool capacity, then runs", run: capacityWait2h },
  "github-outage-30m": { describe: "GitHub's API down for 30 simulated minutes: launches retry", run: githubOutage30m },
  "webhook-outage-redelivery": {
    describe: "the webhook answers 503; the redeliver function recovers the failed deliveries",
    run: webhookOutageRedelivery,
  },
  "redelivery-after-10m": {
    describe: "a finished job's queued delivery redelivered 10 minutes later",
    run: redeliveryAfter10m,
  },
  "reaper-pagination-race": {
    describe: "a runner leaves between two pages of the runner list while the reaper reads it",
    run: reaperPaginationRace,
  },
};

/** What every scenario must end with: no job lost, no duplicate runner, no busy runner killed, no idle one left. */
export function problems(report: { summary: import("../accounting").RunSummary }): string[] {
  const s = report.summary;
  const out: string[] = [];
  if (s.jobsLost) out.push(`${s.jobsLost} job(s) lost: ${s.lostJobIds.join(", ")}`);
  if (s.duplicateRunners) out.push(`${s.duplicateRunners} duplicate runner(s): ${s.duplicateRunnerNames.join(", ")}`);
  if (s.busyRunnersKilled) out.push(`${s.busyRunnersKilled} busy runner(s) killed`);
  if (s.idleRunnersLeft) out.push(`${s.idleRunnersLeft} idle runner(s) left`);
  return out;
}
