/**
 * The job message a launch request becomes: built from the job's ledger record and encoded with the contract's
 * codec, so nothing can queue what the launcher's decoder refuses.
 */
import { encodeJobMessage, type JobMessage, type jobMessageSchema } from "../../../contract/job.js";
import type { JobRecord } from "../../../contract/ledger.js";
import type { Rejection } from "./outcome.js";

/** Where each message field comes from in the delivery, so a codec error names what GitHub sent. */
const SOURCE_OF_FIELD: Record<keyof typeof jobMessageSchema.shape, string> = {
  version: "message version",
  deliveryId: "header X-GitHub-Delivery",
  recordVersion: "ledger record version",
  pool: "pool name",
  jobId: "field workflow_job.id",
  runId: "field workflow_job.run_id",
  runAttempt: "field workflow_job.run_attempt",
  repository: "field repository.full_name",
  owner: "field repository.owner.login",
  installationId: "field installation.id",
  labels: "field workflow_job.labels",
  enqueuedAt: "enqueue time",
};

/**
 * The launch request for a job's record: built by the webhook and the reconciler from the record they just moved
 * to `queued` (its version names the launch decision; see contract/job.ts).
 */
export function buildJobMessage(
  record: Pick<
    JobRecord,
    "jobId" | "runId" | "runAttempt" | "repository" | "owner" | "installationId" | "labels" | "version"
  > & { pool: string },
  now: Date,
  deliveryId?: string,
): JobMessage {
  return {
    version: 1,
    ...(deliveryId === undefined ? {} : { deliveryId }),
    recordVersion: record.version,
    pool: record.pool,
    jobId: record.jobId,
    runId: record.runId,
    runAttempt: record.runAttempt,
    repository: record.repository,
    owner: record.owner,
    ...(record.installationId === undefined ? {} : { installationId: record.installationId }),
    labels: [...record.labels],
    enqueuedAt: now.toISOString(),
  };
}

/** The queue body of a job message, or a 400 naming the delivery's field the codec refused. */
export function encodeForQueue(message: JobMessage): { body: string } | Rejection {
  const encoded = encodeJobMessage(message);
  if (encoded.ok) return { body: encoded.value };
  const [field, ...rest] = encoded.field.split(".");
  const source = SOURCE_OF_FIELD[field as keyof typeof SOURCE_OF_FIELD] ?? `field ${encoded.field}`;
  const where = rest.length > 0 ? `${source}[${rest.join(".")}]` : source;
  const reason = encoded.reason.startsWith(`${encoded.field}: `)
    ? encoded.reason.slice(encoded.field.length + 2)
    : encoded.reason;
  return { kind: "reject", status: 400, reason: "field-invalid", message: `${where} is invalid: ${reason}` };
}
