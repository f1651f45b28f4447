/**
 * The reaper pagination race (issue 12, finding 5): 100 runners of other teams fill the first page of the
 * organization's runner list, our busy runners come after them, and while the reaper pages through the list one
 * runner of page 1 leaves (an ephemeral runner ending its job). Every entry after it shifts up a place, so our
 * first busy runner moves onto page 1 after page 1 was read: a page-based reaper never sees it. It must look the
 * runner up before ending its instance, and never end a busy one.
 */
import { ENV } from "../../contract/names";
import { ROUTES } from "../../testkit/github/server";
import { MINUTE_MS } from "../scheduler";
import { type Scenario, close, poolWith, queueJob, settle, until } from "./kit";

/** GitHub's largest page, the one the reaper asks for. */
const PAGE = 100;

export const reaperPaginationRace: Scenario = async (pipeline, say) => {
  const startedAt = pipeline.clock.now();
  const scope = `org:${pipeline.environments.launcher.environment[ENV.githubOwner].toLowerCase()}`;
  const foreign = Array.from({ length: PAGE }, (_, i) =>
    pipeline.github.addRunner({ name: `other-team-${i}`, scope, labels: ["self-hosted", "gpu"], busy: true }),
  );
  const pool = poolWith(pipeline, ["self-hosted", "linux", "x64"]);
  const ours = Array.from({ length: 3 }, () => queueJob(pipeline, pool.labels, { durationMs: 60 * MINUTE_MS }));
  await until("our jobs run", () => ours.every((j) => j.status === "in_progress"), 120_000);
  await settle(pipeline);
  // Past the boot grace, so a runner the reaper does not see would count as "never registered".
  await pipeline.scheduler.advance(5 * MINUTE_MS);
  pipeline.github.afterNextCall(ROUTES.orgListRunners, () => pipeline.github.runners.delete(foreign[0].id));
  const result = await pipeline.runReaper();
  say(`  reaper with a runner leaving between pages: ${JSON.stringify(result)}`);
  const stillRunning = ours.filter((j) => j.status === "in_progress").length;
  for (const job of ours) if (job.status === "in_progress") pipeline.github.finishJob(job.id);
  for (const runner of foreign.slice(1)) pipeline.github.runners.delete(runner.id);
  return close(pipeline, "reaper-pagination-race", startedAt, { reaper: result, stillRunning, ours: ours.length });
};
