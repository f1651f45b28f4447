/**
 * Runners a finished job leaves idle, and how many launches a pool has room for. Pure.
 *
 * A just-in-time runner is not bound to its job (NOTES.md): when the job is cancelled, or finishes on another
 * runner, before its runner took it, the runner idles and counts toward `maxRunners`. Every live instance names
 * its runner, and the runner's name names the job it was launched for (`parseRunnerName`): a runner whose job is
 * `cancelled`, `done` or `expired` and that did not run that job is to be ended. The runner that ran the job ends
 * by itself (an ephemeral runner powers its instance off after its one job). Whether the runner took another job
 * meanwhile is for GitHub to say (busy, or a refused removal) before anything is terminated.
 *
 * A runner handed on to another job (core/jobs/swap.ts: `transferredTo`) is judged by the job it serves now, not
 * the one its name names: ending it because the named job ended would leave the job it serves without a runner.
 * A job running on another runner leaves its own runner idle too, once that job's record has been still for
 * `SETTLE_MS` (a swap that hands the runner on follows the job's `running` write within a delivery).
 */
import { type JobRecord, TERMINAL_STATES } from "../../../contract/ledger.js";
import { parseRunnerName } from "../../../contract/names.js";
import { holderStep, MAX_HAND_OVERS } from "../jobs/swap.js";

export const SETTLE_MS = 2 * 60_000;

export interface LiveInstance {
  instanceId: string;
  pool?: string;
  runnerName?: string;
  repository?: string;
  warm: boolean;
}

export interface IdleRunner {
  instanceId: string;
  runnerName: string;
  jobId: number;
  pool?: string;
  repository?: string;
}

/** The job ids live job runners were launched for (warm and foreign runners have none). */
export function jobIdsOf(instances: readonly LiveInstance[]): number[] {
  const ids = instances.flatMap((i) => {
    const parsed = !i.warm && i.runnerName ? parseRunnerName(i.runnerName) : undefined;
    return parsed && parsed.jobId !== "warm" ? [parsed.jobId] : [];
  });
  return [...new Set(ids)];
}

/** Job ids the runners were handed on to, that `records` does not hold yet (to be read before deciding). */
export function handedOnTo(records: ReadonlyMap<number, JobRecord>): number[] {
  const ids = [...records.values()].flatMap((r) => r.runners.flatMap((e) => e.transferredTo ?? []));
  return [...new Set(ids)].filter((id) => !records.has(id));
}

/** The record of the job `runnerName` serves now, starting at `jobId` (its name's), if every record is at hand. */
export function holderOf(
  jobId: number,
  runnerName: string,
  records: ReadonlyMap<number, JobRecord>,
): JobRecord | undefined {
  let record = records.get(jobId);
  for (let hop = 0; record && hop < MAX_HAND_OVERS; hop++) {
    const step = holderStep(record, runnerName);
    if ("holder" in step) return step.holder;
    record = records.get(step.follow);
  }
  return undefined;
}

/** True when the job needs this runner no more: it ended, or it runs on another runner (for a while now). */
function leftIdle(record: JobRecord, runnerName: string, now: Date): boolean {
  if (record.ranOn === runnerName) return false;
  if (TERMINAL_STATES.has(record.state)) return true;
  return (
    record.state === "running" &&
    record.ranOn !== undefined &&
    now.getTime() - Date.parse(record.updatedAt) >= SETTLE_MS
  );
}

export function idleRunnersOfEndedJobs(
  instances: readonly LiveInstance[],
  records: ReadonlyMap<number, JobRecord>,
  now: Date,
): IdleRunner[] {
  return instances.flatMap((instance) => {
    if (instance.warm || !instance.runnerName) return [];
    const parsed = parseRunnerName(instance.runnerName);
    if (!parsed || parsed.jobId === "warm") return [];
    const record = holderOf(parsed.jobId, instance.runnerName, records);
    if (!record || !leftIdle(record, instance.runnerName, now)) return [];
    return [
      {
        instanceId: instance.instanceId,
        runnerName: instance.runnerName,
        jobId: record.jobId,
        ...(instance.pool ? { pool: instance.pool } : {}),
        ...(instance.repository ? { repository: instance.repository } : {}),
      },
    ];
  });
}

/** Launches a pool may take now: its free capacity, never negative. */
export function launchBudget(maxRunners: number, live: number): number {
  return Math.max(0, maxRunners - live);
}
