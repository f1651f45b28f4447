/**
 * Which messages of a decoded batch the launcher acts on. Pure functions only.
 *
 * A message that can never succeed fails, and so does its group for this batch (FIFO: Powertools skips the rest
 * of the group, which comes back and is decided then). A second message for a job already in the batch is
 * acknowledged without a launch: one launch decision per job.
 */
import type { DecodedRecord, Failure, PlannedJob } from "./plan.js";

export interface BatchTriage {
  /** Messages that fail (the dead-letter queue takes them after `maxReceiveCount`). */
  failures: Map<string, Failure>;
  /** Messages acknowledged without a launch, with the reason. */
  skipped: { job: PlannedJob; reason: string }[];
  /** One message per job, in batch order: each is claimed and launched. */
  actionable: PlannedJob[];
}

export function triageBatch(decoded: readonly DecodedRecord[]): BatchTriage {
  const triage: BatchTriage = { failures: new Map(), skipped: [], actionable: [] };
  const failedGroups = new Set<string>();
  const firstOfJob = new Map<number, string>();
  for (const record of decoded) {
    if ("failure" in record) {
      triage.failures.set(record.messageId, record.failure);
      failedGroups.add(record.groupId);
    } else if (failedGroups.has(record.groupId)) {
      // Powertools skips it (FIFO): it comes back, and is decided then.
    } else if (firstOfJob.has(record.message.jobId)) {
      const reason = `a duplicate of message ${firstOfJob.get(record.message.jobId)} in this batch`;
      triage.skipped.push({ job: record, reason });
    } else {
      firstOfJob.set(record.message.jobId, record.messageId);
      triage.actionable.push(record);
    }
  }
  return triage;
}
