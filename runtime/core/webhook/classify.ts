/**
 * Deciding what a signed delivery means: which event, whether it is about a job of this stack, which pool serves
 * it. Pure functions over the (already verified) headers and body.
 */
import { DELIVERY_ID } from "../../../contract/job.js";
import { parseRunnerName } from "../../../contract/names.js";
import { distinctLabels, type RuntimePool, routeJob } from "../../../contract/pool.js";
import type { RunnerScope } from "../../../contract/runner-target.js";
import { JOB_ACTIONS, type JobAction, type JobDelivery } from "../jobs/lifecycle.js";
import { buildJobMessage, encodeForQueue } from "./job-message.js";
import type { Accepted, Classification, Ignored, Rejection } from "./outcome.js";

/** Whose jobs the stack serves: its owner's, and in repo scope only the configured repositories. */
export interface Served {
  pools: readonly RuntimePool[];
  owner: string;
  scope: RunnerScope;
  /** Repository names without owner (repo scope). */
  repositories: readonly string[];
}

/**
 * Classifies a delivery whose signature has been verified. `headers` have lower-case names.
 * Every GitHub delivery carries `X-GitHub-Event` and `X-GitHub-Delivery`; a request without them is refused.
 */
export function classifyEvent(headers: Record<string, string>, body: string, served: Served): Classification {
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
  return { ...parseWorkflowJob(payload, served), deliveryId };
}

/**
 * Reads a `workflow_job` payload into a `JobDelivery`. Cheap checks first, so a delivery we do not need never
 * fails: the action, the repository's owner (a correctly signed delivery may still be about another owner's
 * repository, e.g. a webhook copied to another organization), in repo scope the configured repositories, then the
 * labels. A job no pool serves is ignored, unless it runs (or ran) on a runner this stack named: that job may have
 * taken a runner launched for another job, which the ledger must hear about. A job we record must carry every
 * field the launcher needs (and a valid `installation.id` when the delivery carries one), or it is refused with a
 * 400 naming the field; the values are checked by the job message codec.
 */
export function parseWorkflowJob(payload: Record<string, unknown>, served: Served): Accepted | Ignored | Rejection {
  const action = payload.action;
  if (action === undefined) return reject("field-missing", "missing field action");
  if (typeof action !== "string") return reject("field-invalid", "field action must be a string");
  if (!(JOB_ACTIONS as readonly string[]).includes(action))
    return ignore("action-not-handled", `workflow_job action ${action} is not handled`);

  const owner = nonEmptyString(payload, "repository.owner.login");
  if (isRejection(owner)) return owner;
  const repository = nonEmptyString(payload, "repository.full_name");
  if (isRejection(repository)) return repository;
  // GitHub logins and repository names are case-insensitive.
  if (owner.toLowerCase() !== served.owner.toLowerCase())
    return ignore("other-owner", `repository ${repository} belongs to ${owner}, not to ${served.owner}`);
  const name = repository.slice(repository.indexOf("/") + 1).toLowerCase();
  if (served.scope === "repo" && !served.repositories.some((r) => r.toLowerCase() === name))
    return ignore("repository-not-configured", `repository ${repository} is not one this stack serves`);

  const labels = read(payload, "workflow_job.labels");
  if (labels === undefined) return reject("field-missing", "missing field workflow_job.labels");
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === "string")) {
    return reject("field-invalid", "field workflow_job.labels must be an array of strings");
  }
  const runnerName = optionalString(payload, "workflow_job.runner_name");
  if (isRejection(runnerName)) return runnerName;
  const ourRunnerPool = runnerName ? parseRunnerName(runnerName)?.pool : undefined;
  const pool = routeJob(labels, served.pools);
  const runsOnOurs = action !== "queued" && action !== "waiting" && served.pools.some((p) => p.name === ourRunnerPool);
  if (!pool && !runsOnOurs) {
    return ignore("no-matching-pool", `no pool has all of the labels [${labels.join(", ")}]`, {
      labels,
      jobId: read(payload, "workflow_job.id"),
      repository,
    });
  }

  const jobId = positiveInteger(payload, "workflow_job.id");
  if (isRejection(jobId)) return jobId;
  const runId = positiveInteger(payload, "workflow_job.run_id");
  if (isRejection(runId)) return runId;
  const runAttempt = positiveInteger(payload, "workflow_job.run_attempt");
  if (isRejection(runAttempt)) return runAttempt;
  // Only GitHub App webhooks carry installation.id; organization and repository webhooks do not, and the
  // launcher resolves the installation itself. When present it must be valid.
  let installationId: number | undefined;
  if (isObject(payload.installation) && payload.installation.id !== undefined) {
    const parsed = positiveInteger(payload, "installation.id");
    if (isRejection(parsed)) return parsed;
    installationId = parsed;
  }
  const times: Partial<Record<"createdAt" | "startedAt" | "completedAt", string>> = {};
  for (const [key, field] of [
    ["createdAt", "created_at"],
    ["startedAt", "started_at"],
    ["completedAt", "completed_at"],
  ] as const) {
    const value = read(payload, `workflow_job.${field}`);
    if (value === undefined || value === null) continue;
    if (typeof value !== "string" || Number.isNaN(Date.parse(value)))
      return reject("field-invalid", `field workflow_job.${field} must be a date-time`);
    times[key] = new Date(value).toISOString();
  }
  const status = optionalString(payload, "workflow_job.status");
  if (isRejection(status)) return status;

  const delivery: JobDelivery = {
    action: action as JobAction,
    status,
    job: { jobId, runId, runAttempt, repository, owner, installationId, labels: distinctLabels(labels) },
    pool: pool?.name,
    runnerName,
    ...times,
  };
  // The values a launch needs, checked once by the codec the launcher decodes with.
  const encoded = encodeForQueue(
    buildJobMessage({ ...delivery.job, pool: pool?.name ?? (ourRunnerPool as string), version: 0 }, new Date(0)),
  );
  if ("kind" in encoded) return encoded;
  return { kind: "accept", status: 202, delivery };
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

function optionalString(payload: Record<string, unknown>, path: string): string | undefined | Rejection {
  const value = read(payload, path);
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") return reject("field-invalid", `field ${path} must be a string`);
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

function ignore(reason: Ignored["reason"], message: string, details?: Record<string, unknown>): Ignored {
  return { kind: "ignore", status: 200, reason, message, ...(details ? { details } : {}) };
}

function reject(reason: Rejection["reason"], message: string): Rejection {
  return { kind: "reject", status: 400, reason, message };
}
