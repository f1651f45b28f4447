/**
 * The job ledger's one adapter: every DynamoDB call on the ledger table (contract/ledger.ts), through the document
 * client. Writes are conditional; a refused condition is an ordinary answer (someone else moved the record first),
 * returned with the record as it now is, never thrown.
 *
 * DynamoDB behaviour relied on (AWS docs, "Condition expressions" and "UpdateItem"): a failed condition raises
 * `ConditionalCheckFailedException` and writes nothing; `ReturnValues: "ALL_NEW"` gives the item after the update;
 * a global secondary index holds only items that carry its key attributes (a "sparse index"), so removing `dueAt`
 * takes a record out of the reconciler's work list.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, paginateQuery, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  canMove,
  type JobMove,
  type JobRecord,
  type JobState,
  jobRecordSchema,
  LEDGER_KEYS,
  LEDGER_RETENTION_MS,
  type LaunchedRunner,
  type NewJobRecord,
} from "../../contract/ledger.js";

export interface Ledger {
  client: DynamoDBDocumentClient;
  table: string;
}

/** The ledger on `table`; the document client drops `undefined` fields instead of refusing them. */
export function ledgerOf(dynamodb: DynamoDBClient, table: string): Ledger {
  return {
    client: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    table,
  };
}

/** A move (contract/ledger.ts) and what only the adapter's callers add to one. */
export interface JobUpdate extends JobMove {
  /** Appended to `runners`. */
  addRunner?: LaunchedRunner;
  /** The runner at this index of `runners` was taken by job `by` (the record's version guards the index). */
  markTaken?: { index: number; by: number };
  /** Overrides the default due time (see `dueAtFor`). */
  dueAt?: string;
}

export type Moved = { moved: true; record: JobRecord } | { moved: false; record: JobRecord | undefined };
export type Recorded = { created: boolean; record: JobRecord };

/**
 * A launcher claims a job for at most this long: Lambda's maximum timeout (15 minutes, AWS Lambda quotas). After
 * it, a record still `launching` is due, and the reconciler takes over from a launcher that died mid-launch.
 */
export const LAUNCH_LEASE_MS = 15 * 60 * 1000;

/**
 * When a record in `state` next needs the reconciler's attention (the index's sort key), or undefined for states
 * that leave the work list: a queued job when its backoff ends (now, without one); a launching job when the
 * launcher's lease runs out; a launched job from its launch on (the reconciler applies its boot grace); a waiting
 * job at once, so the reconciler asks GitHub whether its approval came (approval sends no delivery this stack can
 * count on); the reconciler then moves its `dueAt` on by `WAITING_POLL_MS` after each check (`deferJob`).
 */
export function dueAtFor(state: JobState, now: Date, nextAttemptAt?: string): string | undefined {
  if (state === "queued") return nextAttemptAt ?? now.toISOString();
  if (state === "waiting") return now.toISOString();
  if (state === "launching") return new Date(now.getTime() + LAUNCH_LEASE_MS).toISOString();
  if (state === "launched") return now.toISOString();
  return undefined;
}

export function expiresAt(now: Date): number {
  return Math.ceil((now.getTime() + LEDGER_RETENTION_MS) / 1000);
}

export function parseRecord(item: Record<string, unknown>): JobRecord {
  const parsed = jobRecordSchema.safeParse(item);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(`ledger record ${String(item.jobId)} is malformed: ${issue.path.join(".")}: ${issue.message}`);
}

/** The record of `jobId`, read consistently (a write just refused must be seen), or undefined. */
export async function getJob(ledger: Ledger, jobId: number): Promise<JobRecord | undefined> {
  const { Item } = await ledger.client.send(
    new GetCommand({ TableName: ledger.table, Key: { [LEDGER_KEYS.partitionKey]: jobId }, ConsistentRead: true }),
  );
  return Item ? parseRecord(Item) : undefined;
}

/**
 * Creates the job's record unless one exists (`attribute_not_exists`): the first delivery creates it, every later
 * one gets the existing record back with `created: false`.
 */
export async function recordJob(ledger: Ledger, job: NewJobRecord, now: Date): Promise<Recorded> {
  const record = parseRecord({
    ...job,
    version: 0,
    runners: [],
    attempts: job.attempts ?? 0,
    updatedAt: now.toISOString(),
    expiresAt: expiresAt(now),
  });
  const dueAt = dueAtFor(record.state, now, record.nextAttemptAt);
  try {
    await ledger.client.send(
      new PutCommand({
        TableName: ledger.table,
        Item: { ...record, [LEDGER_KEYS.dueIndexSortKey]: record.pool ? dueAt : undefined },
        ConditionExpression: "attribute_not_exists(#key)",
        ExpressionAttributeNames: { "#key": LEDGER_KEYS.partitionKey },
      }),
    );
    return { created: true, record };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const existing = await getJob(ledger, job.jobId);
    if (!existing) throw new Error(`job ${job.jobId}: the ledger refused to create it, yet holds no record`);
    return { created: false, record: existing };
  }
}

/**
 * Moves the record from `fromState` at `fromVersion` to `update.state`, bumping the version. Refused (and
 * `moved: false` with the current record) when the record is no longer in that state at that version.
 */
export async function moveJob(
  ledger: Ledger,
  jobId: number,
  fromState: JobState,
  fromVersion: number,
  update: JobUpdate,
  now: Date,
): Promise<Moved> {
  if (!canMove(fromState, update.state))
    throw new Error(`job ${jobId}: a record may not move from ${fromState} to ${update.state}`);
  const names: Record<string, string> = { "#state": "state", "#version": "version" };
  const values: Record<string, unknown> = {
    ":from": fromState,
    ":fromVersion": fromVersion,
    ":to": update.state,
    ":version": fromVersion + 1,
    ":updatedAt": now.toISOString(),
    ":expiresAt": expiresAt(now),
  };
  const set = ["#state = :to", "#version = :version", "updatedAt = :updatedAt", "expiresAt = :expiresAt"];
  const remove: string[] = [];
  const fields = {
    attempts: update.attempts,
    nextAttemptAt: update.nextAttemptAt,
    lastError: update.lastError,
    ranOn: update.ranOn,
    startedAt: update.startedAt,
    completedAt: update.completedAt,
  };
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (value === null) remove.push(field);
    else {
      set.push(`${field} = :${field}`);
      values[`:${field}`] = value;
    }
  }
  if (update.markTaken && update.markTaken.index >= 0) {
    set.push(`runners[${update.markTaken.index}].takenBy = :takenBy`);
    values[":takenBy"] = update.markTaken.by;
  }
  if (update.addRunner) {
    set.push("runners = list_append(if_not_exists(runners, :none), :runner)");
    values[":none"] = [];
    values[":runner"] = [update.addRunner];
  }
  const nextAttemptAt = update.nextAttemptAt === null ? undefined : update.nextAttemptAt;
  const dueAt = update.dueAt ?? dueAtFor(update.state, now, nextAttemptAt);
  names["#due"] = LEDGER_KEYS.dueIndexSortKey;
  if (dueAt) {
    set.push("#due = :due");
    values[":due"] = dueAt;
  } else remove.push("#due");
  try {
    const { Attributes } = await ledger.client.send(
      new UpdateCommand({
        TableName: ledger.table,
        Key: { [LEDGER_KEYS.partitionKey]: jobId },
        UpdateExpression: `SET ${set.join(", ")}${remove.length ? ` REMOVE ${remove.join(", ")}` : ""}`,
        ConditionExpression: "#state = :from AND #version = :fromVersion",
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: "ALL_NEW",
      }),
    );
    return { moved: true, record: parseRecord(Attributes ?? {}) };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return { moved: false, record: await getJob(ledger, jobId) };
  }
}

/**
 * Moves a record's due time to `dueAt` without changing anything else (a waiting job checked and still waiting):
 * conditional on the state and version read, and without bumping the version, so a delivery that moves the job
 * meanwhile is never refused because of it. Returns false when the record moved on first.
 */
export async function deferJob(
  ledger: Ledger,
  record: Pick<JobRecord, "jobId" | "state" | "version">,
  dueAt: string,
): Promise<boolean> {
  try {
    await ledger.client.send(
      new UpdateCommand({
        TableName: ledger.table,
        Key: { [LEDGER_KEYS.partitionKey]: record.jobId },
        UpdateExpression: "SET #due = :due",
        ConditionExpression: "#state = :state AND #version = :version",
        ExpressionAttributeNames: { "#due": LEDGER_KEYS.dueIndexSortKey, "#state": "state", "#version": "version" },
        ExpressionAttributeValues: { ":due": dueAt, ":state": record.state, ":version": record.version },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Appends a runner to the job's record whatever its state (a launch that finished after the job was cancelled
 * or stolen must still be recorded, so the reconciler can end that runner). Undefined when there is no record.
 */
export async function addRunner(
  ledger: Ledger,
  jobId: number,
  runner: LaunchedRunner,
  now: Date,
): Promise<JobRecord | undefined> {
  try {
    const { Attributes } = await ledger.client.send(
      new UpdateCommand({
        TableName: ledger.table,
        Key: { [LEDGER_KEYS.partitionKey]: jobId },
        UpdateExpression:
          "SET runners = list_append(if_not_exists(runners, :none), :runner), #version = #version + :one, updatedAt = :now",
        ConditionExpression: "attribute_exists(#key)",
        ExpressionAttributeNames: { "#key": LEDGER_KEYS.partitionKey, "#version": "version" },
        ExpressionAttributeValues: { ":none": [], ":runner": [runner], ":one": 1, ":now": now.toISOString() },
        ReturnValues: "ALL_NEW",
      }),
    );
    return parseRecord(Attributes ?? {});
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

/**
 * Marks the runner on `instanceId` ended (`endedAt`), guarded by the instance id at that list position so a
 * concurrent append cannot misplace it. False when the record or the runner is not there.
 */
export async function markRunnerEnded(
  ledger: Ledger,
  record: Pick<JobRecord, "jobId" | "runners">,
  instanceId: string,
  endedAt: Date,
): Promise<boolean> {
  const index = record.runners.findIndex((r) => r.instanceId === instanceId);
  if (index < 0) return false;
  try {
    await ledger.client.send(
      new UpdateCommand({
        TableName: ledger.table,
        Key: { [LEDGER_KEYS.partitionKey]: record.jobId },
        UpdateExpression: `SET runners[${index}].endedAt = :endedAt, #version = #version + :one`,
        ConditionExpression: `runners[${index}].instanceId = :instanceId`,
        ExpressionAttributeNames: { "#version": "version" },
        ExpressionAttributeValues: { ":endedAt": endedAt.toISOString(), ":instanceId": instanceId, ":one": 1 },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Up to `limit` records of `pool` that are due at `now` (waiting, queued, launching, launched), earliest first. */
export async function dueJobs(ledger: Ledger, pool: string, now: Date, limit: number): Promise<JobRecord[]> {
  const records: JobRecord[] = [];
  const pages = paginateQuery(
    { client: ledger.client, pageSize: Math.min(limit, 100) },
    {
      TableName: ledger.table,
      IndexName: LEDGER_KEYS.dueIndex,
      KeyConditionExpression: "#pool = :pool AND #due <= :now",
      ExpressionAttributeNames: { "#pool": LEDGER_KEYS.dueIndexPartitionKey, "#due": LEDGER_KEYS.dueIndexSortKey },
      ExpressionAttributeValues: { ":pool": pool, ":now": now.toISOString() },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      records.push(parseRecord(item));
      if (records.length >= limit) return records;
    }
  }
  return records;
}
