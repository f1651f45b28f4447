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
import { canServe, holderStep, MAX_HAND_OVERS, type PoolLabels } from "../core/jobs/swap.js";

/** More hand-overs than any real chain: the caller retries later (record-job) or leaves the runner unplaced. */
export class TooManyHandOvers extends Error {}

/**
 * The job `runnerName` serves now: the job its name names (`namedJobId`), or the job that runner was handed on to.
 * Undefined when a record on the way is missing.
 */
export async function findHolder(
  ledger: Ledger,
  namedJobId: number,
  runnerName: string,
): Promise<JobRecord | undefined> {
  let jobId = namedJobId;
  for (let hop = 0; hop < MAX_HAND_OVERS; hop++) {
    const record = await getJob(ledger, jobId);
    if (!record) return undefined;
    const step = holderStep(record, runnerName);
    if ("holder" in step) return step.holder;
    jobId = step.follow;
  }
  throw new TooManyHandOvers(`runner ${runnerName}: more than ${MAX_HAND_OVERS} hand-overs; it will be retried`);
}

/** The queued job that lost runner `runnerName` to job `thiefId`, if any. */
async function requeuedVictim(ledger: Ledger, runnerName: string, thiefId: number) {
  const named = parseRunnerName(runnerName)?.jobId;
  if (typeof named !== "number") return undefined;
  const holder = await findHolder(ledger, named, runnerName).catch((error: unknown) => {
    if (error instanceof TooManyHandOvers) return undefined;
    throw error;
  });
  const taken = holder?.runners.find((r) => r.runnerName === runnerName)?.takenBy === thiefId;
  return taken && holder?.state === "queued" ? holder : undefined;
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
