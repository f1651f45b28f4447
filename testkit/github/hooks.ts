/**
 * The organization webhook and its deliveries, as GitHub keeps them ("Webhooks › Recent Deliveries" and the REST
 * routes `GET /orgs/{org}/hooks/{hook_id}/deliveries[/{delivery_id}]`, `POST .../attempts`,
 * docs.github.com/rest/orgs/webhooks). Each event is POSTed to the hook's URL with GitHub's headers
 * (`X-GitHub-Event`, `X-GitHub-Delivery` = the delivery's guid, `X-GitHub-Hook-ID`, `X-Hub-Signature-256`), one at
 * a time in event order, and recorded with the fields of the spec's `hook-delivery` schema.
 *
 * Like GitHub: a delivery answered with a non-2xx status, not answered within 10 s or not connected is recorded
 * as failed and is NOT retried ("GitHub does not automatically redeliver failed deliveries",
 * docs.github.com/webhooks/using-webhooks/handling-failed-webhook-deliveries); a redelivery is a new delivery record
 * with the same guid and `redelivery: true`.
 */
import { createHmac, randomUUID } from "node:crypto";

/** GitHub gives a delivery 10 seconds (docs.github.com/webhooks/using-webhooks/best-practices-for-using-webhooks). */
const DELIVERY_TIMEOUT_MS = 10_000;

export interface OrgHook {
  id: number;
  org: string;
  url: string;
  secret: string;
  active: boolean;
}

export interface DeliveryRecord {
  id: number;
  guid: string;
  /** Simulated epoch ms. */
  deliveredAt: number;
  redelivery: boolean;
  /** Seconds the endpoint took. */
  duration: number;
  /** "OK", "Invalid HTTP Response: 503", "timed out", "failed to connect to host", or "pending". */
  status: string;
  /** 0 when no HTTP answer came. */
  statusCode: number;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
  request: { headers: Record<string, string>; payload: Record<string, unknown> };
  response: { headers: Record<string, string>; payload: string | null };
}

/** The `status` GitHub shows for an HTTP answer. */
function statusText(code: number): string {
  return code >= 200 && code < 300 ? "OK" : `Invalid HTTP Response: ${code}`;
}

export class HookDeliveries {
  hook?: OrgHook;
  /** Oldest first; the routes list them newest first. */
  readonly records: DeliveryRecord[] = [];
  private nextId = 90_000_001;
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly now: () => number) {}

  /** Deliveries sent or waiting to be sent. */
  inFlight(): number {
    return this.pending;
  }

  /** Resolves when every delivery queued so far has been answered (or has failed). */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Queues a new delivery of an event to the hook (no hook or an inactive one: nothing is sent, as on GitHub). */
  send(event: string, payload: Record<string, unknown>): DeliveryRecord | undefined {
    if (!this.hook?.active) return undefined;
    return this.enqueue(event, payload, randomUUID(), false);
  }

  /** A redelivery of a recorded delivery: a new record, same guid and payload, `redelivery: true`. */
  redeliver(original: DeliveryRecord): DeliveryRecord {
    return this.enqueue(original.event, original.request.payload, original.guid, true);
  }

  private enqueue(event: string, payload: Record<string, unknown>, guid: string, redelivery: boolean): DeliveryRecord {
    const hook = this.hook as OrgHook;
    const body = JSON.stringify(payload);
    const repository = payload.repository as { id?: number } | undefined;
    const installation = payload.installation as { id?: number } | undefined;
    const record: DeliveryRecord = {
      id: this.nextId++,
      guid,
      deliveredAt: this.now(),
      redelivery,
      duration: 0,
      status: "pending",
      statusCode: 0,
      event,
      action: typeof payload.action === "string" ? payload.action : null,
      installationId: installation?.id ?? null,
      repositoryId: repository?.id ?? null,
      request: {
        headers: {
          Accept: "*/*",
          "Content-Type": "application/json",
          "User-Agent": "GitHub-Hookshot/stand-in",
          "X-GitHub-Delivery": guid,
          "X-GitHub-Event": event,
          "X-GitHub-Hook-ID": String(hook.id),
          "X-GitHub-Hook-Installation-Target-ID": "1",
          "X-GitHub-Hook-Installation-Target-Type": "organization",
          "X-Hub-Signature-256": `sha256=${createHmac("sha256", hook.secret).update(body, "utf8").digest("hex")}`,
        },
        payload,
      },
      response: { headers: {}, payload: null },
    };
    this.records.push(record);
    this.pending += 1;
    this.chain = this.chain.then(() => this.post(hook.url, body, record)).finally(() => (this.pending -= 1));
    return record;
  }

  private async post(url: string, body: string, record: DeliveryRecord): Promise<void> {
    const started = performance.now();
    record.deliveredAt = this.now();
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: record.request.headers,
        body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      record.response = { headers: Object.fromEntries(response.headers), payload: await response.text() };
      record.statusCode = response.status;
      record.status = statusText(response.status);
    } catch (error) {
      const timedOut = (error as Error).name === "TimeoutError";
      record.status = timedOut ? "timed out" : "failed to connect to host";
      record.statusCode = 0;
    }
    record.duration = Math.round(performance.now() - started) / 1000;
  }
}

/** A record as the spec's `hook-delivery-item` (list) or `hook-delivery` (one, with request and response). */
export function deliveryBody(record: DeliveryRecord, full: boolean): Record<string, unknown> {
  const item = {
    id: record.id,
    guid: record.guid,
    delivered_at: new Date(record.deliveredAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
    redelivery: record.redelivery,
    duration: record.duration,
    status: record.status,
    status_code: record.statusCode,
    event: record.event,
    action: record.action,
    installation_id: record.installationId,
    repository_id: record.repositoryId,
    throttled_at: null,
  };
  if (!full) return item;
  return {
    ...item,
    request: { headers: record.request.headers, payload: record.request.payload },
    response: { headers: record.response.headers, payload: record.response.payload },
  };
}
