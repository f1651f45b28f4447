/**
 * The S3 bucket policies: aws-s3-bucket-public-access-blocked and aws-s3-bucket-encryption.
 */
import * as assert from "node:assert/strict";
import { UNKNOWN } from "../../policy/evaluate";
import {
  bucketNameFromRef,
  findBucketEncryptionProblems,
  findBucketsWithoutPublicAccessBlock,
} from "../../policy/rules/s3";
import { assertNotApplicable, detail, messages, res, runPolicy } from "./helpers";
import { ACCOUNT_PAB, BUCKET, PAB, ROLE, SSE } from "./resource-types";

const BUCKET_V2 = "aws:s3/bucketV2:BucketV2";
const ALL = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };

describe("aws-s3-bucket-public-access-blocked", () => {
  const P = "aws-s3-bucket-public-access-blocked";

  it("flags a bucket without a public access block, reported against the bucket", async () => {
    const b = res(BUCKET, "artifacts", { bucket: "artifacts-1a2b3c" });
    const r = await runPolicy(P, [b]);
    assert.equal(r.violations.length, 1);
    assert.equal(r.violations[0].urn, b.urn);
    assert.match(
      detail(r.violations[0]),
      /S3 bucket "artifacts-1a2b3c" \(artifacts\) has no aws:s3\/bucketPublicAccessBlock:BucketPublicAccessBlock/,
    );
  });

  it("flags a block that leaves a flag off, naming the flag", async () => {
    const found = await messages(P, [
      res(BUCKET_V2, "b", { bucket: "b-1" }),
      res(PAB, "b-pab", { bucket: "b-1", ...ALL, restrictPublicBuckets: false }),
    ]);
    assert.equal(found.length, 1);
    assert.match(found[0], /"b-pab" does not set restrictPublicBuckets to true/);
  });

  it("accepts a complete block (by name, ARN or property dependency) or an account-level block", async () => {
    assert.deepEqual(
      await messages(P, [res(BUCKET, "b", { bucket: "b-1" }), res(PAB, "pab", { bucket: "b-1", ...ALL })]),
      [],
    );
    assert.deepEqual(
      await messages(P, [res(BUCKET, "b", { bucket: "b-1" }), res(PAB, "pab", { bucket: "arn:aws:s3:::b-1", ...ALL })]),
      [],
    );
    const b = res(BUCKET, "b", { bucket: UNKNOWN });
    assert.deepEqual(
      await messages(P, [
        b,
        res(PAB, "pab", { bucket: UNKNOWN, ...ALL }, { propertyDependencies: { bucket: [b.urn] } }),
      ]),
      [],
    );
    assert.deepEqual(await messages(P, [res(BUCKET, "x", { bucket: "x" }), res(ACCOUNT_PAB, "account", ALL)]), []);
  });

  it("unknown values: never reports what is not certain", async () => {
    assert.deepEqual(
      await messages(P, [res(BUCKET, "b", { bucket: "b-1" }), res(PAB, "pab", { bucket: UNKNOWN, ...ALL })]),
      [],
      "an unattributable block may be this bucket's",
    );
    assert.deepEqual(
      await messages(P, [
        res(BUCKET, "b", { bucket: "b-1" }),
        res(PAB, "pab", { bucket: "b-1", ...ALL, blockPublicAcls: UNKNOWN }),
      ]),
      [],
    );
    assert.deepEqual(
      await messages(P, [
        res(BUCKET, "b", { bucket: "b-1" }),
        res(ACCOUNT_PAB, "acct", { ...ALL, ignorePublicAcls: UNKNOWN }),
      ]),
      [],
    );
    assert.equal(
      (
        await messages(P, [
          res(BUCKET, "b", { bucket: "b-1" }),
          res(BUCKET, "c", { bucket: "c-1" }),
          res(
            PAB,
            "pab",
            { bucket: UNKNOWN, ...ALL },
            { propertyDependencies: { bucket: [`urn:pulumi:dev::cirunners::${BUCKET}::b`] } },
          ),
        ])
      ).length,
      1,
      "c has certainly none",
    );
  });

  it("exemptions and not applicable without buckets", async () => {
    const site = res(BUCKET, "public-site", { bucket: "site", tags: { public: "website" } });
    assert.deepEqual(await messages(P, [site], { config: { [P]: { exemptTags: { public: "website" } } } }), []);
    assert.deepEqual(await messages(P, [site], { config: { [P]: { exemptNamePatterns: ["public-*"] } } }), []);
    assertNotApplicable(
      await runPolicy(P, [res(ROLE, "r", {})]),
      P,
      /Policy only applies to resources of types 'aws:s3\/bucket:Bucket', 'aws:s3\/bucketV2:BucketV2'/,
    );
    assertNotApplicable(
      await runPolicy(P, [site], { config: { [P]: { exemptStackTags: { env: "*" } } }, stackTags: { env: "x" } }),
      P,
      /stack carries/,
    );
  });

  it("helpers", () => {
    assert.equal(bucketNameFromRef("arn:aws:s3:::my-bucket"), "my-bucket");
    assert.equal(bucketNameFromRef("my-bucket"), "my-bucket");
    assert.equal(findBucketsWithoutPublicAccessBlock([]).length, 0);
  });
});

describe("aws-s3-bucket-encryption", () => {
  const P = "aws-s3-bucket-encryption";

  it("accepts the default SSE-S3 and valid explicit configurations", async () => {
    assert.deepEqual(
      await messages(P, [
        res(BUCKET, "plain", { bucket: "plain" }),
        res(BUCKET, "kms", { bucket: "kms" }),
        res(SSE, "kms-sse", {
          bucket: "kms",
          rules: [
            {
              applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "k" },
              bucketKeyEnabled: true,
            },
          ],
        }),
      ]),
      [],
    );
  });

  it("flags an invalid algorithm (advisory)", async () => {
    const r = await runPolicy(P, [
      res(BUCKET, "b", { bucket: "b" }),
      res(SSE, "sse", { bucket: "b", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "DES" } }] }),
    ]);
    assert.equal(r.violations.length, 1);
    assert.equal(r.violations[0].enforcementLevel, "advisory");
    assert.match(detail(r.violations[0]), /sseAlgorithm "DES"/);
  });

  it("requireKms: flags buckets left on SSE-S3, accepts KMS, skips unknowns", async () => {
    const config = { [P]: { requireKms: true } };
    assert.match((await messages(P, [res(BUCKET, "b", { bucket: "b" })], { config }))[0], /requires SSE-KMS/);
    assert.match(
      (
        await messages(
          P,
          [
            res(BUCKET, "b", { bucket: "b" }),
            res(SSE, "s", { bucket: "b", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }),
          ],
          { config },
        )
      )[0],
      /uses "AES256"/,
    );
    assert.deepEqual(
      await messages(
        P,
        [
          res(BUCKET, "b", {
            bucket: "b",
            serverSideEncryptionConfiguration: {
              rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } },
            },
          }),
        ],
        { config },
      ),
      [],
      "legacy inline configuration",
    );
    assert.deepEqual(
      await messages(
        P,
        [
          res(BUCKET, "b", { bucket: "b" }),
          res(SSE, "s", { bucket: "b", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: UNKNOWN } }] }),
        ],
        { config },
      ),
      [],
    );
    assert.deepEqual(
      await messages(P, [res(BUCKET, "b", { bucket: "b" }), res(SSE, "s", { bucket: UNKNOWN, rules: UNKNOWN })], {
        config,
      }),
      [],
    );
    assert.equal(findBucketEncryptionProblems([res(BUCKET, "b", { bucket: "b" })], { requireKms: false }).length, 0);
  });

  it("exemptions and not applicable without buckets", async () => {
    const b = res(BUCKET, "logs", { bucket: "logs" });
    assert.deepEqual(
      await messages(P, [b], { config: { [P]: { requireKms: true, exemptNamePatterns: ["logs"] } } }),
      [],
    );
    assertNotApplicable(await runPolicy(P, [res(ROLE, "r", {})]), P, /Policy only applies/);
  });
});
