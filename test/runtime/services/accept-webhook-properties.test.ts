import fc from "fast-check";
import { strict as assert } from "node:assert";
import type { HttpEvent } from "../../../runtime/core/webhook/request.js";
import { setup } from "../support/webhook-handler.js";
import { httpEvent, POOLS, queuedJob, SECRET, sign } from "../support/webhook.js";

describe("webhook: handler properties (fast-check)", () => {
  // Recording always succeeds here, so a 5xx could only come from the handler itself.
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
