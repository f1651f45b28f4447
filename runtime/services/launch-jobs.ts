/**
 * One SQS batch of launch requests → runners, through the job ledger. Each body is decoded once; each job is
 * claimed with a conditional write (`queued → launching`), so a second message for the same job, or a job that
 * was cancelled, started or finished meanwhile, launches nothing and is acknowledged. Claimed jobs are launched per
 * pool within the pool's free capacity (one `CreateFleet` per pool, `services/launch-runners.ts`).
 *
 * Only a message that can never succeed (malformed, unknown pool) fails and, after `maxReceiveCount`, reaches the
 * dead-letter queue. A job over capacity, or whose launch failed (GitHub or EC2), goes back to `queued` with a
 * `nextAttemptAt` (core/jobs/backoff.ts) and its message is acknowledged: the reconciler requests its next launch
 * when it is due, for as long as GitHub keeps the job queued.
 */
import type { JobMessage } from "../../contract/job.js";
import type { JobRecord } from "../../contract/ledger.js";
import { runnerName } from "../../contract/names.js";
import type { RuntimePool } from "../../contract/pool.js";
import { type RunnerScope, runnerTargetFor, targetKey } from "../../contract/runner-target.js";
import { terminateInstances } from "../adapters/ec2.js";
import { isRetryableGitHubError } from "../adapters/github/errors.js";
import { deleteRunner } from "../adapters/github/runners.js";
import { addRunner, getJob, type Ledger, moveJob } from "../adapters/ledger.js";
import { after, capacityWaitMs, launchRetryDelayMs } from "../core/jobs/backoff.js";
import {
  type BatchRecord,
  capacityAvailable,
  decodeBatch,
  type Failure,
  type PlannedJob,
  planWave,
} from "../core/launch/plan.js";
import { randomSuffix } from "../core/launch/runner.js";
import {
  type LaunchDeps,
  type LaunchedRunner,
  type LaunchEnvironment,
  launchRunners,
  type RunnerRequest,
} from "./launch-runners.js";
import type { LiveCapacity } from "./live-capacity.js";

export interface JobLaunchEnvironment extends LaunchEnvironment {
  pools: RuntimePool[];
  scope: RunnerScope;
  /** Organization (or user) that owns the runners. */
  owner: string;
}

export type JobBatchDeps = LaunchDeps & { capacity: LiveCapacity; ledger: Ledger; now(): Date };

/** What became of one message; every kind but a thrown `JobLaunchFailedError` acknowledges it. */
export type JobOutcome =
  | { kind: "launched"; message: JobMessage; runner: LaunchedRunner }
  | { kind: "skipped"; message: JobMessage; reason: string }
  | { kind: "capacity-wait"; message: JobMessage; nextAttemptAt: string }
  | { kind: "launch-failed"; message: JobMessage; failure: Failure; attempts: number; nextAttemptAt: string };

/** Thrown for a message that can never succeed; the FIFO processor reports it as a batch item failure. */
export class JobLaunchFailedError extends Error {
  constructor(
    readonly messageId: string,
    readonly failure: Failure,
  ) {
    super(`${failure.reason}: ${failure.detail}`);
    this.name = "JobLaunchFailedError";
  }
}

interface Claimed extends PlannedJob {
  record: JobRecord;
}

export class JobBatch {
  readonly outcomes = new Map<string, JobOutcome>();
  readonly failures = new Map<string, Failure>();
  readonly #records: readonly BatchRecord[];
  #run: Promise<void> | undefined;

  constructor(
    records: readonly BatchRecord[],
    private readonly env: JobLaunchEnvironment,
    private readonly deps: JobBatchDeps,
  ) {
    this.#records = records;
  }

  /** The outcome of one message (the whole batch is settled on the first call); throws for a hopeless one. */
  async launch(messageId: string): Promise<JobOutcome> {
    this.#run ??= this.#settle();
    await this.#run;
    const failure = this.failures.get(messageId);
    if (failure) throw new JobLaunchFailedError(messageId, failure);
    const outcome = this.outcomes.get(messageId);
    if (!outcome) throw new Error(`message ${messageId} is not part of this batch`);
    return outcome;
  }

  async #settle(): Promise<void> {
    const actionable: PlannedJob[] = [];
    const failedGroups = new Set<string>();
    const firstOfJob = new Map<number, string>();
    for (const record of decodeBatch(this.#records, this.env.pools)) {
      if ("failure" in record) {
        this.failures.set(record.messageId, record.failure);
        failedGroups.add(record.groupId);
      } else if (failedGroups.has(record.groupId)) {
        // Powertools skips it (FIFO): it comes back, and is decided then.
      } else if (firstOfJob.has(record.message.jobId)) {
        this.#skip(record, `a duplicate of message ${firstOfJob.get(record.message.jobId)} in this batch`);
      } else {
        firstOfJob.set(record.message.jobId, record.messageId);
        actionable.push(record);
      }
    }
    const claimed = (await Promise.all(actionable.map((job) => this.#claim(job)))).flatMap((c) => (c ? [c] : []));
    if (claimed.length === 0) return;
    const plan = planWave(claimed, await this.#freeCapacity(claimed));
    const byMessage = new Map(claimed.map((c) => [c.messageId, c]));
    await Promise.all([
      ...[...plan.failures.keys()].map((id) => this.#waitForCapacity(byMessage.get(id) as Claimed)),
      ...[...plan.launches.values()].map((jobs) => this.#launchPool(jobs as Claimed[])),
    ]);
  }

  #skip(job: PlannedJob, reason: string): void {
    this.outcomes.set(job.messageId, { kind: "skipped", message: job.message, reason });
  }

  /** `queued → launching`, conditional: only one launcher ever launches for one launch decision. */
  async #claim(job: PlannedJob): Promise<Claimed | undefined> {
    const record = await getJob(this.deps.ledger, job.message.jobId);
    if (!record) return void this.#skip(job, "the ledger has no record of the job");
    if (record.state !== "queued") return void this.#skip(job, `the job is ${record.state}`);
    const claim = await moveJob(
      this.deps.ledger,
      record.jobId,
      "queued",
      record.version,
      { state: "launching" },
      this.deps.now(),
    );
    if (!claim.moved) return void this.#skip(job, `the job moved on to ${claim.record?.state} meanwhile`);
    return { ...job, record: claim.record };
  }

  async #freeCapacity(jobs: Claimed[]): Promise<Map<string, number>> {
    const pools = [...new Map(jobs.map((j) => [j.pool.name, j.pool])).values()];
    const live = await this.deps.capacity.counts(pools.map((p) => p.name));
    return new Map(pools.map((p) => [p.name, capacityAvailable(p.maxRunners, live.get(p.name) ?? 0)]));
  }

  async #waitForCapacity(job: Claimed): Promise<void> {
    const now = this.deps.now();
    const nextAttemptAt = after(now, capacityWaitMs(job.record.queuedAt, now));
    await this.#release(job, { nextAttemptAt });
    this.outcomes.set(job.messageId, { kind: "capacity-wait", message: job.message, nextAttemptAt });
  }

  async #failed(job: Claimed, failure: Failure): Promise<void> {
    const now = this.deps.now();
    const attempts = job.record.attempts + 1;
    const nextAttemptAt = after(now, launchRetryDelayMs(attempts));
    await this.#release(job, { nextAttemptAt, attempts, lastError: `${failure.reason}: ${failure.detail}` });
    this.outcomes.set(job.messageId, { kind: "launch-failed", message: job.message, failure, attempts, nextAttemptAt });
  }

  /** `launching → queued`; refused only if GitHub moved the job on meanwhile, which leaves nothing to retry. */
  async #release(
    job: Claimed,
    fields: { nextAttemptAt: string; attempts?: number; lastError?: string },
  ): Promise<void> {
    await moveJob(
      this.deps.ledger,
      job.record.jobId,
      "launching",
      job.record.version,
      { state: "queued", ...fields },
      this.deps.now(),
    );
  }

  async #launchPool(jobs: Claimed[]): Promise<void> {
    const pool = jobs[0].pool;
    const requests = (await Promise.all(jobs.map((job) => this.#request(job)))).flatMap((r) => (r ? [r] : []));
    if (requests.length === 0) return;
    const result = await launchRunners(pool, requests, this.env, this.deps);
    const byKey = new Map(jobs.map((job) => [job.messageId, job]));
    const excess = new Set(await this.#excess(pool, result.launched));
    let withdrawn = result.launched.filter((r) => excess.has(r.instanceId));
    if (withdrawn.length > 0 && !(await this.#withdraw(withdrawn, new Map(requests.map((r) => [r.key, r])))))
      withdrawn = []; // not terminated: they are runners, recorded as such
    const kept = result.launched.filter((r) => !withdrawn.includes(r));
    await Promise.all([
      ...kept.map((runner) => this.#launched(byKey.get(runner.key) as Claimed, runner)),
      ...withdrawn.map((runner) => this.#waitForCapacity(byKey.get(runner.key) as Claimed)),
      ...result.failed.map((f) => this.#failed(byKey.get(f.key) as Claimed, f)),
    ]);
  }

  /** The pool counted again once its runners exist (services/live-capacity.ts): its instances over the maximum. */
  async #excess(pool: RuntimePool, launched: LaunchedRunner[]): Promise<string[]> {
    try {
      return await this.deps.capacity.excess(
        pool.name,
        pool.maxRunners,
        launched.map((r) => r.instanceId),
      );
    } catch (error) {
      // Unknown is not over: the pre-launch count held, and the next batch counts again.
      this.deps.log.warn("could not count the pool after launching", { pool: pool.name, error: String(error) });
      return [];
    }
  }

  /** Ends runners started over the pool's maximum (deregistered, terminated); false if EC2 refused. */
  async #withdraw(runners: LaunchedRunner[], requests: Map<string, RunnerRequest>): Promise<boolean> {
    this.deps.log.info("pool over its maximum after launching: withdrawing runners", {
      runners: runners.map((r) => r.runnerName),
    });
    await Promise.all(
      runners.map(async (runner) => {
        const request = requests.get(runner.key) as RunnerRequest;
        try {
          const client = await this.deps.github.installationClient(request.installationId);
          await deleteRunner(client, request.target, runner.runnerId);
        } catch (error) {
          this.deps.log.warn("could not deregister a withdrawn runner; the reaper will", {
            runnerName: runner.runnerName,
            error: String(error),
          });
        }
      }),
    );
    try {
      await terminateInstances(
        this.deps.ec2,
        runners.map((r) => r.instanceId),
      );
      return true;
    } catch (error) {
      this.deps.log.warn("could not terminate withdrawn instances", { error: String(error) });
      return false;
    }
  }

  /**
   * `launching → launched` with the runner. If the job moved on meanwhile (cancelled, or started on another
   * runner), the runner is still recorded on it, so the reconciler ends it.
   */
  async #launched(job: Claimed, runner: LaunchedRunner): Promise<void> {
    const entry = {
      instanceId: runner.instanceId,
      runnerName: runner.runnerName,
      runnerId: runner.runnerId,
      launchedAt: new Date(runner.fleetLaunchedAt).toISOString(),
    };
    const { jobId, version } = job.record;
    const update = { state: "launched" as const, addRunner: entry, lastError: null, nextAttemptAt: null };
    const moved = await moveJob(this.deps.ledger, jobId, "launching", version, update, this.deps.now());
    if (!moved.moved) await addRunner(this.deps.ledger, jobId, entry, this.deps.now());
    this.outcomes.set(job.messageId, { kind: "launched", message: job.message, runner });
  }

  /** The job's runner request; undefined (and the job released for a retry) when its installation is unknown. */
  async #request(job: Claimed): Promise<RunnerRequest | undefined> {
    const { message } = job;
    const target = runnerTargetFor(this.env.scope, this.env.owner, message.repository);
    try {
      return {
        key: job.messageId,
        runnerName: runnerName(job.pool.name, message.jobId, randomSuffix()),
        installationId: message.installationId ?? (await this.deps.github.installationId(target)),
        target,
        jobId: message.jobId,
        repository: message.repository,
      };
    } catch (error) {
      await this.#failed(job, {
        reason: isRetryableGitHubError(error) ? "github-retryable" : "github-permanent",
        detail: `looking up the GitHub App installation for ${targetKey(target)}: ${(error as Error).message}`,
      });
      return undefined;
    }
  }
}
