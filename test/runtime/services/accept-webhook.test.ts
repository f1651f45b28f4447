import { strict as assert } from "node:assert";
import type { HttpEvent } from "../../../runtime/core/webhook/request.js";
import { recordOf, setup } from "../support/webhook-handler.js";
import { githubEvent, httpEvent, queuedJob, SECRET, sign } from "../support/webhook.js";

const body = (value: unknown) => JSON.stringify(value);
const parsed = (response: { body?: string }) => JSON.parse(response.body ?? "{}");

describe("webhook: handler", () => {
  it("records a matching job, answers 202, logs and counts it (JobsQueued per pool)", async () => {
    const { handler, logger, metrics, recorded } = setup();
    const response = await handler(await githubEvent(body(queuedJob(["self-hosted", "linux", "arm64"]))));
    assert.equal(response.statusCode, 202);
    assert.equal(response.headers?.["content-type"], "application/json");
    assert.deepEqual(parsed(response), {
      message: "job 29679449 recorded as queued, 1 launch requested",
      pool: "linux-arm64",
      jobId: 29679449,
      state: "queued",
    });
    assert.deepEqual(
      recorded.map((r) => [r.deliveryId, r.delivery.action, r.delivery.pool, r.delivery.job]),
      [
        [
          "72d3162e-cc78-11e3-81ab-4c9367dc0958",
          "queued",
          "linux-arm64",
          {
            jobId: 29679449,
            runId: 10465521,
            runAttempt: 2,
            repository: "acme-platform/orders-service",
            owner: "acme-platform",
            installationId: 4242,
            labels: ["self-hosted", "linux", "arm64"],
          },
        ],
      ],
    );
    assert.deepEqual(metrics.published, [
      { name: "JobsQueued", dimensions: { pool: "linux-arm64" }, value: 1 },
      { name: "WebhookAccepted", dimensions: { pool: "linux-arm64" }, value: 1 },
    ]);
    assert.deepEqual(
      logger.entries.map((e) => [e.level, e.message, e.attributes.deliveryId]),
      [["info", "job recorded", "72d3162e-cc78-11e3-81ab-4c9367dc0958"]],
    );
  });

  it("counts a start on our runner with its queue-to-start time, and a compensated theft", async () => {
    const runnerName = "linux-arm64-77-0a1b2c";
    const { handler, metrics } = setup({}, (delivery) => ({
      outcome: "started",
      record: recordOf(delivery, "running", { queuedAt: "2025-03-04T05:00:00.000Z" }),
      enqueued: 1,
      compensated: { jobId: 77, pool: "linux-arm64" },
    }));
    const job = queuedJob(["self-hosted", "linux"], { action: "in_progress" });
    Object.assign(job.workflow_job as object, { runner_name: runnerName, started_at: "2025-03-04T05:01:30Z" });
    assert.equal((await handler(await githubEvent(body(job)))).statusCode, 202);
    assert.deepEqual(
      metrics.published.map((m) => [m.name, m.dimensions.pool, m.value]),
      [
        ["JobsStarted", "linux-x64", 1],
        ["QueueToStartSeconds", "linux-x64", 90],
        ["Compensations", "linux-arm64", 1],
        ["WebhookAccepted", "linux-x64", 1],
      ],
    );
  });

  it("answers 200 when the delivery changes nothing (a repeat, or one that arrived late)", async () => {
    const { handler, metrics } = setup({}, (delivery) => ({
      reason: "a queued delivery moves a running job nowhere",
      record: recordOf(delivery, "running"),
      enqueued: 0,
    }));
    const response = await handler(await githubEvent(body(queuedJob(["self-hosted", "linux", "x64"]))));
    assert.deepEqual([response.statusCode, parsed(response).reason], [200, "no-change"]);
    assert.match(parsed(response).message, /moves a running job nowhere/);
    assert.deepEqual(metrics.published, [{ name: "WebhookIgnored", dimensions: { reason: "no-change" }, value: 1 }]);
  });

  it("verifies a base64-encoded body over its raw bytes", async () => {
    const { handler, recorded } = setup();
    const payload = body(queuedJob(["self-hosted", "linux", "x64"], { note: "naïve ☃" }));
    const response = await handler(await githubEvent(payload, { base64: true }));
    assert.equal(response.statusCode, 202);
    assert.equal(recorded.length, 1);
  });

  it("reads headers in any case", async () => {
    const { handler, recorded } = setup();
    const payload = body(queuedJob(["self-hosted", "linux", "x64"]));
    const event = httpEvent(payload, {
      headers: {
        "X-GitHub-Event": "workflow_job",
        "X-GITHUB-DELIVERY": "d-1",
        "X-Hub-Signature-256": sign(SECRET, payload),
      },
    });
    assert.equal((await handler(event)).statusCode, 202);
    assert.equal(recorded[0].deliveryId, "d-1");
  });

  it("answers ping with pong", async () => {
    const { handler, metrics, recorded } = setup();
    const response = await handler(
      await githubEvent(body({ zen: "Keep it logically awesome.", hook_id: 7 }), { event: "ping" }),
    );
    assert.deepEqual([response.statusCode, parsed(response)], [200, { message: "pong" }]);
    assert.equal(recorded.length, 0);
    assert.deepEqual(metrics.published, [{ name: "WebhookIgnored", dimensions: { reason: "ping" }, value: 1 }]);
  });

  it("ignores other events, other actions and unmatched labels with 200, logged and counted by reason", async () => {
    const { handler, metrics, logger, recorded } = setup();
    const cases: [HttpEvent, string][] = [
      [await githubEvent(body({ action: "completed" }), { event: "push" }), "event-not-handled"],
      [
        await githubEvent(body({ ...queuedJob(["self-hosted", "linux", "x64"]), action: "requested" })),
        "action-not-handled",
      ],
      [await githubEvent(body(queuedJob(["self-hosted", "linux", "gpu"]))), "no-matching-pool"],
      [
        await githubEvent(
          body(queuedJob(["self-hosted"], { repository: { full_name: "other/app", owner: { login: "other" } } })),
        ),
        "other-owner",
      ],
    ];
    for (const [event, reason] of cases) {
      const response = await handler(event);
      assert.deepEqual([response.statusCode, parsed(response).reason], [200, reason]);
    }
    assert.equal(recorded.length, 0);
    assert.deepEqual(
      metrics.published.map((m) => [m.name, m.dimensions.reason]),
      cases.map(([, reason]) => ["WebhookIgnored", reason]),
    );
    const unmatched = logger.entries.find((e) => e.attributes.reason === "no-matching-pool");
    assert.deepEqual(unmatched?.attributes.labels, ["self-hosted", "linux", "gpu"]);
  });

  it("refuses bad requests with the documented status codes, counted by reason", async () => {
    const { handler, metrics, recorded } = setup({ maxBodyBytes: 4096 });
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
    assert.equal(recorded.length, 0);
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

  it("records a job from an organization webhook (no installation) without an installation id", async () => {
    const { handler, recorded } = setup();
    const response = await handler(
      await githubEvent(body(queuedJob(["self-hosted", "linux", "x64"], { installation: undefined }))),
    );
    assert.equal(response.statusCode, 202);
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0].delivery.job.installationId, undefined);
  });

  it("checks the size before reading the secret or hashing", async () => {
    const state = setup({ maxBodyBytes: 10 });
    const response = await state.handler(await githubEvent(body(queuedJob([]))));
    assert.equal(response.statusCode, 413);
    assert.equal(state.secretReads(), 0);
  });

  it("answers 500 when the ledger or the queue fails, so the redeliver function retries it, and logs the error", async () => {
    const { handler, logger, metrics } = setup({
      async record() {
        throw Object.assign(new Error("Service unavailable"), { name: "ServiceUnavailable" });
      },
    });
    const response = await handler(await githubEvent(body(queuedJob(["self-hosted", "linux", "x64"]))));
    assert.deepEqual([response.statusCode, parsed(response).reason], [500, "record-failed"]);
    assert.match(parsed(response).message, /redeliver/);
    const error = logger.entries.find((e) => e.level === "error");
    assert.deepEqual(error?.attributes.error, { name: "ServiceUnavailable", message: "Service unavailable" });
    assert.equal(error?.attributes.deliveryId, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert.deepEqual(metrics.published, [{ name: "WebhookFailed", dimensions: { reason: "record-failed" }, value: 1 }]);
  });

  it("answers 500 when the secret cannot be read (GitHub can redeliver)", async () => {
    const { handler, recorded } = setup({
      async webhookSecret() {
        throw new Error("AccessDeniedException");
      },
    });
    const response = await handler(await githubEvent(body(queuedJob(["self-hosted", "linux", "x64"]))));
    assert.deepEqual([response.statusCode, parsed(response).reason], [500, "secret-unavailable"]);
    assert.equal(recorded.length, 0);
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
