/**
 * What a run did to GitHub's jobs, counted from the stand-in's view (jobs, and the history of every runner) and the
 * simulated instances — the numbers issue 12 asks every scenario, replay and bench to report:
 *
 * - jobs seen: jobs GitHub had; jobs run: jobs that started on a runner; jobs cancelled: cancelled before a runner
 *   took them; jobs lost: neither run nor cancelled by the end (still queued or waiting, or failed by GitHub's
 *   24-hour limit).
 * - runners are judged by what became of them (GitHub gives a queued job to ANY online idle runner whose labels fit,
 *   so a runner launched for one job often runs another; what counts is that no runner is left over). A runner
 *   launched for a job (the job id in its name, contract/names.ts; warm runners are left out) that came online and
 *   ran no job was one too many. It is traced back through the jobs that took other jobs' runners: from the job its
 *   name names, to the job whose runner that job ran on, and so on, until a job that never ran. If that job was
 *   cancelled before it started, the left-over runner is the cancellation's ("runners for jobs cancelled before they
 *   started": a launch that raced the cancellation; at most one per cancelled job), reported apart with how long it
 *   stayed idle. Every other left-over runner is a duplicate runner: a second runner for a job that had one, a
 *   runner for a job that had already started elsewhere, or a second left-over of one cancelled job.
 * - runners that never came online (withdrawn before they could boot, over capacity or their job gone, or whose
 *   instance never booted): reported apart; no job could have got them.
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
  /** Runners that came online, ran no job, and are not explained by a cancellation (see above). */
  duplicateRunners: number;
  duplicateRunnerNames: string[];
  /** Runners that came online and ran no job because the job they trace back to was cancelled before it started. */
  runnersForCancelledJobs: number;
  runnersForCancelledJobNames: string[];
  /** The longest of those runners' idle times (online until removed, or until the end), seconds. */
  runnersForCancelledJobsMaxIdleSeconds: number;
  /** Runners registered for a job that never came online (withdrawn before booting, or never booted). */
  runnersNeverOnline: number;
  idleRunnerMinutes: number;
  /** Runners still registered, online and idle at the end. */
  idleRunnersLeft: number;
  busyRunnersKilled: number;
}

function ran(job: StandInJob): boolean {
  return job.startedAt !== undefined && job.runnerId !== undefined;
}

export interface RunnerVerdicts {
  duplicates: RunnerHistory[];
  /** Left-over runners put on a cancellation, with the cancelled job and how long the runner idled. */
  forCancelledJobs: { runner: RunnerHistory; cancelledJob: number; idleSeconds: number }[];
  neverOnline: RunnerHistory[];
}

const jobOf = (name: string | undefined): number | undefined => {
  const parsed = name === undefined ? undefined : parseRunnerName(name);
  return parsed && parsed.jobId !== "warm" ? parsed.jobId : undefined;
};

/**
 * The job a left-over runner named for `jobId` traces back to: follow "this job ran on the runner named for that
 * job" until a job that did not run (undefined when the chain ends at a job that ran on its own runner, on a warm or
 * foreign runner, or loops).
 */
function originOf(jobs: ReadonlyMap<number, StandInJob>, jobId: number): StandInJob | undefined {
  const seen = new Set<number>();
  for (let id: number | undefined = jobId; id !== undefined && !seen.has(id); ) {
    seen.add(id);
    const job = jobs.get(id);
    if (!job) return undefined;
    if (job.startedAt === undefined) return job;
    const next = jobOf(job.runnerName);
    if (next === id) return undefined;
    id = next;
  }
  return undefined;
}

/** Every job runner's verdict (see the module comment); `now` ends the idle time of runners still registered. */
export function classifyRunners(
  jobs: ReadonlyMap<number, StandInJob>,
  history: Iterable<RunnerHistory>,
  now = Number.POSITIVE_INFINITY,
): RunnerVerdicts {
  const verdicts: RunnerVerdicts = { duplicates: [], forCancelledJobs: [], neverOnline: [] };
  const explained = new Set<number>();
  const runners = [...history].sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
  for (const runner of runners) {
    const jobId = jobOf(runner.name);
    if (jobId === undefined || runner.assignedAt !== undefined) continue;
    if (runner.onlineAt === undefined) {
      verdicts.neverOnline.push(runner);
      continue;
    }
    const origin = originOf(jobs, jobId);
    if (origin && origin.conclusion === "cancelled" && !explained.has(origin.id)) {
      explained.add(origin.id);
      const idleMs = Math.min(runner.removedAt ?? now, now) - runner.onlineAt;
      verdicts.forCancelledJobs.push({
        runner,
        cancelledJob: origin.id,
        idleSeconds: Number.isFinite(idleMs) ? Math.round(idleMs / 100) / 10 : Number.POSITIVE_INFINITY,
      });
    } else verdicts.duplicates.push(runner);
  }
  return verdicts;
}

export function summarize(github: GitHubApi, instances: Iterable<InstanceRecord>, now: number): RunSummary {
  const jobs = [...github.jobs.values()];
  const lost = jobs.filter((j) => !ran(j) && j.conclusion !== "cancelled");
  const history = [...github.runnerHistory.values()];
  const verdicts = classifyRunners(github.jobs, history, now);
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
    duplicateRunners: verdicts.duplicates.length,
    duplicateRunnerNames: verdicts.duplicates.map((r) => r.name),
    runnersForCancelledJobs: verdicts.forCancelledJobs.length,
    runnersForCancelledJobNames: verdicts.forCancelledJobs.map((r) => r.runner.name),
    runnersForCancelledJobsMaxIdleSeconds: Math.max(0, ...verdicts.forCancelledJobs.map((r) => r.idleSeconds)),
    runnersNeverOnline: verdicts.neverOnline.length,
    idleRunnerMinutes: Math.round((idleMs / 60_000) * 100) / 100,
    idleRunnersLeft: [...github.runners.values()].filter((r) => r.status === "online" && !r.busy).length,
    busyRunnersKilled: [...instances].filter((i) => i.killedBusy).length,
  };
}
