/**
 * Stealing: job A asks for fewer labels (`self-hosted, linux`) than job B's pool; both are queued, and B's runner
 * comes online first. GitHub gives it to A (the oldest queued job whose labels it has). The ledger sees
 * `in_progress` for A on B's runner while B is still queued and launches again for B; A's own runner, when it
 * comes online with nothing to do, is ended.
 */
import { type Scenario, close, poolWith, queueJob, settle, until } from "./kit";

export const stealing: Scenario = async (pipeline, say) => {
  const startedAt = pipeline.clock.now();
  const pool = poolWith(pipeline, ["self-hosted", "linux", "x64"]);
  pipeline.pauseInstanceBoots();
  const a = queueJob(pipeline, ["self-hosted", "linux"]);
  const b = queueJob(pipeline, pool.labels);
  say(`  job ${a.id} [self-hosted, linux] and job ${b.id} [${pool.labels.join(", ")}] queued; instances held`);
  await settle(pipeline);
  await pipeline.resumeInstanceBoots([b.id]);
  await until(`job ${a.id} runs`, () => a.status !== "queued");
  const stolen = a.runnerName ?? "";
  say(`  job ${a.id} took ${stolen}, the runner launched for job ${b.id}`);
  await until(`job ${b.id} runs`, () => b.status !== "queued", 90_000);
  say(`  job ${b.id} runs on ${b.runnerName}`);
  await pipeline.resumeInstanceBoots();
  return close(pipeline, "stealing", startedAt, {
    stolenRunner: stolen,
    stolenFromJob: b.id,
    jobBRanOn: b.runnerName,
  });
};
