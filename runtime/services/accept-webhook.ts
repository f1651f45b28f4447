/**
 * The webhook's request flow, with its side effects (secret, queue, logs, metrics) passed in:
 *   method and size (405, 413) -> signature (401) -> headers and JSON (400) -> event, action, labels -> enqueue.
 * The decisions are the pure functions in core/webhook (request, signature, classify, job-message).
 */
import type { APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { JobMessage } from "../../contract/job.js";
import type { RuntimePool } from "../../contract/pool.js";
import { classifyEvent } from "../core/webhook/classify.js";
import { buildJobMessage, encodeForQueue } from "../core/webhook/job-message.js";
import type { Classification, Rejection } from "../core/webhook/outcome.js";
import { type HttpEvent, MAX_BODY_BYTES, readRequest } from "../core/webhook/request.js";
import { verifySignature } from "../core/webhook/signature.js";

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
  addMetric(name: string, unit: "Count", value: number): unknown;
  publishStoredMetrics(): unknown;
}

export const METRIC = {
  accepted: "WebhookAccepted",
  ignored: "WebhookIgnored",
  rejected: "WebhookRejected",
  /** Our side failed (secret unreadable, queue unreachable): answered 500 so GitHub can redeliver. */
  failed: "WebhookFailed",
} as const;

export interface WebhookDependencies {
  /** Pools the webhook routes to (name and labels are what it reads). */
  pools: readonly RuntimePool[];
  /** The webhook secret (cached by the caller). */
  webhookSecret(): Promise<string>;
  /** Sends one job message (`body` is its encoding) to the job queue; throws when the queue did not take it. */
  enqueue(message: JobMessage, body: string): Promise<void>;
  logger: WebhookLogger;
  metrics: WebhookMetrics;
  now?: () => Date;
  maxBodyBytes?: number;
}

export type WebhookHandler = (event: HttpEvent, context?: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export function createWebhookHandler(deps: WebhookDependencies): WebhookHandler {
  const { logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());

  const count = (metric: string, dimension?: [string, string]) => {
    if (dimension) metrics.addDimension(dimension[0], dimension[1]);
    metrics.addMetric(metric, "Count", 1);
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

    const decision: Classification = classifyEvent(request.headers, request.body, deps.pools);
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
        const message = buildJobMessage(decision.job, decision.pool, decision.deliveryId as string, now());
        const encoded = encodeForQueue(message);
        if ("kind" in encoded) return refuse(encoded);
        try {
          await deps.enqueue(message, encoded.body);
        } catch (error) {
          return fail("enqueue-failed", `could not queue job ${message.jobId}; redeliver this delivery`, error);
        }
        logger.info("job queued", {
          pool: message.pool,
          jobId: message.jobId,
          runId: message.runId,
          repository: message.repository,
        });
        count(METRIC.accepted, ["pool", message.pool]);
        return respond(202, {
          message: `job ${message.jobId} queued for pool ${message.pool}`,
          pool: message.pool,
          jobId: message.jobId,
        });
      }
    }
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
