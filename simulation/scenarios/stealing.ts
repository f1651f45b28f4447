/**
 * Stealing: job A asks for fewer labels (`self-hosted, linux`) than job B's pool; both are queued, and B's runner
 * comes online first. GitHub gives it to A (the oldest queued job whose labels it has). The ledger sees
 * `in_progress` for A on B's runner while B still waits, and hands A's own runner (same pool, so it offers all of
 * B's labels) to B instead of launching again: B runs on the runner launched for A, and no runner is left over.
 */
import { parseRunnerName } from "../../contract/names";
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
  await pipeline.resumeInstanceBoots();
  await until(`job ${b.id} runs`, () => b.status !== "queued", 90_000);
  const launchedFor = b.runnerName ? parseRunnerName(b.runnerName)?.jobId : undefined;
  say(`  job ${b.id} runs on ${b.runnerName}, the runner launched for job ${launchedFor}`);
  return close(pipeline, "stealing", startedAt, {
    stolenRunner: stolen,
    stolenFromJob: b.id,
    jobBRanOn: b.runnerName,
    jobBRanOnTheRunnerOfJob: launchedFor,
  });
};
