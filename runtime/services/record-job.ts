/**
 * Recording one `workflow_job` delivery in the ledger (core/jobs/lifecycle.ts decides, this applies): one
 * conditional write in the common case, a launch request on the job queue when the job needs a runner, and, when
 * the job started on a runner that served another job, that job's runner replaced (swap or relaunch). A refused write means someone else moved the record first:
 * decide again from the record as it now is.
 */
import type { JobMessage } from "../../contract/job.js";
import type { JobRecord } from "../../contract/ledger.js";
import { getJob, type Ledger, moveJob, recordJob } from "../adapters/ledger.js";
import { transferRunner } from "../adapters/ledger-transfer.js";
import { decideDelivery, type JobDelivery, type Outcome, type Verdict, type Write } from "../core/jobs/lifecycle.js";
import { decideSwap, type PoolLabels } from "../core/jobs/swap.js";
import { findHolder } from "./hand-over.js";
import { buildJobMessage, encodeForQueue } from "../core/webhook/job-message.js";

/** Enough for any real interleaving of one job's deliveries, launcher and reconciler. */
const MAX_TRIES = 5;

export interface RecordDeps {
  ledger: Ledger;
  /** Sends one launch request (`body` is its encoding); throws when the queue did not take it. */
  enqueue(message: JobMessage, body: string): Promise<void>;
  /** The stack's pools: which runner can serve which job when one job takes another's runner. */
  pools: readonly PoolLabels[];
  now(): Date;
}

export interface RecordResult {
  /** What was recorded, or undefined when the delivery moved nothing (`reason` says why). */
  outcome?: Outcome;
  reason?: string;
  record?: JobRecord;
  /** Launch requests this delivery queued (0 or 1 for the job, plus 1 for a relaunched victim). */
  enqueued: number;
  /** The job relaunched because this job took its runner, with its pool. */
  compensated?: { jobId: number; pool?: string };
  /** The job this job's own runner was handed to, because this job took that job's runner (nothing launched). */
  swapped?: { jobId: number; pool?: string };
}

/** Applies `verdict` until it lands or the record says nothing is left to do. */
async function settle(
  deps: RecordDeps,
  decide: (current: JobRecord | undefined) => Verdict,
  first: JobRecord | undefined,
): Promise<{ verdict: Verdict; record?: JobRecord }> {
  let current = first;
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const verdict = decide(current);
    if (!verdict.write) return { verdict, record: current };
    const result = await write(deps, verdict.write);
    if (result.landed) return { verdict, record: result.record };
    current = result.record;
  }
  throw new Error("the job's record kept changing under this delivery; it will be retried");
}

async function write(deps: RecordDeps, w: Write): Promise<{ landed: boolean; record?: JobRecord }> {
  const now = deps.now();
  if (w.kind === "create") {
    const { created, record } = await recordJob(deps.ledger, w.record, now);
    return { landed: created, record };
  }
  const moved = await moveJob(deps.ledger, w.jobId, w.from, w.version, w.move, now);
  return { landed: moved.moved, record: moved.record };
}

async function enqueue(deps: RecordDeps, record: JobRecord, deliveryId?: string): Promise<void> {
  if (!record.pool) throw new Error(`job ${record.jobId} has no pool to launch in`);
  const message = buildJobMessage({ ...record, pool: record.pool }, deps.now(), deliveryId);
  const encoded = encodeForQueue(message);
  if ("kind" in encoded) throw new Error(`job ${record.jobId}: ${encoded.message}`);
  await deps.enqueue(message, encoded.body);
}

/**
 * Records `delivery`. Deliveries that can create the record (`queued`, `waiting`) try the create first; the others
 * read the record first, as it usually exists. Throws only when the ledger or the queue failed.
 */
export async function recordDelivery(
  delivery: JobDelivery,
  deliveryId: string,
  deps: RecordDeps,
): Promise<RecordResult> {
  const optimistic = delivery.action === "queued" || delivery.action === "waiting";
  const first = optimistic ? undefined : await getJob(deps.ledger, delivery.job.jobId);
  const { verdict, record } = await settle(deps, (current) => decideDelivery(delivery, current, deps.now()), first);
  if (!verdict.write) return { reason: verdict.reason, record, enqueued: 0 };
  if (!record) throw new Error(`job ${delivery.job.jobId}: the ledger returned no record after a write`);

  const result: RecordResult = { outcome: verdict.outcome, record, enqueued: 0 };
  if (verdict.enqueue) {
    await enqueue(deps, record, deliveryId);
    result.enqueued++;
  }
  if (verdict.tookRunnerOf !== undefined && delivery.runnerName) {
    const { relaunched, transferred } = await compensate(
      deps,
      verdict.tookRunnerOf,
      delivery.job.jobId,
      delivery.runnerName,
    );
    if (relaunched) {
      result.compensated = { jobId: relaunched.jobId, pool: relaunched.pool };
      result.enqueued++;
    }
    if (transferred) result.swapped = { jobId: transferred.jobId, pool: transferred.pool };
  }
  return result;
}

/**
 * Stealing, by GitHub's rules (core/jobs/swap.ts): the job that runner served keeps a runner — the thief's own, if
 * one fits (nothing launched) — or goes back to `queued` with one launch request through the launcher's capacity
 * check. Returns the job relaunched, if any. A refused write means a record moved: read both and decide again.
 */
async function compensate(
  deps: RecordDeps,
  namedJobId: number,
  thiefId: number,
  runnerName: string,
): Promise<{ relaunched?: JobRecord; transferred?: JobRecord }> {
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const thief = await getJob(deps.ledger, thiefId);
    if (!thief) return {};
    const holder = await findHolder(deps.ledger, namedJobId, runnerName);
    const decision = decideSwap(holder, thief, runnerName, deps.pools);
    if (decision.kind === "none" || !holder) return {};
    if (decision.kind === "transfer") {
      const { runner, thiefIndex, takenIndex, note } = decision;
      const transfer = { holder, takenIndex, thiefId, thiefIndex, runner, note };
      if (await transferRunner(deps.ledger, transfer, deps.now())) return { transferred: holder };
      continue;
    }
    const update = { ...decision.move, markTaken: { index: decision.takenIndex, by: thiefId } };
    const moved = await moveJob(deps.ledger, holder.jobId, holder.state, holder.version, update, deps.now());
    if (!moved.moved) continue;
    await enqueue(deps, moved.record);
    return { relaunched: moved.record };
  }
  throw new Error("the records of a taken runner kept changing under this delivery; it will be retried");
}
