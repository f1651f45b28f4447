/**
 * Runners a finished job leaves idle, and how many launches a pool has room for. Pure.
 *
 * A just-in-time runner is not bound to its job (NOTES.md): when the job is cancelled, or finishes on another
 * runner, before its runner took it, the runner idles and counts toward `maxRunners`. Every live instance names
 * its runner, and the runner's name names the job it was launched for (`parseRunnerName`): a runner whose job is
 * `cancelled`, `done` or `expired` and that did not run that job is to be ended. The runner that ran the job ends
 * by itself (an ephemeral runner powers its instance off after its one job). Whether the runner took another job
 * meanwhile is for GitHub to say (busy, or a refused removal) before anything is terminated.
 */
import { type JobRecord, TERMINAL_STATES } from "../../../contract/ledger.js";
import { parseRunnerName } from "../../../contract/names.js";

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

export function idleRunnersOfEndedJobs(
  instances: readonly LiveInstance[],
  records: ReadonlyMap<number, JobRecord>,
): IdleRunner[] {
  return instances.flatMap((instance) => {
    if (instance.warm || !instance.runnerName) return [];
    const parsed = parseRunnerName(instance.runnerName);
    if (!parsed || parsed.jobId === "warm") return [];
    const record = records.get(parsed.jobId);
    if (!record || !TERMINAL_STATES.has(record.state) || record.ranOn === instance.runnerName) return [];
    return [
      {
        instanceId: instance.instanceId,
        runnerName: instance.runnerName,
        jobId: parsed.jobId,
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
