/**
 * Parsing and validation of the job messages the webhook function puts on the FIFO queue. Pure: a body in,
 * a typed `JobMessage` or a reason that names what is wrong out. A malformed message is never dropped: the
 * handler fails it, so that it reaches the dead-letter queue after `maxReceiveCount` receives.
 */
import type { JobMessage } from "../../contract/job.js";

export type ParseResult = { ok: true; message: JobMessage } | { ok: false; reason: string };

const REPOSITORY = /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9_.-]{1,100}$/;

function positiveInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.trim().length > 0;
}

/** Parses one SQS message body into a `JobMessage`, naming the first field that is wrong. */
export function parseJobMessage(body: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: `body is not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { ok: false, reason: "body is not a JSON object" };
  const m = value as Record<string, unknown>;
  if (m.version !== 1)
    return { ok: false, reason: `unsupported message version ${JSON.stringify(m.version)} (expected 1)` };
  for (const field of ["deliveryId", "pool", "owner", "enqueuedAt"] as const) {
    if (!nonEmptyString(m[field])) return { ok: false, reason: `${field} must be a non-empty string` };
  }
  for (const field of ["jobId", "runId", "runAttempt"] as const) {
    if (!positiveInteger(m[field]))
      return { ok: false, reason: `${field} must be a positive integer, got ${JSON.stringify(m[field])}` };
  }
  if (m.installationId !== undefined && !positiveInteger(m.installationId)) {
    return {
      ok: false,
      reason: `installationId must be a positive integer when present, got ${JSON.stringify(m.installationId)}`,
    };
  }
  if (typeof m.repository !== "string" || !REPOSITORY.test(m.repository)) {
    return { ok: false, reason: `repository must be "owner/name", got ${JSON.stringify(m.repository)}` };
  }
  if (!Array.isArray(m.labels) || m.labels.length === 0 || !m.labels.every(nonEmptyString)) {
    return { ok: false, reason: "labels must be a non-empty array of strings" };
  }
  if (Number.isNaN(Date.parse(m.enqueuedAt as string)))
    return { ok: false, reason: `enqueuedAt is not an ISO time: ${JSON.stringify(m.enqueuedAt)}` };
  const message: JobMessage = {
    version: 1,
    deliveryId: m.deliveryId as string,
    pool: m.pool as string,
    jobId: m.jobId as number,
    runId: m.runId as number,
    runAttempt: m.runAttempt as number,
    repository: m.repository,
    owner: m.owner as string,
    ...(m.installationId === undefined ? {} : { installationId: m.installationId as number }),
    labels: m.labels as string[],
    enqueuedAt: m.enqueuedAt as string,
  };
  return { ok: true, message };
}
