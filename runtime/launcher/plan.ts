/**
 * Batch planning for the launcher: which messages of an SQS FIFO batch to launch, per pool, and which to fail.
 * Pure functions only.
 *
 * FIFO rule: once a message of a message group fails, every later message of that group in the batch must fail
 * too (SQS returns them together, in order). Planning keeps failures a suffix of each group, and
 * `laterInGroup` finds the already-launched messages that must be rolled back when a launch fails late.
 */
import type { RuntimePool } from "../../contract/pool.js";
import type { JobMessage } from "../../contract/job.js";
import { parseJobMessage } from "./messages.js";

export interface BatchRecord {
  messageId: string;
  /** SQS `MessageGroupId` (FIFO). */
  groupId: string;
  body: string;
}

export type FailureReason =
  | "malformed"
  | "unknown-pool"
  | "capacity"
  | "fifo-blocked"
  | "github-retryable"
  | "github-permanent"
  | "fleet-capacity"
  | "fleet-error"
  | "parameter-error"
  | "rolled-back";

export interface Failure {
  reason: FailureReason;
  detail: string;
}

export interface PlannedJob {
  messageId: string;
  groupId: string;
  message: JobMessage;
}

export interface BatchPlan {
  /** Jobs to launch, per pool name, in batch order. */
  launches: Map<string, PlannedJob[]>;
  /** Messages to fail, by message id. */
  failures: Map<string, Failure>;
}

/** How many more runners a pool may start. */
export function capacityAvailable(maxRunners: number, liveInstances: number): number {
  return Math.max(0, maxRunners - liveInstances);
}

/**
 * Decides the fate of every record of a batch before anything is launched: malformed bodies and unknown pools
 * fail (and reach the DLQ after the configured receives), jobs beyond a pool's free capacity fail (and come back
 * later), and every later message of a group with a failure fails too.
 */
export function planBatch(
  records: BatchRecord[],
  pools: RuntimePool[],
  liveInstances: ReadonlyMap<string, number>,
): BatchPlan {
  const poolsByName = new Map(pools.map((p) => [p.name, p]));
  const free = new Map(pools.map((p) => [p.name, capacityAvailable(p.maxRunners, liveInstances.get(p.name) ?? 0)]));
  const launches = new Map<string, PlannedJob[]>();
  const failures = new Map<string, Failure>();
  const blockedGroups = new Map<string, string>();

  for (const record of records) {
    const blockedBy = blockedGroups.get(record.groupId);
    if (blockedBy !== undefined) {
      failures.set(record.messageId, {
        reason: "fifo-blocked",
        detail: `message ${blockedBy} of group ${record.groupId} failed earlier in the batch`,
      });
      continue;
    }
    const fail = (failure: Failure) => {
      failures.set(record.messageId, failure);
      blockedGroups.set(record.groupId, record.messageId);
    };
    const parsed = parseJobMessage(record.body);
    if (!parsed.ok) {
      fail({ reason: "malformed", detail: parsed.reason });
      continue;
    }
    const pool = poolsByName.get(parsed.message.pool);
    if (!pool) {
      fail({
        reason: "unknown-pool",
        detail: `pool "${parsed.message.pool}" is not configured (known: ${[...poolsByName.keys()].join(", ")})`,
      });
      continue;
    }
    const remaining = free.get(pool.name) ?? 0;
    if (remaining <= 0) {
      fail({ reason: "capacity", detail: `pool ${pool.name} is at its maximum of ${pool.maxRunners} runners` });
      continue;
    }
    free.set(pool.name, remaining - 1);
    const planned = launches.get(pool.name) ?? [];
    planned.push({ messageId: record.messageId, groupId: record.groupId, message: parsed.message });
    launches.set(pool.name, planned);
  }
  return { launches, failures };
}

/**
 * Message ids that succeeded but come after a failed message of the same group: FIFO processing fails them, so
 * their runners must be rolled back (otherwise the redelivery would start a second runner for the same job).
 */
export function laterInGroup(records: BatchRecord[], failed: ReadonlySet<string>): string[] {
  const failedGroups = new Set<string>();
  const rollBack: string[] = [];
  for (const record of records) {
    if (failed.has(record.messageId)) failedGroups.add(record.groupId);
    else if (failedGroups.has(record.groupId)) rollBack.push(record.messageId);
  }
  return rollBack;
}
