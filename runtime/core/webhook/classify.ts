/**
 * Deciding what a signed delivery means: which event, whether it is a queued job, which pool serves it.
 * Pure functions over the (already verified) headers and body.
 */
import { DELIVERY_ID } from "../../../contract/job.js";
import { distinctLabels, matchPool, type RuntimePool } from "../../../contract/pool.js";
import type { Accepted, Classification, Ignored, QueuedJob, Rejection } from "./outcome.js";

/**
 * Classifies a delivery whose signature has been verified. `headers` have lower-case names.
 * Every GitHub delivery carries `X-GitHub-Event` and `X-GitHub-Delivery`; a request without them is refused.
 */
export function classifyEvent(
  headers: Record<string, string>,
  body: string,
  pools: readonly RuntimePool[],
): Classification {
  const event = headers["x-github-event"];
  if (!event) return reject("header-missing", "missing header X-GitHub-Event");
  const deliveryId = headers["x-github-delivery"];
  if (!deliveryId) return reject("header-missing", "missing header X-GitHub-Delivery");
  if (!DELIVERY_ID.test(deliveryId)) {
    return reject("header-invalid", "X-GitHub-Delivery must be 1-128 printable ASCII characters without spaces");
  }

  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch (error) {
    const hint = body.startsWith("payload=") ? " (the webhook's content type must be application/json, not form)" : "";
    return { ...reject("json-malformed", `body is not valid JSON${hint}: ${(error as Error).message}`), deliveryId };
  }
  if (!isObject(payload)) return { ...reject("json-malformed", "body must be a JSON object"), deliveryId };

  if (event === "ping") return { kind: "pong", status: 200, deliveryId };
  if (event !== "workflow_job") {
    return {
      kind: "ignore",
      status: 200,
      reason: "event-not-handled",
      message: `event ${event} is not handled`,
      deliveryId,
    };
  }
  return { ...parseWorkflowJob(payload, pools), deliveryId };
}

/**
 * Reads a `workflow_job` payload. Only `action: queued` can start a runner. For a queued job, the labels are read
 * first and matched to a pool; a job no pool serves (GitHub-hosted, another runner fleet) is ignored without
 * looking further, so a delivery we do not need never fails. A job we do serve must carry every field the launcher
 * needs (and a valid `installation.id` when the delivery carries one), or it is refused with a 400 naming the field;
 * the field values themselves are checked once, by the job message codec (`toJobMessage`).
 */
export function parseWorkflowJob(
  payload: Record<string, unknown>,
  pools: readonly RuntimePool[],
): Accepted | Ignored | Rejection {
  const action = payload.action;
  if (action === undefined) return reject("field-missing", "missing field action");
  if (typeof action !== "string") return reject("field-invalid", "field action must be a string");
  if (action !== "queued") {
    return {
      kind: "ignore",
      status: 200,
      reason: "action-not-queued",
      message: `workflow_job action ${action} needs no runner`,
    };
  }

  const labels = read(payload, "workflow_job.labels");
  if (labels === undefined) return reject("field-missing", "missing field workflow_job.labels");
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === "string")) {
    return reject("field-invalid", "field workflow_job.labels must be an array of strings");
  }
  const pool = matchPool(labels, pools);
  if (!pool) {
    return {
      kind: "ignore",
      status: 200,
      reason: "no-matching-pool",
      message: `no pool has exactly the labels [${labels.join(", ")}]`,
      details: { labels, jobId: read(payload, "workflow_job.id"), repository: read(payload, "repository.full_name") },
    };
  }

  const jobId = positiveInteger(payload, "workflow_job.id");
  if (isRejection(jobId)) return jobId;
  const runId = positiveInteger(payload, "workflow_job.run_id");
  if (isRejection(runId)) return runId;
  const runAttempt = positiveInteger(payload, "workflow_job.run_attempt");
  if (isRejection(runAttempt)) return runAttempt;
  const repository = nonEmptyString(payload, "repository.full_name");
  if (isRejection(repository)) return repository;
  const owner = nonEmptyString(payload, "repository.owner.login");
  if (isRejection(owner)) return owner;
  // Only GitHub App webhooks carry installation.id; organization and repository webhooks do not, and the
  // launcher resolves the installation itself. When present it must be valid.
  let installationId: number | undefined;
  if (isObject(payload.installation) && payload.installation.id !== undefined) {
    const parsed = positiveInteger(payload, "installation.id");
    if (isRejection(parsed)) return parsed;
    installationId = parsed;
  }

  const job: QueuedJob = {
    jobId,
    runId,
    runAttempt,
    repository,
    owner,
    installationId,
    labels: distinctLabels(labels),
  };
  return { kind: "accept", status: 202, job, pool };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at a dotted path, or undefined when any step is missing or not an object. */
function read(payload: Record<string, unknown>, path: string): unknown {
  let value: unknown = payload;
  for (const key of path.split(".")) {
    if (!isObject(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}

function positiveInteger(payload: Record<string, unknown>, path: string): number | Rejection {
  const value = read(payload, path);
  if (value === undefined || value === null) return reject("field-missing", `missing field ${path}`);
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    return reject("field-invalid", `field ${path} must be a positive integer`);
  }
  return value;
}

function nonEmptyString(payload: Record<string, unknown>, path: string): string | Rejection {
  const value = read(payload, path);
  if (value === undefined || value === null) return reject("field-missing", `missing field ${path}`);
  if (typeof value !== "string" || value.length === 0)
    return reject("field-invalid", `field ${path} must be a non-empty string`);
  return value;
}

function isRejection(value: unknown): value is Rejection {
  return isObject(value) && value.kind === "reject";
}

function reject(reason: Rejection["reason"], message: string): Rejection {
  return { kind: "reject", status: 400, reason, message };
}
