/**
 * One SQS batch of job messages → runners, one message at a time as Powertools' FIFO processor asks for them,
 * launched a wave at a time (`core/launch/plan.ts`): the first message of a wave launches the whole wave, one
 * `CreateFleet` per pool, and the wave's other messages find their outcome ready.
 */
import type { JobMessage } from "../../contract/job.js";
import type { RuntimePool } from "../../contract/pool.js";
import { type RunnerScope, runnerTargetFor, targetKey } from "../../contract/runner-target.js";
import { isRetryableGitHubError } from "../adapters/github/errors.js";
import {
  type BatchRecord,
  capacityAvailable,
  type DecodedRecord,
  decodeBatch,
  type Failure,
  type PlannedJob,
  planWave,
} from "../core/launch/plan.js";
import { makeRunnerName } from "../core/launch/runner.js";
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

export interface LaunchedJob extends LaunchedRunner {
  pool: string;
  message: JobMessage;
}

/** Thrown for a message that got no runner; the FIFO processor reports it as a batch item failure. */
export class JobLaunchFailedError extends Error {
  constructor(
    readonly messageId: string,
    readonly failure: Failure,
  ) {
    super(`${failure.reason}: ${failure.detail}`);
    this.name = "JobLaunchFailedError";
  }
}

export class JobBatch {
  readonly launched = new Map<string, LaunchedJob>();
  readonly failures = new Map<string, Failure>();
  readonly #records: Map<string, DecodedRecord>;
  readonly #waves = new Map<number, Promise<void>>();
  #free: Promise<Map<string, number>> | undefined;

  constructor(
    records: readonly BatchRecord[],
    private readonly env: JobLaunchEnvironment,
    private readonly deps: LaunchDeps & { capacity: LiveCapacity },
  ) {
    this.#records = new Map(decodeBatch(records, env.pools).map((r) => [r.messageId, r]));
  }

  /** Launches the runner for one message of the batch; throws `JobLaunchFailedError` when it got none. */
  async launch(messageId: string): Promise<LaunchedJob> {
    const record = this.#records.get(messageId);
    if (!record) throw new Error(`message ${messageId} is not part of this batch`);
    if ("failure" in record) {
      this.failures.set(messageId, record.failure);
      throw new JobLaunchFailedError(messageId, record.failure);
    }
    let wave = this.#waves.get(record.wave);
    if (!wave) {
      wave = this.#launchWave(record.wave);
      this.#waves.set(record.wave, wave);
    }
    await wave;
    const launched = this.launched.get(messageId);
    if (launched) return launched;
    const failure = this.failures.get(messageId) ?? {
      reason: "github-retryable",
      detail: `message ${messageId} was not launched with its wave`,
    };
    throw new JobLaunchFailedError(messageId, failure);
  }

  async #launchWave(wave: number): Promise<void> {
    const jobs = [...this.#records.values()].filter(
      (r): r is PlannedJob => !("failure" in r) && r.wave === wave && this.#predecessorLaunched(r),
    );
    const plan = planWave(jobs, await this.#freeCapacity());
    for (const [messageId, failure] of plan.failures) this.failures.set(messageId, failure);
    await Promise.all([...plan.launches.values()].map((poolJobs) => this.#launchPool(poolJobs)));
  }

  /** Only the wave after a launched message may follow it: a failed one stops its group (FIFO). */
  #predecessorLaunched(job: PlannedJob): boolean {
    if (job.wave === 0) return true;
    return [...this.launched.values()].some(
      (l) => this.#records.get(l.key)?.groupId === job.groupId && this.#records.get(l.key)?.wave === job.wave - 1,
    );
  }

  #freeCapacity(): Promise<Map<string, number>> {
    this.#free ??= (async () => {
      const poolsInBatch = [...new Set([...this.#records.values()].flatMap((r) => ("pool" in r ? [r.pool] : [])))];
      const live = await this.deps.capacity.counts(poolsInBatch.map((p) => p.name));
      return new Map(poolsInBatch.map((p) => [p.name, capacityAvailable(p.maxRunners, live.get(p.name) ?? 0)]));
    })();
    return this.#free;
  }

  async #launchPool(jobs: PlannedJob[]): Promise<void> {
    const pool = jobs[0].pool;
    const requests = (await Promise.all(jobs.map((job) => this.#request(job)))).flatMap((r) => (r ? [r] : []));
    if (requests.length === 0) return;
    const result = await launchRunners(pool, requests, this.env, this.deps);
    this.deps.capacity.recordLaunched(pool.name, result.launched.length);
    const byKey = new Map(jobs.map((job) => [job.messageId, job]));
    for (const runner of result.launched)
      this.launched.set(runner.key, {
        ...runner,
        pool: pool.name,
        message: (byKey.get(runner.key) as PlannedJob).message,
      });
    for (const failure of result.failed) this.failures.set(failure.key, failure);
  }

  /** The job's runner request; undefined (and a failure recorded) when its installation cannot be found. */
  async #request(job: PlannedJob): Promise<RunnerRequest | undefined> {
    const { message } = job;
    const target = runnerTargetFor(this.env.scope, this.env.owner, message.repository);
    try {
      return {
        key: job.messageId,
        runnerName: makeRunnerName(job.pool.name, message.jobId),
        installationId: message.installationId ?? (await this.deps.github.installationId(target)),
        target,
        jobId: message.jobId,
        repository: message.repository,
      };
    } catch (error) {
      this.failures.set(job.messageId, {
        reason: isRetryableGitHubError(error) ? "github-retryable" : "github-permanent",
        detail: `looking up the GitHub App installation for ${targetKey(target)}: ${(error as Error).message}`,
      });
      return undefined;
    }
  }
}
