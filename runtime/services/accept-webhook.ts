/**
 * The webhook's request flow, with its side effects (secret, ledger and queue, logs, metrics) passed in:
 *   method and size (405, 413) -> signature (401) -> headers and JSON (400) -> event, owner, repository, labels
 *   -> record in the ledger (and request a launch when the job needs one).
 * The decisions are the pure functions in core/webhook (request, signature, classify) and core/jobs (lifecycle).
 */
import type { APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { METRIC as JOB_METRIC, POOL_DIMENSION } from "../../contract/metrics.js";
import { parseRunnerName } from "../../contract/names.js";
import type { JobDelivery } from "../core/jobs/lifecycle.js";
import { classifyEvent, type Served } from "../core/webhook/classify.js";
import type { Classification, Rejection } from "../core/webhook/outcome.js";
import { type HttpEvent, MAX_BODY_BYTES, readRequest } from "../core/webhook/request.js";
import { verifySignature } from "../core/webhook/signature.js";
import type { RecordResult } from "./record-job.js";

/** What the handler needs from a logger (Powertools Logger fits). */
export interface WebhookLogger {
  appendPersistentKeys(keys: Record<string, unknown>): void;
  addContext(context: Context): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** What the handler needs from a metrics client (Powertools Metrics fits). */
export interface WebhookMetrics {
  addDimension(name: string, value: string): unknown;
  addMetric(name: string, unit: "Count" | "Seconds", value: number): unknown;
  publishStoredMetrics(): unknown;
  /** A metric published on its own, with its own dimensions (Powertools `singleMetric`). */
  singleMetric(): {
    addDimension(name: string, value: string): unknown;
    addMetric(name: string, unit: "Count" | "Seconds", value: number): unknown;
  };
}

export const METRIC = {
  accepted: "WebhookAccepted",
  ignored: "WebhookIgnored",
  rejected: "WebhookRejected",
  /** Our side failed (secret unreadable, ledger or queue unreachable): answered 500, to be redelivered. */
  failed: "WebhookFailed",
} as const;

export interface WebhookDependencies {
  /** The stack's owner, scope, repositories and pools: whose jobs it records. */
  served: Served;
  /** The webhook secret (cached by the caller). */
  webhookSecret(): Promise<string>;
  /** Records a delivery in the ledger (services/record-job.ts); throws when the ledger or the queue failed. */
  record(delivery: JobDelivery, deliveryId: string): Promise<RecordResult>;
  logger: WebhookLogger;
  metrics: WebhookMetrics;
  now?: () => Date;
  maxBodyBytes?: number;
}

export type WebhookHandler = (event: HttpEvent, context?: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export function createWebhookHandler(deps: WebhookDependencies): WebhookHandler {
  const { logger, metrics } = deps;
  const count = (metric: string, dimension?: [string, string], value = 1, unit: "Count" | "Seconds" = "Count") => {
    if (dimension) metrics.addDimension(dimension[0], dimension[1]);
    metrics.addMetric(metric, unit, value);
  };

  const refuse = (rejection: Rejection) => {
    logger.warn("webhook rejected", { status: rejection.status, reason: rejection.reason, detail: rejection.message });
    count(METRIC.rejected, ["reason", rejection.reason]);
    return respond(rejection.status, { message: rejection.message, reason: rejection.reason });
  };

  const fail = (reason: string, message: string, error: unknown) => {
    logger.error(message, { reason, error: describeError(error) });
    count(METRIC.failed, ["reason", reason]);
    return respond(500, { message, reason });
  };

  async function handle(event: HttpEvent): Promise<APIGatewayProxyStructuredResultV2> {
    const request = readRequest(event, deps.maxBodyBytes ?? MAX_BODY_BYTES);
    if ("kind" in request) return refuse(request);

    let secret: string;
    try {
      secret = await deps.webhookSecret();
    } catch (error) {
      return fail("secret-unavailable", "could not read the webhook secret; GitHub may redeliver", error);
    }
    const signature = await verifySignature(secret, request.body, request.headers);
    if (signature.kind === "reject") return refuse(signature);

    const decision: Classification = classifyEvent(request.headers, request.body, deps.served);
    switch (decision.kind) {
      case "reject":
        return refuse(decision);
      case "pong":
        logger.info("ping answered");
        count(METRIC.ignored, ["reason", "ping"]);
        return respond(200, { message: "pong" });
      case "ignore":
        logger.info("webhook ignored", { reason: decision.reason, detail: decision.message, ...decision.details });
        count(METRIC.ignored, ["reason", decision.reason]);
        return respond(200, { message: decision.message, reason: decision.reason });
      case "accept": {
        const { delivery } = decision;
        const { jobId } = delivery.job;
        let result: RecordResult;
        try {
          result = await deps.record(delivery, decision.deliveryId as string);
        } catch (error) {
          return fail("record-failed", `could not record job ${jobId}; redeliver this delivery`, error);
        }
        const pool = result.record?.pool ?? delivery.pool ?? "none";
        const facts = {
          jobId,
          action: delivery.action,
          pool,
          runId: delivery.job.runId,
          repository: delivery.job.repository,
        };
        if (!result.outcome) {
          logger.info("delivery changed nothing", { ...facts, detail: result.reason });
          count(METRIC.ignored, ["reason", "no-change"]);
          return respond(200, { message: `job ${jobId}: ${result.reason}`, reason: "no-change", jobId });
        }
        logger.info("job recorded", {
          ...facts,
          state: result.record?.state,
          enqueued: result.enqueued,
          compensated: result.compensated?.jobId,
        });
        count(METRIC.accepted, [POOL_DIMENSION, pool]);
        emitJobMetrics(result, delivery, pool);
        return respond(202, {
          message: `job ${jobId} recorded as ${result.record?.state}${result.enqueued ? `, ${result.enqueued} launch requested` : ""}`,
          pool,
          jobId,
          state: result.record?.state,
        });
      }
    }
  }

  /** The job metrics of contract/metrics.ts a recorded delivery produces. */
  function emitJobMetrics(result: RecordResult, delivery: JobDelivery, pool: string): void {
    const perPool = (name: string, p: string, value = 1, unit: "Count" | "Seconds" = "Count") => {
      const single = metrics.singleMetric();
      single.addDimension(POOL_DIMENSION, p);
      single.addMetric(name, unit, value);
    };
    const record = result.record;
    switch (result.outcome) {
      case "queued":
        perPool(JOB_METRIC.jobsQueued, pool);
        break;
      case "started": {
        if (!delivery.runnerName || !parseRunnerName(delivery.runnerName)) break;
        perPool(JOB_METRIC.jobsStarted, pool);
        const started = Date.parse(delivery.startedAt ?? "");
        const queued = Date.parse(record?.queuedAt ?? "");
        if (started >= queued) perPool(JOB_METRIC.queueToStartSeconds, pool, (started - queued) / 1000, "Seconds");
        break;
      }
      case "completed":
        perPool(JOB_METRIC.jobsCompleted, pool);
        break;
      case "cancelled":
        perPool(JOB_METRIC.jobsCancelled, pool);
        break;
    }
    if (result.compensated) perPool(JOB_METRIC.compensations, result.compensated.pool ?? pool);
  }

  return async (event, context) => {
    // The delivery id is untrusted until the signature checks out; it is only logged here (JSON-escaped, capped).
    const deliveryHeader = Object.entries(event?.headers ?? {}).find(
      ([name]) => name.toLowerCase() === "x-github-delivery",
    )?.[1];
    logger.appendPersistentKeys({
      deliveryId: typeof deliveryHeader === "string" ? deliveryHeader.slice(0, 128) : undefined,
    });
    if (context) logger.addContext(context);
    try {
      return await handle(event ?? {});
    } catch (error) {
      return fail("unexpected-error", "unexpected error while handling the webhook", error);
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

function respond(statusCode: number, body: Record<string, unknown>): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { message: String(error) };
}
