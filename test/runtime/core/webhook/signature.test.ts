import { strict as assert } from "node:assert";
import { createHmac } from "node:crypto";
import { verifySignature } from "../../../../runtime/core/webhook/signature.js";
import { SECRET, sign } from "../../support/webhook.js";

describe("webhook: verifySignature", () => {
  const body = JSON.stringify({ action: "queued", note: "naïve ☃ — UTF-8" });

  it("accepts sha256= + the HMAC-SHA256 of the raw UTF-8 body", async () => {
    const expected = sign(SECRET, Buffer.from(body, "utf8"));
    assert.deepEqual(await verifySignature(SECRET, body, { "x-hub-signature-256": expected }), { kind: "valid" });
  });

  it("refuses a signature made with another secret", async () => {
    const result = await verifySignature(SECRET, body, { "x-hub-signature-256": sign("another-secret", body) });
    assert.equal(result.kind === "reject" && result.reason, "signature-mismatch");
    assert.equal(result.kind === "reject" && result.status, 401);
  });

  it("refuses a signature of a different body (one byte changed)", async () => {
    const result = await verifySignature(SECRET, `${body} `, { "x-hub-signature-256": sign(SECRET, body) });
    assert.equal(result.kind === "reject" && result.reason, "signature-mismatch");
  });

  it("refuses a missing signature", async () => {
    const result = await verifySignature(SECRET, body, {});
    assert.deepEqual(result.kind === "reject" && [result.status, result.reason], [401, "signature-missing"]);
    assert.match(result.kind === "reject" ? result.message : "", /X-Hub-Signature-256/);
    const empty = await verifySignature(SECRET, body, { "x-hub-signature-256": "" });
    assert.equal(empty.kind === "reject" && empty.reason, "signature-missing");
  });

  it("refuses X-Hub-Signature (SHA-1) on its own, even when it is correct", async () => {
    const sha1 = `sha1=${createHmac("sha1", SECRET).update(body).digest("hex")}`;
    const result = await verifySignature(SECRET, body, { "x-hub-signature": sha1 });
    assert.deepEqual(result.kind === "reject" && [result.status, result.reason], [401, "signature-sha1-only"]);
  });

  it("checks only X-Hub-Signature-256 when both are sent", async () => {
    const sha1 = `sha1=${createHmac("sha1", SECRET).update(body).digest("hex")}`;
    const good = await verifySignature(SECRET, body, {
      "x-hub-signature": sha1,
      "x-hub-signature-256": sign(SECRET, body),
    });
    assert.equal(good.kind, "valid");
    const bad = await verifySignature(SECRET, body, {
      "x-hub-signature": sha1,
      "x-hub-signature-256": sign("x", body),
    });
    assert.equal(bad.kind === "reject" && bad.reason, "signature-mismatch");
  });

  it("refuses a wrong prefix, a bare digest, upper-case hex or a truncated digest", async () => {
    const digest = createHmac("sha256", SECRET).update(body).digest("hex");
    for (const header of [
      `sha1=${digest}`,
      `SHA256=${digest}`,
      digest,
      `sha256=${digest.toUpperCase()}`,
      `sha256=${digest.slice(0, 63)}`,
      `sha256=${digest}0`,
      `sha256= ${digest}`,
    ]) {
      const result = await verifySignature(SECRET, body, { "x-hub-signature-256": header });
      assert.deepEqual(
        result.kind === "reject" && [result.status, result.reason],
        [401, "signature-malformed"],
        header,
      );
    }
  });

  it("refuses an empty body instead of throwing", async () => {
    const result = await verifySignature(SECRET, "", { "x-hub-signature-256": `sha256=${"0".repeat(64)}` });
    assert.equal(result.kind === "reject" && result.reason, "signature-mismatch");
  });

  it("throws on an empty secret (a configuration error, never a pass)", async () => {
    await assert.rejects(verifySignature("", body, { "x-hub-signature-256": sign(SECRET, body) }), /secret is empty/);
  });
});
