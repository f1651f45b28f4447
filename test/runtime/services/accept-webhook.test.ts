import fc from "fast-check";
import { strict as assert } from "node:assert";
import type { JobMessage } from "../../../contract/job.js";
import { createWebhookHandler, type WebhookDependencies } from "../../../runtime/services/accept-webhook.js";
import type { HttpEvent } from "../../../runtime/core/webhook/request.js";
import {
  githubEvent,
  httpEvent,
  POOLS,
  queuedJob,
  RecordingLogger,
  RecordingMetrics,
  SECRET,
  sign,
} from "../support/webhook.js";

const NOW = new Date("2025-03-04T05:06:07.000Z");

function setup(overrides: Partial<WebhookDependencies> = {}) {
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const sent: JobMessage[] = [];
  let secretReads = 0;
  const handler = createWebhookHandler({
    pools: POOLS,
    logger,
    metrics,
    now: () => NOW,
    async webhookSecret() {
      secretReads++;
      return SECRET;
    },
    async enqueue(message) {
      sent.push(message);
    },
    ...overrides,
  });
  return { handler, logger, metrics, sent, secretReads: () => secretReads };
}

const body = (value: unknown) => JSON.stringify(value);
const parsed = (response: { body?: string }) => JSON.parse(response.body ?? "{}");

describe("webhook: handler", () => {
  it("queues a matching job and answers 202, logging and counting it", async () => {
    const { handler, logger, metrics, sent } = setup();
    const response = await handler(await githubEvent(body(queuedJob(["self-hosted", "linux", "arm64"]))));
    assert.equal(response.statusCode, 202);
    assert.equal(response.headers?.["content-type"], "application/json");
    assert.deepEqual(parsed(response), {
      message: "job 29679449 queued for pool linux-arm64",
      pool: "linux-arm64",
      jobId: 29679449,
    });
    assert.deepEqual(sent, [
      {
        version: 1,
        deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        pool: "linux-arm64",
        jobId: 29679449,
        runId: 10465521,
        runAttempt: 2,
        repository: "acme-platform/orders-service",
        owner: "acme-platform",
        installationId: 4242,
        labels: ["self-hosted", "linux", "arm64"],
        enqueuedAt: NOW.toISOString(),
      },
    ]);
    assert.deepEqual(metrics.published, [{ name: "WebhookAccepted", dimensions: { pool: "linux-arm64" }, value: 1 }]);
    assert.deepEqual(
      logger.entries.map((e) => [e.level, e.message, e.attributes.deliveryId]),
      [["info", "job queued", "72d3162e-cc78-11e3-81ab-4c9367dc0958"]],
    );
  });

  it("verifies a base64-encoded body over its raw bytes", async () => {
    const { handler, sent } = setup();
    const payload = body(queuedJob(["self-hosted", "linux", "x64"], { note: "naïve ☃" }));
    const response = await handler(await githubEvent(payload, { base64: true }));
    assert.equal(response.statusCode, 202);
    assert.equal(sent.length, 1);
  });

  it("reads headers in any case", async () => {
    const { handler, sent } = setup();
    const payload = body(queuedJob(["self-hosted", "linux", "x64"]));
    const event = httpEvent(payload, {
      headers: {
        "X-GitHub-Event": "workflow_job",
        "X-GITHUB-DELIVERY": "d-1",
        "X-Hub-Signature-256": sign(SECRET, payload),
      },
    });
    assert.equal((await handler(event)).statusCode, 202);
    assert.equal(sent[0].deliveryId, "d-1");
  });

  it("answers ping with pong", async () => {
    const { handler, metrics, sent } = setup();
    const response = await handler(
      await githubEvent(body({ zen: "Keep it logically awesome.", hook_id: 7 }), { event: "ping" }),
    );
    assert.deepEqual([response.statusCode, parsed(response)], [200, { message: "pong" }]);
    assert.equal(sent.length, 0);
    assert.deepEqual(metrics.published, [{ name: "WebhookIgnored", dimensions: { reason: "ping" }, value: 1 }]);
  });

  it("ignores other events, other actions and unmatched labels with 200, logged and counted by reason", async () => {
    const { handler, metrics, logger, sent } = setup();
    const cases: [HttpEvent, string][] = [
      [await githubEvent(body({ action: "completed" }), { event: "push" }), "event-not-handled"],
      [
        await githubEvent(body({ ...queuedJob(["self-hosted", "linux", "x64"]), action: "completed" })),
        "action-not-queued",
      ],
      [await githubEvent(body(queuedJob(["self-hosted", "linux"]))), "no-matching-pool"],
    ];
    for (const [event, reason] of cases) {
      const response = await handler(event);
      assert.deepEqual([response.statusCode, parsed(response).reason], [200, reason]);
    }
    assert.equal(sent.length, 0);
    assert.deepEqual(
      metrics.published.map((m) => [m.name, m.dimensions.reason]),
      cases.map(([, reason]) => ["WebhookIgnored", reason]),
    );
    const unmatched = logger.entries.find((e) => e.attributes.reason === "no-matching-pool");
    assert.deepEqual(unmatched?.attributes.labels, ["self-hosted", "linux"]);
  });

  it("refuses bad requests with the documented status codes, counted by reason", async () => {
    const { handler, metrics, sent } = setup({ maxBodyBytes: 4096 });
    const job = body(queuedJob(["self-hosted", "linux", "x64"]));
    const cases: [HttpEvent, number, string][] = [
      [await githubEvent(job, { secret: false }), 401, "signature-missing"],
      [await githubEvent(job, { secret: "wrong" }), 401, "signature-mismatch"],
      [
        await githubEvent(job, { secret: false, headers: { "x-hub-signature": "sha1=0123" } }),
        401,
        "signature-sha1-only",
      ],
      [await githubEvent(job, { headers: { "x-hub-signature-256": "sha512=00" } }), 401, "signature-malformed"],
      [await githubEvent("{not json"), 400, "json-malformed"],
      [await githubEvent(body({ action: "queued" })), 400, "field-missing"],
      [
        await githubEvent(body(queuedJob(["self-hosted", "linux", "x64"], { installation: { id: "7" } }))),
        400,
        "field-invalid",
      ],
      [await githubEvent(job, { headers: { "x-github-event": "" } }), 400, "header-missing"],
      [await githubEvent(`{"pad":"${"x".repeat(5000)}"}`), 413, "body-too-large"],
      [httpEvent("", {}), 400, "body-empty"],
      [httpEvent(job, { method: "GET" }), 405, "method-not-allowed"],
    ];
    for (const [event, status, reason] of cases) {
      const response = await handler(event);
      assert.deepEqual([response.statusCode, parsed(response).reason], [status, reason], reason);
      assert.equal(typeof parsed(response).message, "string");
    }
    assert.equal(sent.length, 0);
    assert.deepEqual(
      metrics.published.map((m) => [m.name, m.dimensions.reason]),
      cases.map(([, , reason]) => ["WebhookRejected", reason]),
    );
  });

  it("names the missing field in the 400 body", async () => {
    const { handler } = setup();
    const response = await handler(
      await githubEvent(body(queuedJob(["self-hosted", "linux", "x64"], { repository: { full_name: "acme/app" } }))),
    );
    assert.deepEqual([response.statusCode, parsed(response).message], [400, "missing field repository.owner.login"]);
  });

  it("enqueues a job from an organization webhook (no installation) without an installation id", async () => {
    const { handler, sent } = setup();
    const response = await handler(
      await githubEvent(body(queuedJob(["self-hosted", "linux", "x64"], { installation: undefined }))),
    );
    assert.equal(response.statusCode, 202);
    assert.equal(sent.length, 1);
    assert.equal("installationId" in sent[0], false);
  });

  it("checks the size before reading the secret or hashing", async () => {
    const state = setup({ maxBodyBytes: 10 });
    const response = await state.handler(await githubEvent(body(queuedJob([]))));
    assert.equal(response.statusCode, 413);
    assert.equal(state.secretReads(), 0);
  });

  it("answers 500 when the queue refuses the message, and logs the error", async () => {
    const { handler, logger, metrics } = setup({
      async enqueue() {
        throw Object.assign(new Error("Service unavailable"), { name: "ServiceUnavailable" });
      },
    });
    const response = await handler(await githubEvent(body(queuedJob(["self-hosted", "linux", "x64"]))));
    assert.deepEqual([response.statusCode, parsed(response).reason], [500, "enqueue-failed"]);
    assert.match(parsed(response).message, /redeliver/);
    const error = logger.entries.find((e) => e.level === "error");
    assert.deepEqual(error?.attributes.error, { name: "ServiceUnavailable", message: "Service unavailable" });
    assert.equal(error?.attributes.deliveryId, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert.deepEqual(metrics.published, [
      { name: "WebhookFailed", dimensions: { reason: "enqueue-failed" }, value: 1 },
    ]);
  });

  it("answers 500 when the secret cannot be read (GitHub can redeliver)", async () => {
    const { handler, sent } = setup({
      async webhookSecret() {
        throw new Error("AccessDeniedException");
      },
    });
    const response = await handler(await githubEvent(body(queuedJob(["self-hosted", "linux", "x64"]))));
    assert.deepEqual([response.statusCode, parsed(response).reason], [500, "secret-unavailable"]);
    assert.equal(sent.length, 0);
  });

  it("sets the delivery id per request, never keeping the previous one", async () => {
    const { handler, logger } = setup();
    await handler(await githubEvent(body({ action: "completed" }), { delivery: "first" }));
    await handler(httpEvent("{}", { headers: {} }));
    assert.deepEqual(
      logger.entries.map((e) => e.attributes.deliveryId),
      ["first", undefined],
    );
  });
});

describe("webhook: handler properties (fast-check)", () => {
  // The queue always succeeds here, so a 5xx could only come from the handler itself.
  const { handler } = setup();

  const anyBody = fc.oneof(
    fc.string(),
    fc.string({ unit: "binary" }),
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
    fc
      .record({
        action: fc.constantFrom("queued", "completed", "in_progress", 3, null),
        workflow_job: fc.anything(),
        installation: fc.anything(),
        repository: fc.anything(),
      })
      .map((v) => JSON.stringify(v)),
    fc
      .array(fc.constantFrom("self-hosted", "Linux", "X64", "arm64", "release", "gpu", ""), { maxLength: 6 })
      .map((labels) => JSON.stringify(queuedJob(labels))),
    fc.constantFrom(...POOLS).map((pool) => JSON.stringify(queuedJob(pool.labels))),
  );
  const headerName = fc.constantFrom(
    "x-hub-signature-256",
    "X-Hub-Signature-256",
    "x-hub-signature",
    "x-github-event",
    "X-GitHub-Event",
    "x-github-delivery",
    "content-type",
  );
  const anyHeaders = fc.dictionary(
    fc.oneof(headerName, fc.string()),
    fc.oneof(fc.string(), fc.constantFrom("workflow_job", "ping", "push", "sha256=", `sha256=${"a".repeat(64)}`)),
    { maxKeys: 8 },
  );

  async function assertWellBehaved(event: HttpEvent) {
    const response = await handler(event);
    assert.ok(
      response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 500,
      `status ${response.statusCode}: ${response.body}`,
    );
    assert.doesNotThrow(() => JSON.parse(response.body ?? ""));
  }

  it("never throws and never answers 5xx for random bodies and headers", async () => {
    await fc.assert(
      fc.asyncProperty(
        anyBody,
        anyHeaders,
        fc.boolean(),
        fc.constantFrom("POST", "POST", "GET", "PUT"),
        async (raw, headers, base64, method) => {
          await assertWellBehaved(httpEvent(raw, { headers, base64, method }));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("never throws and never answers 5xx for validly signed random bodies", async () => {
    const seen = new Set<number>();
    const { handler: signedHandler } = setup();
    await fc.assert(
      fc.asyncProperty(
        anyBody,
        fc.constantFrom("workflow_job", "workflow_job", "ping", "push", ""),
        fc.oneof(fc.uuid(), fc.string({ maxLength: 140 })),
        fc.boolean(),
        async (raw, event, delivery, base64) => {
          const headers: Record<string, string> = {
            "x-github-event": event,
            "x-github-delivery": delivery,
            "x-hub-signature-256": sign(SECRET, raw),
          };
          await assertWellBehaved(httpEvent(raw, { headers, base64 }));
          seen.add((await signedHandler(httpEvent(raw, { headers, base64 }))).statusCode ?? 0);
        },
      ),
      { numRuns: 400 },
    );
    // The signed inputs reach every branch, not just the signature check.
    for (const status of [200, 202, 400])
      assert.ok(seen.has(status), `no signed input was answered ${status}: ${[...seen]}`);
  });

  it("never throws and never answers 5xx for malformed events", async () => {
    const anyEvent = fc.record(
      {
        requestContext: fc.oneof(
          fc.constant(undefined),
          fc.record({
            http: fc.oneof(fc.constant(undefined), fc.record({ method: fc.constantFrom("POST", "GET", undefined) })),
          }),
        ),
        headers: fc.oneof(fc.constant(undefined), fc.constant(null), anyHeaders),
        body: fc.oneof(fc.constant(undefined), fc.constant(null), anyBody),
        isBase64Encoded: fc.oneof(fc.constant(undefined), fc.boolean()),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(anyEvent, async (event) => assertWellBehaved(event as HttpEvent)),
      { numRuns: 300 },
    );
  });
});
