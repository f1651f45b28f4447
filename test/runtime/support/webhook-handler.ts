/** The webhook handler with a recording `record` dependency, for the handler's unit and property tests. */
import type { JobRecord, JobState } from "../../../contract/ledger.js";
import type { JobDelivery } from "../../../runtime/core/jobs/lifecycle.js";
import { createWebhookHandler, type WebhookDependencies } from "../../../runtime/services/accept-webhook.js";
import type { RecordResult } from "../../../runtime/services/record-job.js";
import { RecordingLogger, RecordingMetrics, SECRET, SERVED } from "./webhook.js";

export const NOW = new Date("2025-03-04T05:06:07.000Z");

/** The ledger record a delivery would leave (what services/record-job.ts returns). */
export function recordOf(delivery: JobDelivery, state: JobState, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    ...delivery.job,
    pool: delivery.pool,
    state,
    version: 0,
    runners: [],
    attempts: 0,
    queuedAt: "2025-03-04T05:05:07.000Z",
    updatedAt: NOW.toISOString(),
    expiresAt: 1_900_000_000,
    ...extra,
  };
}

/** A first `queued` delivery: recorded, one launch requested. */
export const queuedResult = (delivery: JobDelivery): RecordResult => ({
  outcome: "queued",
  record: recordOf(delivery, "queued"),
  enqueued: 1,
});

export function setup(
  overrides: Partial<WebhookDependencies> = {},
  result: (delivery: JobDelivery) => RecordResult = queuedResult,
) {
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const recorded: { delivery: JobDelivery; deliveryId: string }[] = [];
  let secretReads = 0;
  const handler = createWebhookHandler({
    served: SERVED,
    logger,
    metrics,
    now: () => NOW,
    async webhookSecret() {
      secretReads++;
      return SECRET;
    },
    async record(delivery, deliveryId) {
      recorded.push({ delivery, deliveryId });
      return result(delivery);
    },
    ...overrides,
  });
  return { handler, logger, metrics, recorded, secretReads: () => secretReads };
}
