/**
 * Planning an SQS FIFO batch of job messages. Pure functions only.
 *
 * Each body is decoded once, with the contract's `decodeJobMessage`. The batch is launched in waves: wave k
 * holds the k-th message of each message group, so one `CreateFleet` per pool serves every group at once, and a
 * message is launched only after the message before it in its group launched. The FIFO rule itself (a message
 * after a failed one in its group is not processed) is Powertools' `SqsFifoPartialProcessorAsync` with
 * `skipGroupOnError`; the waves only keep the launcher from starting runners for messages it will skip.
 */
import { decodeJobMessage, type JobMessage } from "../../../contract/job.js";
import type { RuntimePool } from "../../../contract/pool.js";

export interface BatchRecord {
  messageId: string;
  /** SQS `MessageGroupId` (FIFO). */
  groupId: string;
  body: string;
}

/**
 * Why a message or a job did not get a runner. `malformed` and `unknown-pool` can never succeed (the message
 * fails); the others are retried with backoff through the ledger.
 */
export type FailureReason =
  | "malformed"
  | "unknown-pool"
  | "capacity"
  | "github-retryable"
  | "github-permanent"
  | "fleet-capacity"
  | "fleet-error"
  | "parameter-error";

export interface Failure {
  reason: FailureReason;
  detail: string;
}

export interface PlannedJob {
  messageId: string;
  groupId: string;
  /** Position of the message within its group in this batch (0 for the first). */
  wave: number;
  message: JobMessage;
  /** The configured pool the message names. */
  pool: RuntimePool;
}

export type DecodedRecord = PlannedJob | { messageId: string; groupId: string; wave: number; failure: Failure };

/** Decodes every body once and checks its pool; the wave is the message's position within its group. */
export function decodeBatch(records: readonly BatchRecord[], pools: readonly RuntimePool[]): DecodedRecord[] {
  const byName = new Map(pools.map((p) => [p.name, p]));
  const seenInGroup = new Map<string, number>();
  return records.map(({ messageId, groupId, body }) => {
    const wave = seenInGroup.get(groupId) ?? 0;
    seenInGroup.set(groupId, wave + 1);
    const decoded = decodeJobMessage(body);
    if (!decoded.ok) return { messageId, groupId, wave, failure: { reason: "malformed", detail: decoded.reason } };
    const pool = byName.get(decoded.value.pool);
    if (!pool) {
      const detail = `pool "${decoded.value.pool}" is not configured (known: ${[...byName.keys()].join(", ")})`;
      return { messageId, groupId, wave, failure: { reason: "unknown-pool", detail } };
    }
    return { messageId, groupId, wave, message: decoded.value, pool };
  });
}

/** How many more runners a pool may start. */
export function capacityAvailable(maxRunners: number, liveInstances: number): number {
  return Math.max(0, maxRunners - liveInstances);
}

/**
 * The instances of `launched` (this launcher's, just started) to withdraw when the pool's live count, read after
 * the launch and including them, is above `maxRunners`: as many as it is over, at most all of its own; the last
 * started first. services/live-capacity.ts says why this bounds the pool under concurrent launchers.
 */
export function overLimit(maxRunners: number, liveAfterLaunch: number, launched: readonly string[]): string[] {
  const over = Math.min(launched.length, Math.max(0, liveAfterLaunch - maxRunners));
  return over > 0 ? launched.slice(launched.length - over) : [];
}

export interface WavePlan {
  /** Jobs to launch, per pool name, in batch order. */
  launches: Map<string, PlannedJob[]>;
  /** Jobs over their pool's free capacity, by message id. */
  failures: Map<string, Failure>;
}

/**
 * Splits one wave's jobs by pool within the free capacity (`free` is the runners each pool may still start; the
 * plan's launches are taken off it). Jobs beyond a pool's free capacity fail and come back later.
 */
export function planWave(jobs: readonly PlannedJob[], free: Map<string, number>): WavePlan {
  const launches = new Map<string, PlannedJob[]>();
  const failures = new Map<string, Failure>();
  for (const job of jobs) {
    const { pool } = job;
    const remaining = free.get(pool.name) ?? 0;
    if (remaining <= 0) {
      failures.set(job.messageId, {
        reason: "capacity",
        detail: `pool ${pool.name} is at its maximum of ${pool.maxRunners} runners`,
      });
      continue;
    }
    free.set(pool.name, remaining - 1);
    launches.set(pool.name, [...(launches.get(pool.name) ?? []), job]);
  }
  return { launches, failures };
}
