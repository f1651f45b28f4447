/**
 * A runner the launcher started for a job that meanwhile started on another job's runner (it was still being
 * launched when that runner took it). The job it took from was queued again for a new runner (core/jobs/swap.ts);
 * this one, of the same or a compatible pool, serves it instead, and that job's pending launch request then finds
 * it `launched` and launches nothing. Otherwise nobody needs it: the launcher withdraws it before it boots.
 */
import type { JobRecord, LaunchedRunner } from "../../contract/ledger.js";
import { parseRunnerName } from "../../contract/names.js";
import { getJob, type Ledger } from "../adapters/ledger.js";
import { handOverNewRunner } from "../adapters/ledger-transfer.js";
import { canServe, holderStep, type PoolLabels } from "../core/jobs/swap.js";

const MAX_HOPS = 8;

/** The queued job that lost runner `runnerName` to job `thiefId`, if any. */
async function requeuedVictim(ledger: Ledger, runnerName: string, thiefId: number) {
  const named = parseRunnerName(runnerName)?.jobId;
  let jobId = typeof named === "number" ? named : undefined;
  for (let hop = 0; jobId !== undefined && hop < MAX_HOPS; hop++) {
    const record = await getJob(ledger, jobId);
    if (!record) return undefined;
    const step = holderStep(record, runnerName);
    if ("follow" in step) jobId = step.follow;
    else {
      const taken = record.runners.find((r) => r.runnerName === runnerName)?.takenBy === thiefId;
      return taken && record.state === "queued" ? record : undefined;
    }
  }
  return undefined;
}

/**
 * Hands `runner`, started for `job` (its record as it now is), to the queued job whose runner `job` took. True when
 * the hand-over landed; false when no job is waiting for it (the caller withdraws the runner).
 */
export async function handOverSpareRunner(
  ledger: Ledger,
  job: JobRecord | undefined,
  runner: LaunchedRunner,
  pools: readonly PoolLabels[],
  now: Date,
): Promise<boolean> {
  if (job?.state !== "running" || !job.ranOn || job.ranOn === runner.runnerName) return false;
  const victim = await requeuedVictim(ledger, job.ranOn, job.jobId);
  if (!victim || !canServe(runner.runnerName, victim.labels, pools)) return false;
  return handOverNewRunner(ledger, victim, job.jobId, runner, now);
}
