/**
 * What a run did to GitHub's jobs, counted from the stand-in's view (jobs, and the history of every runner) and the
 * simulated instances — the numbers issue 12 asks every scenario, replay and bench to report:
 *
 * - jobs seen: jobs GitHub had; jobs run: jobs that started on a runner; jobs cancelled: cancelled before a runner
 *   took them; jobs lost: neither run nor cancelled by the end (still queued or waiting, or failed by GitHub's
 *   24-hour limit).
 * - duplicate runners: runners launched for a job (the job id in the runner's name, contract/names.ts) while that
 *   job already had a usable runner (an earlier one launched for it, not yet taken by any job and not yet removed),
 *   or after the job had already started or completed. A relaunch for a job whose runner another job took (stealing)
 *   or whose runner was ended is not a duplicate.
 * - idle runner-minutes: simulated minutes runners spent online without a job (until they took one, were removed,
 *   or the run ended).
 * - busy runners killed: instances a function terminated while their runner was running a job.
 */
import { parseRunnerName } from "../contract/names";
import type { GitHubApi, RunnerHistory, StandInJob } from "../testkit/github/server";
import type { InstanceRecord } from "./instances";

export interface RunSummary {
  jobsSeen: number;
  jobsRun: number;
  jobsCancelled: number;
  jobsLost: number;
  lostJobIds: number[];
  duplicateRunners: number;
  duplicateRunnerNames: string[];
  idleRunnerMinutes: number;
  /** Runners still registered, online and idle at the end. */
  idleRunnersLeft: number;
  busyRunnersKilled: number;
}

function ran(job: StandInJob): boolean {
  return job.startedAt !== undefined && job.runnerId !== undefined;
}

/** Runners launched for a job that already had a usable runner, had started, or had completed. */
export function duplicateRunners(jobs: Map<number, StandInJob>, history: Iterable<RunnerHistory>): RunnerHistory[] {
  const byJob = new Map<number, RunnerHistory[]>();
  for (const runner of history) {
    const parsed = parseRunnerName(runner.name);
    if (!parsed || parsed.jobId === "warm") continue;
    const list = byJob.get(parsed.jobId) ?? [];
    list.push(runner);
    byJob.set(parsed.jobId, list);
  }
  const duplicates: RunnerHistory[] = [];
  for (const [jobId, runners] of byJob) {
    const job = jobs.get(jobId);
    runners.sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
    runners.forEach((runner, i) => {
      const at = runner.createdAt;
      const usable = runners
        .slice(0, i)
        .some(
          (earlier) =>
            (earlier.assignedAt === undefined || earlier.assignedAt > at) && (earlier.removedAt ?? Infinity) > at,
        );
      const late =
        job !== undefined &&
        ((job.startedAt !== undefined && job.startedAt <= at) ||
          (job.completedAt !== undefined && job.completedAt <= at));
      if (usable || late) duplicates.push(runner);
    });
  }
  return duplicates;
}

export function summarize(github: GitHubApi, instances: Iterable<InstanceRecord>, now: number): RunSummary {
  const jobs = [...github.jobs.values()];
  const lost = jobs.filter((j) => !ran(j) && j.conclusion !== "cancelled");
  const history = [...github.runnerHistory.values()];
  const duplicates = duplicateRunners(github.jobs, history);
  let idleMs = 0;
  for (const runner of history) {
    if (runner.onlineAt === undefined) continue;
    idleMs += Math.max(0, (runner.assignedAt ?? runner.removedAt ?? now) - runner.onlineAt);
  }
  return {
    jobsSeen: jobs.length,
    jobsRun: jobs.filter(ran).length,
    jobsCancelled: jobs.filter((j) => !ran(j) && j.conclusion === "cancelled").length,
    jobsLost: lost.length,
    lostJobIds: lost.map((j) => j.id),
    duplicateRunners: duplicates.length,
    duplicateRunnerNames: duplicates.map((r) => r.name),
    idleRunnerMinutes: Math.round((idleMs / 60_000) * 100) / 100,
    idleRunnersLeft: [...github.runners.values()].filter((r) => r.status === "online" && !r.busy).length,
    busyRunnersKilled: [...instances].filter((i) => i.killedBusy).length,
  };
}
