/**
 * Cancel before start: a job is cancelled while its instance is still booting. GitHub completes it `cancelled`
 * with no runner; the runner, once online, has nothing to take and must be deregistered and its instance ended
 * within a minute, not kept until `maxJobHours`.
 */
import { type Scenario, close, poolWith, queueJob, settle } from "./kit";
import { MINUTE_MS } from "../scheduler";

export const cancelBeforeStart: Scenario = async (pipeline, say) => {
  const startedAt = pipeline.clock.now();
  const pool = poolWith(pipeline, ["self-hosted", "linux", "x64"]);
  pipeline.pauseInstanceBoots();
  const job = queueJob(pipeline, pool.labels);
  await settle(pipeline);
  pipeline.github.cancelJob(job.id);
  say(`  job ${job.id} cancelled while its instance boots`);
  await settle(pipeline);
  await pipeline.resumeInstanceBoots();
  await settle(pipeline);
  const idleAfterBoot = [...pipeline.github.runners.values()].filter((r) => r.status === "online" && !r.busy).length;
  await pipeline.scheduler.advance(MINUTE_MS);
  await settle(pipeline);
  const idleAfterAMinute = [...pipeline.github.runners.values()].filter((r) => r.status === "online" && !r.busy).length;
  say(`  idle runners: ${idleAfterBoot} once booted, ${idleAfterAMinute} a simulated minute later`);
  return close(pipeline, "cancel-before-start", startedAt, { idleAfterBoot, idleAfterAMinute });
};
