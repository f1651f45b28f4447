/**
 * Stealing, by GitHub's rules: a just-in-time runner takes whichever queued job its labels fit, so the runners of
 * one pool are interchangeable for the jobs routed to it. When job T (the thief) starts on runner R that serves job
 * H (the holder), H has not lost a runner if T's own runner can serve H: GitHub gives H to the next idle runner
 * whose labels include all of H's, and T no longer needs its own. So T's runner is handed to H (the swap) and
 * nothing is launched; usually H's `in_progress` on T's runner arrives a moment later. Only when T has no runner
 * that fits H does H go back to `queued` and through the launcher (its claim and capacity check).
 *
 * Pure: the records and the pools in, one decision out; services/record-job.ts reads, writes and retries.
 */
import type { JobMove, JobRecord, LaunchedRunner } from "../../../contract/ledger.js";
import { parseRunnerName } from "../../../contract/names.js";
import { labelSet, type RuntimePool } from "../../../contract/pool.js";

export type PoolLabels = Pick<RuntimePool, "name" | "labels">;

/** A runner entry that still serves its record's job: not ended, not taken by another job, not handed on. */
export function serves(entry: LaunchedRunner): boolean {
  return !entry.endedAt && entry.takenBy === undefined && entry.transferredTo === undefined;
}

/** The record's runners that still serve it, newest first. */
export function servingRunners(record: Pick<JobRecord, "runners">): LaunchedRunner[] {
  return record.runners.filter(serves).sort((a, b) => b.launchedAt.localeCompare(a.launchedAt));
}

/**
 * A runner's current job is found within this many moves from the job its name names (each swap or steal adds one;
 * chains stay short). Every walk along hand-overs stops here.
 */
export const MAX_HAND_OVERS = 8;

/**
 * One step of finding the job a runner serves now, starting at the job its name names: the record holds it, or
 * handed it on to another job (follow), or does not list it yet (a launcher still recording it: this record).
 */
export function holderStep(record: JobRecord, runnerName: string): { holder: JobRecord } | { follow: number } {
  const entry = record.runners.find((r) => r.runnerName === runnerName);
  return entry?.transferredTo !== undefined ? { follow: entry.transferredTo } : { holder: record };
}

/** True when the runner's pool offers every label of the job (GitHub's rule, case-insensitive). */
export function canServe(runnerName: string, jobLabels: readonly string[], pools: readonly PoolLabels[]): boolean {
  const pool = pools.find((p) => p.name === parseRunnerName(runnerName)?.pool);
  if (!pool) return false;
  const offered = labelSet(pool.labels);
  return [...labelSet(jobLabels)].every((l) => offered.has(l));
}

export type SwapDecision =
  | { kind: "none"; reason: string }
  /** The thief's runner `runner` (at `thiefIndex` in its record) serves the holder from now on. */
  | { kind: "transfer"; runner: LaunchedRunner; thiefIndex: number; takenIndex: number; note: string }
  /** The holder needs a new runner: back to `queued` (one more attempt) and one launch request. */
  | { kind: "requeue"; move: JobMove; takenIndex: number };

/**
 * What job `thief` starting on `runnerName` means for `holder`, the job that runner served (holderStep). The
 * thief's record is read after its own `running` write; `holder` is undefined when no record names the runner.
 */
export function decideSwap(
  holder: JobRecord | undefined,
  thief: JobRecord,
  runnerName: string,
  pools: readonly PoolLabels[],
): SwapDecision {
  if (!holder) return { kind: "none", reason: `runner ${runnerName} names a job with no record` };
  if (holder.jobId === thief.jobId) return { kind: "none", reason: `runner ${runnerName} serves job ${thief.jobId}` };
  if (holder.state !== "launching" && holder.state !== "launched")
    return { kind: "none", reason: `job ${holder.jobId} is ${holder.state}: it needs no runner` };
  const takenIndex = holder.runners.findIndex((r) => r.runnerName === runnerName);
  const taken = holder.runners[takenIndex];
  if (taken?.takenBy !== undefined) return { kind: "none", reason: `runner ${runnerName} was already taken` };
  // A launching holder that lists the taken runner is an earlier attempt's: its launch in flight serves it.
  if (holder.state === "launching" && taken)
    return { kind: "none", reason: `job ${holder.jobId} has a launch in flight` };
  const others = servingRunners(holder).filter((r) => r.runnerName !== runnerName);
  if (holder.state === "launched" && others.length > 0)
    return { kind: "none", reason: `job ${holder.jobId} still has runner ${others[0].runnerName}` };

  const spare = servingRunners(thief).find(
    (r) => r.runnerName !== runnerName && canServe(r.runnerName, holder.labels, pools),
  );
  // A transfer keeps the holder's state, so it needs the holder's runner entry; a holder still `launching` has none
  // recorded yet and is relaunched instead.
  if (spare && holder.state === "launched")
    return {
      kind: "transfer",
      runner: spare,
      thiefIndex: thief.runners.indexOf(spare),
      takenIndex,
      note: `runner ${runnerName} was taken by job ${thief.jobId}; its runner ${spare.runnerName} serves this job`,
    };
  return {
    kind: "requeue",
    takenIndex,
    move: {
      state: "queued",
      attempts: holder.attempts + 1,
      nextAttemptAt: null,
      lastError: `runner ${runnerName} was taken by job ${thief.jobId}`,
    },
  };
}
