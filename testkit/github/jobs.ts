/**
 * Workflow jobs and their assignment to self-hosted runners, as GitHub does it
 * (docs.github.com/actions/hosting-your-own-runners/managing-self-hosted-runners/using-self-hosted-runners-in-a-workflow):
 * a queued job goes to an online, idle runner whose labels include all of the job's `runs-on` labels, compared
 * case-insensitively; the first such runner wins, whichever job it was started for. A just-in-time runner is
 * ephemeral: it takes one job and is removed when the job ends. Every status change is delivered to the hook as a
 * `workflow_job` event (payloads.ts), and `GET /repos/{owner}/{repo}/actions/jobs/{job_id}` reports it.
 *
 * Also modelled: cancellation (a queued job completes `cancelled` with no runner; a running one completes
 * `cancelled` and its ephemeral runner goes), environment approval (GitHub's examples deliver `queued` with status
 * `waiting` and `waiting`; on approval the job is queued and delivered `queued` again), and the 24-hour limit after
 * which GitHub fails a job no runner picked up.
 */
import { HookDeliveries } from "./hooks";
import { type WorkflowJobAction, type WorkflowJobConclusion, workflowJobPayload } from "./payloads";
import type { GitHubState, StandInRunner } from "./state";

/** GitHub fails a self-hosted job that waited 24 hours for a runner. */
export const QUEUE_LIMIT_MS = 24 * 60 * 60 * 1000;

export interface StandInJob {
  id: number;
  runId: number;
  runAttempt: number;
  owner: string;
  repository: string;
  repositoryId: number;
  labels: string[];
  status: "waiting" | "queued" | "in_progress" | "completed";
  conclusion: WorkflowJobConclusion;
  /** Simulated epoch ms. */
  createdAt: number;
  startedAt?: number;
  completedAt?: number;
  runnerId?: number;
  runnerName?: string;
  runnerGroupId?: number;
  /** How long it keeps its runner busy (real ms: the job's own work is not sped up). */
  durationMs: number;
}

export interface NewJob {
  id: number;
  owner: string;
  repository?: string;
  labels: string[];
  runId?: number;
  /** Waits for an environment's approval before it can be queued. */
  needsApproval?: boolean;
  durationMs?: number;
  /** false: the job exists on GitHub but its deliveries are made by hand (replays, hand-made scenarios). */
  deliver?: boolean;
}

/** What happened to a runner, for the simulation's accounting (simulated epoch ms). */
export interface RunnerHistory {
  id: number;
  name: string;
  createdAt: number;
  onlineAt?: number;
  assignedAt?: number;
  jobId?: number;
  removedAt?: number;
}

function lower(labels: string[]): Set<string> {
  return new Set(labels.map((l) => l.toLowerCase()));
}

/** GitHub's rule: the runner's labels include every label of the job (case-insensitive). */
export function runnerCanTake(runner: Pick<StandInRunner, "labels">, job: Pick<StandInJob, "labels">): boolean {
  const has = lower(runner.labels);
  return job.labels.every((l) => has.has(l.toLowerCase()));
}

export class JobBoard {
  readonly jobs = new Map<number, StandInJob>();
  readonly history = new Map<number, RunnerHistory>();
  readonly hooks: HookDeliveries;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly removalWaiters = new Map<number, Array<() => void>>();
  private repositoryIds = new Map<string, number>();

  constructor(
    private readonly state: GitHubState,
    readonly now: () => number,
  ) {
    this.hooks = new HookDeliveries(now);
  }

  private repositoryId(owner: string, repository: string): number {
    const key = `${owner}/${repository}`.toLowerCase();
    if (!this.repositoryIds.has(key)) this.repositoryIds.set(key, 700_000 + this.repositoryIds.size);
    return this.repositoryIds.get(key) as number;
  }

  private deliver(job: StandInJob, action: WorkflowJobAction, deliver = true): void {
    if (!deliver) return;
    const iso = (ms?: number) => (ms === undefined ? undefined : new Date(ms).toISOString());
    const payload = workflowJobPayload({
      jobId: job.id,
      runId: job.runId,
      runAttempt: job.runAttempt,
      labels: job.labels,
      owner: job.owner,
      repository: job.repository,
      repositoryId: job.repositoryId,
      action,
      status: job.status,
      conclusion: job.conclusion,
      runnerId: job.runnerId ?? null,
      runnerName: job.runnerName ?? null,
      runnerGroupId: job.runnerGroupId ?? null,
      createdAt: iso(job.createdAt),
      startedAt: iso(job.startedAt ?? job.createdAt),
      completedAt: iso(job.completedAt) ?? null,
    });
    this.hooks.send("workflow_job", payload);
  }

  /** A new job: `queued` (or, awaiting approval, `queued` with status `waiting` then `waiting`), then assignment. */
  create(input: NewJob): StandInJob {
    if (this.jobs.has(input.id)) throw new Error(`job ${input.id} exists already`);
    const repository = input.repository ?? "app";
    const job: StandInJob = {
      id: input.id,
      runId: input.runId ?? input.id * 10,
      runAttempt: 1,
      owner: input.owner,
      repository,
      repositoryId: this.repositoryId(input.owner, repository),
      labels: input.labels,
      status: input.needsApproval ? "waiting" : "queued",
      conclusion: null,
      createdAt: this.now(),
      durationMs: input.durationMs ?? 500,
    };
    this.jobs.set(job.id, job);
    this.deliver(job, "queued", input.deliver !== false);
    if (input.needsApproval) this.deliver(job, "waiting", input.deliver !== false);
    else this.assign();
    return job;
  }

  private known(id: number): StandInJob {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`the stand-in has no job ${id}`);
    return job;
  }

  /** A reviewer approves the deployment: the job is queued (delivered `queued`) and can take a runner. */
  approve(id: number): StandInJob {
    const job = this.known(id);
    if (job.status !== "waiting") throw new Error(`job ${id} is ${job.status}, not waiting`);
    job.status = "queued";
    this.deliver(job, "queued");
    this.assign();
    return job;
  }

  /** Cancels a job: queued or waiting → completed/cancelled, no runner; running → its runner ends the job. */
  cancel(id: number): StandInJob {
    const job = this.known(id);
    if (job.status === "completed") return job;
    this.complete(job, "cancelled");
    return job;
  }

  private complete(job: StandInJob, conclusion: WorkflowJobConclusion): void {
    job.status = "completed";
    job.conclusion = conclusion;
    job.completedAt = this.now();
    if (job.runnerId !== undefined) {
      // The ephemeral runner that ran it is removed (a JIT runner takes exactly one job).
      this.remove(job.runnerId);
    }
    this.deliver(job, "completed");
  }

  /** A running job's steps end now (it succeeds): its runner goes, `completed` is delivered. */
  finish(id: number): StandInJob {
    const job = this.known(id);
    if (job.status !== "in_progress") throw new Error(`job ${id} is ${job.status}, not in_progress`);
    this.complete(job, "success");
    return job;
  }

  /** Fails queued jobs that waited past GitHub's 24-hour limit (call as simulated time passes). */
  expire(): StandInJob[] {
    const expired = [...this.jobs.values()].filter(
      (j) => (j.status === "queued" || j.status === "waiting") && this.now() - j.createdAt >= QUEUE_LIMIT_MS,
    );
    for (const job of expired) this.complete(job, "failure");
    return expired;
  }

  /** Gives queued jobs (oldest first) to online idle runners (oldest registration first) that can take them. */
  assign(): void {
    const queued = [...this.jobs.values()]
      .filter((j) => j.status === "queued")
      .sort((a, b) => a.createdAt - b.createdAt);
    for (const job of queued) {
      const runner = [...this.state.runners.values()].find(
        (r) => r.status === "online" && !r.busy && this.serves(r, job) && runnerCanTake(r, job),
      );
      if (runner) this.start(job, runner);
    }
  }

  /** An organization runner serves the organization's repositories; a repository runner only its own. */
  private serves(runner: StandInRunner, job: StandInJob): boolean {
    const t = runner.target;
    return t.kind === "org"
      ? t.org === job.owner.toLowerCase()
      : t.owner === job.owner.toLowerCase() && t.repo === job.repository.toLowerCase();
  }

  private start(job: StandInJob, runner: StandInRunner): void {
    runner.busy = true;
    job.status = "in_progress";
    job.startedAt = this.now();
    job.runnerId = runner.id;
    job.runnerName = runner.name;
    job.runnerGroupId = runner.runnerGroupId;
    const seen = this.history.get(runner.id);
    if (seen) Object.assign(seen, { assignedAt: job.startedAt, jobId: job.id });
    this.deliver(job, "in_progress");
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (job.status === "in_progress") this.complete(job, "success");
    }, job.durationMs);
    this.timers.add(timer);
  }

  /** Called when a runner is registered: its history starts. */
  registered(runner: StandInRunner): void {
    this.history.set(runner.id, { id: runner.id, name: runner.name, createdAt: this.now() });
  }

  /** A runner came online (or became idle): it may take a queued job. */
  online(runner: StandInRunner): void {
    const seen = this.history.get(runner.id);
    if (seen && seen.onlineAt === undefined) seen.onlineAt = this.now();
    this.assign();
  }

  /** A runner is removed (deregistered, or gone with its job). */
  remove(runnerId: number): void {
    if (!this.state.runners.delete(runnerId)) return;
    const seen = this.history.get(runnerId);
    if (seen && seen.removedAt === undefined) seen.removedAt = this.now();
    for (const resolve of this.removalWaiters.get(runnerId) ?? []) resolve();
    this.removalWaiters.delete(runnerId);
  }

  /** Resolves when the runner is gone from GitHub (its job ended, or it was deregistered). */
  whenRemoved(runnerId: number): Promise<void> {
    if (!this.state.runners.has(runnerId)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.removalWaiters.get(runnerId) ?? [];
      waiters.push(resolve);
      this.removalWaiters.set(runnerId, waiters);
    });
  }

  /** Stops pending job timers (the stand-in is stopping). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
