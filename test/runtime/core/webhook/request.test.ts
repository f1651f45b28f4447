import { strict as assert } from "node:assert";
import { MAX_BODY_BYTES, normalizeHeaders, readRequest } from "../../../../runtime/core/webhook/request.js";
import { httpEvent } from "../../support/webhook.js";

describe("webhook: readRequest", () => {
  it("passes a POST with a text body through, with lower-cased header names", () => {
    const result = readRequest(
      httpEvent('{"a":1}', { headers: { "X-GitHub-Event": "ping", "Content-Type": "application/json" } }),
    );
    assert.deepEqual(result, {
      headers: { "x-github-event": "ping", "content-type": "application/json" },
      body: '{"a":1}',
    });
  });

  it("decodes a base64-encoded body to the same text", () => {
    const body = JSON.stringify({ note: "naïve ☃" });
    const result = readRequest(httpEvent(body, { base64: true }));
    assert.equal("body" in result && result.body, body);
  });

  it("keeps a byte-order mark (it is part of the signed bytes)", () => {
    const raw = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("{}")]);
    const result = readRequest({
      requestContext: { http: { method: "POST" } },
      body: raw.toString("base64"),
      isBase64Encoded: true,
    });
    assert.ok("body" in result);
    assert.deepEqual(Buffer.from(result.body, "utf8"), raw);
  });

  it("answers 405 for anything but POST", () => {
    for (const method of ["GET", "PUT", "post", undefined]) {
      const event = httpEvent("{}", { method: method as string });
      if (method === undefined) delete event.requestContext;
      const result = readRequest(event);
      assert.deepEqual("kind" in result && [result.status, result.reason], [405, "method-not-allowed"], String(method));
    }
  });

  it("answers 413 above the limit, measured in bytes, and accepts exactly the limit", () => {
    const limit = 100;
    assert.ok("body" in readRequest(httpEvent("x".repeat(limit)), limit));
    const over = readRequest(httpEvent("x".repeat(limit + 1)), limit);
    assert.deepEqual("kind" in over && [over.status, over.reason], [413, "body-too-large"]);
    // 50 snowmen are 150 UTF-8 bytes in 50 UTF-16 units.
    const multiByte = readRequest(httpEvent("☃".repeat(50)), limit);
    assert.equal("kind" in multiByte && multiByte.status, 413);
    assert.match("kind" in multiByte ? multiByte.message : "", /150 bytes is over the limit of 100 bytes/);
  });

  it("applies the limit to the decoded size of a base64 body", () => {
    const limit = 90;
    assert.ok("body" in readRequest(httpEvent("y".repeat(90), { base64: true }), limit)); // 120 base64 characters
    const over = readRequest(httpEvent("y".repeat(91), { base64: true }), limit);
    assert.equal("kind" in over && over.status, 413);
  });

  it("uses 1 MiB by default", () => {
    assert.equal(MAX_BODY_BYTES, 1048576);
    assert.ok("body" in readRequest(httpEvent("z".repeat(MAX_BODY_BYTES))));
    const over = readRequest(httpEvent("z".repeat(MAX_BODY_BYTES + 1)));
    assert.equal("kind" in over && over.status, 413);
  });

  it("answers 400 for an empty or missing body", () => {
    for (const body of ["", undefined, null]) {
      const result = readRequest({ requestContext: { http: { method: "POST" } }, body });
      assert.deepEqual("kind" in result && [result.status, result.reason], [400, "body-empty"], String(body));
    }
  });

  it("answers 400 for a base64 body that is not UTF-8", () => {
    const result = readRequest({
      requestContext: { http: { method: "POST" } },
      body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString("base64"),
      isBase64Encoded: true,
    });
    assert.deepEqual("kind" in result && [result.status, result.reason], [400, "body-not-utf8"]);
  });
});

describe("webhook: normalizeHeaders", () => {
  it("lower-cases names, drops undefined values and joins repeats", () => {
    assert.deepEqual(normalizeHeaders({ "X-Hub-Signature-256": "a", "x-hub-signature-256": "b", Other: undefined }), {
      "x-hub-signature-256": "a,b",
    });
    assert.deepEqual(normalizeHeaders(undefined), {});
    assert.deepEqual(normalizeHeaders(null), {});
  });
});
