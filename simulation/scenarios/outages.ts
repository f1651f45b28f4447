/**
 * Outages. A 30-minute GitHub outage: the webhook still hears of jobs, but every API call fails (no JIT config);
 * launches retry with backoff and the jobs start once GitHub is back. A webhook outage: the endpoint answers 503,
 * GitHub records the deliveries as failed and does not retry; the redeliver function finds them through the
 * deliveries API and has them redelivered.
 */
import { type Scenario, close, poolWith, queueJob, settle, until } from "./kit";
import { MINUTE_MS } from "../scheduler";

export const githubOutage30m: Scenario = async (pipeline, say) => {
  const startedAt = pipeline.clock.now();
  const pool = poolWith(pipeline, ["self-hosted", "linux", "x64"]);
  pipeline.github.setOutage(503);
  const jobs = [queueJob(pipeline, pool.labels), queueJob(pipeline, pool.labels)];
  say(`  GitHub's API is down; jobs ${jobs.map((j) => j.id).join(", ")} queued`);
  await settle(pipeline);
  await pipeline.scheduler.advance(30 * MINUTE_MS);
  const queuedThroughout = jobs.every((j) => j.status === "queued");
  pipeline.github.setOutage(undefined);
  say("  GitHub is back after 30 simulated minutes");
  await pipeline.scheduler.advance(5 * MINUTE_MS);
  await until("every job runs", () => jobs.every((j) => j.status !== "queued"), 90_000);
  return close(pipeline, "github-outage-30m", startedAt, { queuedThroughout });
};

export const webhookOutageRedelivery: Scenario = async (pipeline, say) => {
  const startedAt = pipeline.clock.now();
  const pool = poolWith(pipeline, ["self-hosted", "linux", "x64"]);
  pipeline.setWebhookOutage(503);
  const jobs = [queueJob(pipeline, pool.labels), queueJob(pipeline, ["self-hosted", "linux"])];
  await pipeline.github.deliveriesSettled();
  const failed = pipeline.github.hookDeliveries.filter((d) => d.statusCode >= 400).length;
  say(`  the webhook endpoint answers 503: ${failed} deliveries failed (GitHub does not retry them)`);
  pipeline.setWebhookOutage(undefined);
  await pipeline.scheduler.advance(10 * MINUTE_MS);
  await until("every job runs", () => jobs.every((j) => j.status !== "queued"), 90_000);
  const redeliveries = pipeline.github.hookDeliveries.filter((d) => d.redelivery).length;
  say(`  ${redeliveries} redeliveries requested by the redeliver function`);
  return close(pipeline, "webhook-outage-redelivery", startedAt, { failed, redeliveries });
};

export const redeliveryAfter10m: Scenario = async (pipeline, say) => {
  const startedAt = pipeline.clock.now();
  const pool = poolWith(pipeline, ["self-hosted", "linux", "x64"]);
  const job = queueJob(pipeline, pool.labels);
  await until(`job ${job.id} completes`, () => job.status === "completed", 90_000);
  await settle(pipeline);
  await pipeline.scheduler.advance(10 * MINUTE_MS);
  // Someone presses "Redeliver" on the job's `queued` delivery ten minutes later (outside SQS's 5-minute window).
  const queued = pipeline.github.hookDeliveries.find(
    (d) => d.action === "queued" && (d.request.payload.workflow_job as { id: number }).id === job.id,
  );
  if (!queued) throw new Error(`no queued delivery for job ${job.id}`);
  const before = pipeline.github.runnerHistory.size;
  pipeline.github.redeliver(queued.id);
  await settle(pipeline);
  const runnersAfter = pipeline.github.runnerHistory.size - before;
  say(`  the queued delivery redelivered after 10 simulated minutes: ${runnersAfter} runner(s) launched`);
  return close(pipeline, "redelivery-after-10m", startedAt, { runnersLaunchedByRedelivery: runnersAfter });
};
