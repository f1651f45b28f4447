/**
 * A two-hour capacity wait on the fast clock: the smallest pool's `maxRunners` jobs run for two simulated hours,
 * and one more job waits for a runner the whole time. It must wait in the ledger (not be dead-lettered after
 * `maxReceiveCount` receives) and start once capacity frees.
 */
import { type Scenario, close, pools, queueJob, settle, until } from "./kit";
import { MINUTE_MS } from "../scheduler";

const HOUR_MS = 60 * MINUTE_MS;

export const capacityWait2h: Scenario = async (pipeline, say) => {
  const startedAt = pipeline.clock.now();
  const pool = [...pools(pipeline)].sort((x, y) => (x.maxRunners ?? 10) - (y.maxRunners ?? 10))[0];
  const max = pool.maxRunners ?? 10;
  // Hold the pool's capacity: these jobs run until the scenario ends them.
  const holders = Array.from({ length: max }, () => queueJob(pipeline, pool.labels, { durationMs: 10 * HOUR_MS }));
  await until(`${max} jobs run in ${pool.name}`, () => holders.every((j) => j.status === "in_progress"), 120_000);
  const waiter = queueJob(pipeline, pool.labels);
  say(`  pool ${pool.name} full (${max} jobs running); job ${waiter.id} waits for capacity`);
  await settle(pipeline);
  await pipeline.scheduler.advance(2 * HOUR_MS, 10 * MINUTE_MS);
  const state = await pipeline.state();
  const deadLettered = state.deadLetterQueue.visible + state.deadLetterQueue.inFlight;
  say(`  after two simulated hours: job ${waiter.id} ${waiter.status}, dead-letter queue ${deadLettered}`);
  const stillQueued = waiter.status === "queued";
  for (const job of holders) pipeline.github.finishJob(job.id);
  await settle(pipeline);
  await pipeline.scheduler.advance(2 * MINUTE_MS);
  await until(`job ${waiter.id} runs`, () => waiter.status !== "queued", 90_000);
  say(`  capacity freed: job ${waiter.id} runs on ${waiter.runnerName}`);
  return close(pipeline, "capacity-wait-2h", startedAt, {
    pool: pool.name,
    maxRunners: max,
    stillQueued,
    deadLettered,
  });
};
