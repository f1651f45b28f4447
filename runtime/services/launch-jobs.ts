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
import { isRetryableGitHubError } from "../adapters/github/errors.js";
import { getJob as getGitHubJob } from "../adapters/github/jobs.js";
import { getJob, type Ledger, markRunnerEnded, moveJob } from "../adapters/ledger.js";
import { capacityWait, failedLaunch, launchedMove, type RetryFields } from "../core/jobs/launch-record.js";
import {
  type BatchRecord,
  capacityAvailable,
  decodeBatch,
  type Failure,
  type PlannedJob,
  planWave,
} from "../core/launch/plan.js";
import { triageBatch } from "../core/launch/batch.js";
import { randomSuffix } from "../core/launch/runner.js";
import { planAfterCheck } from "../core/reconcile/plan.js";
import {
  type LaunchDeps,
  type LaunchedRunner,
  type LaunchEnvironment,
  launchRunners,
  type RunnerRequest,
} from "./launch-runners.js";
import { handOverSpareRunner } from "./hand-over.js";
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
  /** The record once `launched` with its runner (written before the runner could boot). */
  recorded?: JobRecord;
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
    const { failures, skipped, actionable } = triageBatch(decodeBatch(this.#records, this.env.pools));
    for (const [messageId, failure] of failures) this.failures.set(messageId, failure);
    for (const { job, reason } of skipped) this.#skip(job, reason);
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
    const { nextAttemptAt } = capacityWait(job.record, this.deps.now());
    await this.#release(job, { nextAttemptAt });
    this.outcomes.set(job.messageId, { kind: "capacity-wait", message: job.message, nextAttemptAt });
  }

  async #failed(job: Claimed, failure: Failure): Promise<void> {
    const fields = failedLaunch(job.record, failure, this.deps.now());
    await this.#release(job, fields);
    const { attempts, nextAttemptAt } = fields;
    this.outcomes.set(job.messageId, { kind: "launch-failed", message: job.message, failure, attempts, nextAttemptAt });
  }

  /**
   * Back to `queued` from the claim (`launching`), or from `launched` when the runner was recorded before its
   * parameter failed (that runner, terminated by the launch service, is marked ended). Refused only if GitHub
   * moved the job on meanwhile, which leaves nothing to retry.
   */
  async #release(job: Claimed, fields: RetryFields): Promise<void> {
    const from = job.recorded ?? job.record;
    const now = this.deps.now();
    const moved = await moveJob(
      this.deps.ledger,
      from.jobId,
      from.state,
      from.version,
      { state: "queued", ...fields },
      now,
    );
    const dead = job.recorded?.runners.at(-1);
    if (moved.moved && dead) await markRunnerEnded(this.deps.ledger, moved.record, dead.instanceId, now);
  }

  async #launchPool(jobs: Claimed[]): Promise<void> {
    const pool = jobs[0].pool;
    const requests = (await Promise.all(jobs.map((job) => this.#request(job)))).flatMap((r) => (r ? [r] : []));
    if (requests.length === 0) return;
    const byKey = new Map(jobs.map((job) => [job.messageId, job]));
    const jobOf = (key: string) => byKey.get(key) as Claimed;
    const result = await launchRunners(
      pool,
      requests,
      this.env,
      this.deps,
      {},
      {
        withdraw: async (started) => new Set(await this.#excess(pool, started)),
        starting: (runner) => this.#starting(jobOf(runner.key), runner),
      },
    );
    for (const runner of result.withdrawn) this.#skip(jobOf(runner.key), runner.reason);
    for (const runner of result.launched)
      this.outcomes.set(runner.key, { kind: "launched", message: jobOf(runner.key).message, runner });
    await Promise.all(
      result.failed.map((f) =>
        f.reason === "capacity" ? this.#waitForCapacity(jobOf(f.key)) : this.#failed(jobOf(f.key), f),
      ),
    );
  }

  /**
   * The pool counted again once this batch's instances exist and before any of their runners can boot
   * (services/live-capacity.ts): the instances over the maximum, withdrawn before anything could take them.
   */
  async #excess(pool: RuntimePool, started: { instanceId: string }[]): Promise<string[]> {
    try {
      return await this.deps.capacity.excess(
        pool.name,
        pool.maxRunners,
        started.map((r) => r.instanceId),
      );
    } catch (error) {
      // Unknown is not over: the pre-launch count held, and the next batch counts again.
      this.deps.log.warn("could not count the pool after launching", { pool: pool.name, error: String(error) });
      return [];
    }
  }

  /**
   * `launching → launched` with the runner, written before the runner can boot: whoever sees the runner take a
   * job (a delivery naming it) finds it in the ledger. If the job moved on meanwhile (cancelled, or started on
   * another job's runner), the runner is handed to the job whose runner this one took (services/hand-over.ts), or
   * else withdrawn unbooted: once online it would take whichever queued job of the pool fits (GitHub's rule) and
   * leave that job's own runner idle in its place, a chain that ends in one idle runner.
   */
  async #starting(job: Claimed, runner: LaunchedRunner): Promise<{ withdraw: string } | undefined> {
    const { jobId, version } = job.record;
    const update = launchedMove(runner);
    const moved = await moveJob(this.deps.ledger, jobId, "launching", version, update, this.deps.now());
    if (moved.moved) {
      job.recorded = moved.record;
      return undefined;
    }
    if (await handOverSpareRunner(this.deps.ledger, moved.record, update.addRunner, this.env.pools, this.deps.now()))
      return undefined;
    return { withdraw: `the job moved on to ${moved.record?.state ?? "nowhere"} before its runner could boot` };
  }
  /**
   * A relaunch (its runner was taken, or failed) asks GitHub first: deliveries lag behind GitHub in a burst, and a
   * job GitHub already started on another runner needs none. The claim then follows GitHub (core/reconcile/plan.ts).
   * One GitHub call per relaunch, none for a first launch.
   */
  async #movedOnAtGitHub(job: Claimed, installationId: number): Promise<boolean> {
    const client = await this.deps.github.installationClient(installationId);
    const step = planAfterCheck(
      job.record,
      await getGitHubJob(client, job.record.repository, job.record.jobId),
      this.deps.now(),
    );
    if (step.kind !== "move") return false;
    await moveJob(this.deps.ledger, job.record.jobId, "launching", job.record.version, step.move, this.deps.now());
    this.#skip(job, `${step.reason}: no runner needed`);
    return true;
  }

  /** The job's runner request; undefined (and the job released for a retry) when its installation is unknown. */
  async #request(job: Claimed): Promise<RunnerRequest | undefined> {
    const { message } = job;
    const target = runnerTargetFor(this.env.scope, this.env.owner, message.repository);
    // Read again right before the runner is registered: between the claim and now (the capacity count, a busy
    // moment) the job may have started on another runner or been cancelled, and a runner registered for it now
    // would have no job. The job whose runner it took, if any, was queued again with its own launch request.
    const current = await getJob(this.deps.ledger, message.jobId);
    if (current?.state !== "launching")
      return void this.#skip(job, `the job moved on to ${current?.state} before its runner was registered`);
    job.record = current;
    try {
      const installationId = message.installationId ?? (await this.deps.github.installationId(target));
      if (current.attempts > 0 && (await this.#movedOnAtGitHub(job, installationId))) return undefined;
      return {
        key: job.messageId,
        runnerName: runnerName(job.pool.name, message.jobId, randomSuffix()),
        installationId,
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
