/**
 * The job message a queued job becomes: built from the classified delivery and encoded with the contract's
 * codec, so the webhook can only queue what the launcher's decoder accepts.
 */
import { encodeJobMessage, type JobMessage, type jobMessageSchema } from "../../../contract/job.js";
import type { RuntimePool } from "../../../contract/pool.js";
import type { QueuedJob, Rejection } from "./outcome.js";

/** Where each message field comes from in the delivery, so a codec error names what GitHub sent. */
const SOURCE_OF_FIELD: Record<keyof typeof jobMessageSchema.shape, string> = {
  version: "message version",
  deliveryId: "header X-GitHub-Delivery",
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

export function buildJobMessage(
  job: QueuedJob,
  pool: Pick<RuntimePool, "name">,
  deliveryId: string,
  now: Date,
): JobMessage {
  return {
    version: 1,
    deliveryId,
    pool: pool.name,
    jobId: job.jobId,
    runId: job.runId,
    runAttempt: job.runAttempt,
    repository: job.repository,
    owner: job.owner,
    ...(job.installationId === undefined ? {} : { installationId: job.installationId }),
    labels: [...job.labels],
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
