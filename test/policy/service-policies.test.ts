import * as assert from "node:assert/strict";
import { UNKNOWN } from "../../policy/evaluate";
import { assertClean, assertNotApplicable, assertViolates, messages, res, runPolicy } from "./helpers";
import { BUCKET, LOGS, QUEUE, REPO } from "./resource-types";

describe("aws-sqs-queue-encrypted", () => {
  const P = "aws-sqs-queue-encrypted";

  it("flags queues without explicit SSE", async () => {
    await assertViolates(
      P,
      [res(QUEUE, "jobs", { visibilityTimeoutSeconds: 60 })],
      "sqsManagedSseEnabled = not set",
      "Set sqsManagedSseEnabled: true",
    );
    await assertViolates(P, [res(QUEUE, "jobs", { sqsManagedSseEnabled: false })], "sqsManagedSseEnabled = false");
    await assertViolates(
      P,
      [res(QUEUE, "jobs", { sqsManagedSseEnabled: false, kmsMasterKeyId: "" })],
      "no kmsMasterKeyId",
    );
  });

  it("accepts SSE-SQS, SSE-KMS and unknowns", async () => {
    await assertClean(P, [
      res(QUEUE, "a", { sqsManagedSseEnabled: true }),
      res(QUEUE, "b", { kmsMasterKeyId: "alias/aws/sqs" }),
      res(QUEUE, "c", { kmsMasterKeyId: UNKNOWN }),
      res(QUEUE, "d", { sqsManagedSseEnabled: UNKNOWN }),
    ]);
  });

  it("is not applicable to other types; exemptions", async () => {
    const b = res(BUCKET, "b", {});
    assertNotApplicable(
      await runPolicy(P, [b]),
      P,
      /Policy only applies to resources of type 'aws:sqs\/queue:Queue'/,
      b.urn,
    );
    const q = res(QUEUE, "legacy-queue", {});
    assert.deepEqual(await messages(P, [q], { config: { [P]: { exemptNamePatterns: ["legacy-*"] } } }), []);
  });
});

describe("aws-ecr-repository-immutable-tags", () => {
  const P = "aws-ecr-repository-immutable-tags";

  it("flags mutable or default tag mutability", async () => {
    await assertViolates(P, [res(REPO, "runner-image", {})], 'not set (the default is "MUTABLE")');
    await assertViolates(P, [res(REPO, "runner-image", { imageTagMutability: "MUTABLE" })], '"MUTABLE"');
  });

  it("accepts IMMUTABLE, IMMUTABLE_WITH_EXCLUSION and unknown", async () => {
    await assertClean(P, [
      res(REPO, "a", { imageTagMutability: "IMMUTABLE" }),
      res(REPO, "b", { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION" }),
      res(REPO, "c", { imageTagMutability: UNKNOWN }),
    ]);
  });

  it("is not applicable to other types; exemptions", async () => {
    const q = res(QUEUE, "q", {});
    assertNotApplicable(await runPolicy(P, [q]), P, /Policy only applies/, q.urn);
    const cache = res(REPO, "cache", { tags: { purpose: "build-cache" } });
    assert.deepEqual(await messages(P, [cache], { config: { [P]: { exemptTags: { purpose: "build-cache" } } } }), []);
  });
});

describe("aws-ecr-repository-scan-on-push", () => {
  const P = "aws-ecr-repository-scan-on-push";

  it("flags repositories without scan on push, as advisory", async () => {
    await assertViolates(P, [res(REPO, "r", { imageTagMutability: "IMMUTABLE" })], "scanOnPush is not true");
    await assertViolates(
      P,
      [res(REPO, "r", { imageScanningConfiguration: { scanOnPush: false } })],
      "scanOnPush is not true",
    );
    const r = await runPolicy(P, [res(REPO, "r", {})]);
    assert.equal(r.violations[0].enforcementLevel, "advisory");
  });

  it("accepts scanOnPush true and unknown", async () => {
    await assertClean(P, [
      res(REPO, "a", { imageScanningConfiguration: { scanOnPush: true } }),
      res(REPO, "b", { imageScanningConfiguration: UNKNOWN }),
      res(REPO, "c", { imageScanningConfiguration: { scanOnPush: UNKNOWN } }),
    ]);
  });

  it("is not applicable to other types; exemptions", async () => {
    const q = res(QUEUE, "q", {});
    assertNotApplicable(await runPolicy(P, [q]), P, /Policy only applies/, q.urn);
    assert.deepEqual(
      await messages(P, [res(REPO, "mirror", {})], { config: { [P]: { exemptNamePatterns: ["mirror"] } } }),
      [],
    );
  });
});

describe("aws-cloudwatch-loggroup-retention", () => {
  const P = "aws-cloudwatch-loggroup-retention";

  it("flags missing or zero retention", async () => {
    await assertViolates(P, [res(LOGS, "lg", { name: "/aws/lambda/x" })], "retentionInDays is not set");
    await assertViolates(P, [res(LOGS, "lg", { retentionInDays: 0 })], "retentionInDays is 0");
  });

  it("accepts a retention and unknown", async () => {
    await assertClean(P, [res(LOGS, "a", { retentionInDays: 30 }), res(LOGS, "b", { retentionInDays: UNKNOWN })]);
  });

  it("is not applicable to other types; exemptions", async () => {
    const q = res(QUEUE, "q", {});
    assertNotApplicable(await runPolicy(P, [q]), P, /Policy only applies/, q.urn);
    const audit = res(LOGS, "audit", { tags: { retention: "forever" } });
    assert.deepEqual(await messages(P, [audit], { config: { [P]: { exemptTags: { retention: "forever" } } } }), []);
  });
});
