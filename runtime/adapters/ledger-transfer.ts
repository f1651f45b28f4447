/**
 * The swap (core/jobs/swap.ts) as one DynamoDB transaction over two ledger records: the holder, whose runner the
 * thief took, lists the thief's runner as its own (its state unchanged, its version bumped), and the thief's entry
 * of that runner says where it went (`transferredTo`). Both writes land or neither does (TransactWriteItems, AWS
 * docs "Amazon DynamoDB Transactions"), so a runner never serves two jobs in the ledger and never none.
 *
 * A refused condition (`TransactionCanceledException`) is an ordinary answer, as in ledger.ts: someone moved one
 * of the records first; the caller reads both again and decides again.
 */
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { type JobRecord, LEDGER_KEYS, type LaunchedRunner } from "../../contract/ledger.js";
import { expiresAt, type Ledger } from "./ledger.js";

export interface Transfer {
  /** The holder as read: the write is conditional on its state and version. */
  holder: Pick<JobRecord, "jobId" | "state" | "version">;
  /** Index of the taken runner in the holder's `runners` (marked `takenBy`), or -1 when not listed. */
  takenIndex: number;
  thiefId: number;
  /** Index of the handed-on runner in the thief's `runners`; the entry must still serve the thief. */
  thiefIndex: number;
  runner: LaunchedRunner;
  note: string;
}

/** True when both records changed; false when a condition failed (re-read and decide again). */
export async function transferRunner(ledger: Ledger, transfer: Transfer, now: Date): Promise<boolean> {
  const { holder, runner, thiefId, thiefIndex, takenIndex } = transfer;
  const key = LEDGER_KEYS.partitionKey;
  const { transferredTo: _t, takenBy: _b, ...handed } = runner;
  const taken = takenIndex >= 0 ? `, runners[${takenIndex}].takenBy = :thief` : "";
  try {
    await ledger.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: ledger.table,
              Key: { [key]: holder.jobId },
              UpdateExpression: `SET runners = list_append(runners, :runner), #version = :version, updatedAt = :now, expiresAt = :expiresAt, lastError = :note${taken}`,
              ConditionExpression: "#state = :state AND #version = :fromVersion",
              ExpressionAttributeNames: { "#state": "state", "#version": "version" },
              ExpressionAttributeValues: {
                ":runner": [handed],
                ":version": holder.version + 1,
                ":fromVersion": holder.version,
                ":state": holder.state,
                ":now": now.toISOString(),
                ":expiresAt": expiresAt(now),
                ":note": transfer.note,
                ...(taken ? { ":thief": thiefId } : {}),
              },
            },
          },
          {
            Update: {
              TableName: ledger.table,
              Key: { [key]: thiefId },
              UpdateExpression: `SET runners[${thiefIndex}].transferredTo = :holder, #version = #version + :one, updatedAt = :now`,
              ConditionExpression: `runners[${thiefIndex}].runnerName = :name AND attribute_not_exists(runners[${thiefIndex}].transferredTo) AND attribute_not_exists(runners[${thiefIndex}].takenBy) AND attribute_not_exists(runners[${thiefIndex}].endedAt)`,
              ExpressionAttributeNames: { "#version": "version" },
              ExpressionAttributeValues: {
                ":holder": holder.jobId,
                ":name": runner.runnerName,
                ":one": 1,
                ":now": now.toISOString(),
              },
            },
          },
        ],
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof TransactionCanceledException) return false;
    throw error;
  }
}

/**
 * A runner just started for job `thiefId`, which meanwhile started on the runner of `holder` (queued again for
 * it): the new runner serves the holder. The holder moves `queued → launched` listing it (its due time reset for
 * the boot grace, its backoff cleared); the thief lists it as handed on. Both or neither.
 */
export async function handOverNewRunner(
  ledger: Ledger,
  holder: Pick<JobRecord, "jobId" | "version">,
  thiefId: number,
  runner: LaunchedRunner,
  now: Date,
): Promise<boolean> {
  const key = LEDGER_KEYS.partitionKey;
  try {
    await ledger.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: ledger.table,
              Key: { [key]: holder.jobId },
              UpdateExpression:
                "SET runners = list_append(runners, :runner), #state = :launched, #version = :version, updatedAt = :now, expiresAt = :expiresAt, #due = :now, lastError = :note REMOVE nextAttemptAt",
              ConditionExpression: "#state = :queued AND #version = :fromVersion",
              ExpressionAttributeNames: {
                "#state": "state",
                "#version": "version",
                "#due": LEDGER_KEYS.dueIndexSortKey,
              },
              ExpressionAttributeValues: {
                ":runner": [runner],
                ":launched": "launched",
                ":queued": "queued",
                ":version": holder.version + 1,
                ":fromVersion": holder.version,
                ":now": now.toISOString(),
                ":expiresAt": expiresAt(now),
                ":note": `runner ${runner.runnerName}, started for job ${thiefId}, serves this job`,
              },
            },
          },
          {
            Update: {
              TableName: ledger.table,
              Key: { [key]: thiefId },
              UpdateExpression:
                "SET runners = list_append(if_not_exists(runners, :none), :runner), #version = #version + :one, updatedAt = :now",
              ConditionExpression: "attribute_exists(#key)",
              ExpressionAttributeNames: { "#version": "version", "#key": key },
              ExpressionAttributeValues: {
                ":none": [],
                ":runner": [{ ...runner, transferredTo: holder.jobId }],
                ":one": 1,
                ":now": now.toISOString(),
              },
            },
          },
        ],
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof TransactionCanceledException) return false;
    throw error;
  }
}
