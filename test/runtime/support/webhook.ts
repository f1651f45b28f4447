/** Test helpers: API Gateway events, signing, pools, and recording logger/metrics for the webhook handler. */
import { createHmac } from "node:crypto";
import type { RuntimePool } from "../../../contract/pool.js";
import type { Served } from "../../../runtime/core/webhook/classify.js";
import type { WebhookLogger, WebhookMetrics } from "../../../runtime/services/accept-webhook.js";
import type { HttpEvent } from "../../../runtime/core/webhook/request.js";

export const SECRET = "0123456789abcdefghijABCDEFGHIJ0123456789";

/** GitHub's X-Hub-Signature-256, computed independently of the code under test. */
export function sign(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function pool(name: string, labels: string[], extra: Partial<RuntimePool> = {}): RuntimePool {
  return { name, labels, instanceTypes: ["m7i.large"], architecture: "x64", maxRunners: 10, spot: true, ...extra };
}

export const POOLS: RuntimePool[] = [
  pool("linux-x64", ["self-hosted", "linux", "x64"]),
  pool("linux-arm64", ["self-hosted", "linux", "arm64"], { architecture: "arm64", instanceTypes: ["m7g.large"] }),
  pool("linux-x64-release", ["self-hosted", "linux", "x64", "release"]),
];

/** The stack the webhook tests serve: the owner of `queuedJob`'s repository, organization scope. */
export const SERVED: Served = { pools: POOLS, owner: "acme-platform", scope: "org", repositories: [] };

export interface EventOptions {
  method?: string;
  headers?: Record<string, string>;
  base64?: boolean;
  /** Sign with this secret (default SECRET); false leaves the signature out. */
  secret?: string | false;
  event?: string;
  delivery?: string;
}

/** An API Gateway HTTP API (payload 2.0) event for a GitHub delivery, signed unless told otherwise. */
export async function githubEvent(body: string, options: EventOptions = {}): Promise<HttpEvent> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/abc1234",
    "x-github-event": options.event ?? "workflow_job",
    "x-github-delivery": options.delivery ?? "72d3162e-cc78-11e3-81ab-4c9367dc0958",
  };
  if (options.secret !== false) headers["x-hub-signature-256"] = sign(options.secret ?? SECRET, body);
  return httpEvent(body, { ...options, headers: { ...headers, ...options.headers } });
}

export function httpEvent(
  body: string | undefined,
  options: Pick<EventOptions, "method" | "headers" | "base64"> = {},
): HttpEvent {
  return {
    requestContext: { http: { method: options.method ?? "POST" } },
    headers: options.headers ?? {},
    body: options.base64 && body !== undefined ? Buffer.from(body, "utf8").toString("base64") : body,
    isBase64Encoded: options.base64 ?? false,
  };
}

export function queuedJob(labels: string[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action: "queued",
    workflow_job: { id: 29679449, run_id: 10465521, run_attempt: 2, labels, status: "queued", name: "build" },
    repository: {
      full_name: "acme-platform/orders-service",
      name: "orders-service",
      owner: { login: "acme-platform" },
    },
    organization: { login: "acme-platform" },
    installation: { id: 4242 },
    ...overrides,
  };
}

export interface LogEntry {
  level: "info" | "warn" | "error";
  message: string;
  attributes: Record<string, unknown>;
}

/** Keeps log lines with the persistent keys in force when each was written. */
export class RecordingLogger implements WebhookLogger {
  readonly entries: LogEntry[] = [];
  private persistent: Record<string, unknown> = {};
  appendPersistentKeys(keys: Record<string, unknown>): void {
    this.persistent = { ...this.persistent, ...keys };
  }
  addContext(): void {}
  info(message: string, ...extra: Record<string, unknown>[]): void {
    this.write("info", message, extra);
  }
  warn(message: string, ...extra: Record<string, unknown>[]): void {
    this.write("warn", message, extra);
  }
  error(message: string, ...extra: Record<string, unknown>[]): void {
    this.write("error", message, extra);
  }
  private write(level: LogEntry["level"], message: string, extra: Record<string, unknown>[]): void {
    this.entries.push({ level, message, attributes: Object.assign({}, this.persistent, ...extra) });
  }
}

export interface PublishedMetric {
  name: string;
  dimensions: Record<string, string>;
  value: number;
}

/** Collects metrics per publish, like EMF blobs: dimensions apply to the metrics of the same publish. */
export class RecordingMetrics implements WebhookMetrics {
  readonly published: PublishedMetric[] = [];
  private dimensions: Record<string, string> = {};
  private pending: { name: string; value: number }[] = [];
  addDimension(name: string, value: string): this {
    this.dimensions[name] = value;
    return this;
  }
  addMetric(name: string, _unit: "Count" | "Seconds", value: number): this {
    this.pending.push({ name, value });
    return this;
  }
  /** Powertools' single metric: published at once with its own dimensions. */
  singleMetric(): {
    addDimension(name: string, value: string): unknown;
    addMetric(name: string, unit: "Count" | "Seconds", value: number): unknown;
  } {
    const dimensions: Record<string, string> = {};
    return {
      addDimension: (name, value) => {
        dimensions[name] = value;
      },
      addMetric: (name, _unit, value) => {
        this.published.push({ name, value, dimensions: { ...dimensions } });
      },
    };
  }
  publishStoredMetrics(): this {
    for (const m of this.pending) this.published.push({ ...m, dimensions: { ...this.dimensions } });
    this.pending = [];
    this.dimensions = {};
    return this;
  }
}
