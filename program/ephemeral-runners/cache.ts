/**
 * The runner binary cache: a private bucket the runner-cache function fills with the current actions/runner
 * tarball per architecture, and runner boots read through the VPC's S3 gateway endpoint (no download from
 * github.com on every boot, no NAT per-GB charge).
 *
 * Encryption is SSE-S3 (AES256): the objects are public release tarballs, so what matters is integrity and
 * access control, not key separation; a KMS key would add a cost per request and a kms:Decrypt grant to every
 * instance role without protecting anything more.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";

export interface RunnerCacheBucketResources {
  bucket: aws.s3.Bucket;
  publicAccessBlock: aws.s3.BucketPublicAccessBlock;
  encryption: aws.s3.BucketServerSideEncryptionConfiguration;
  ownership: aws.s3.BucketOwnershipControls;
  versioning: aws.s3.BucketVersioning;
  lifecycle: aws.s3.BucketLifecycleConfiguration;
  policy: aws.s3.BucketPolicy;
}

/**
 * The bucket's name: S3 names are global, so stack, account and region make it unique; one that would exceed
 * S3's 63 characters keeps a hash of the full name instead of its tail.
 */
export function runnerCacheBucketName(stack: string, account: string, region: string): string {
  const full = `cirunners-${stack}-runner-cache-${account}-${region}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
  if (full.length <= 63) return full;
  return `${full.slice(0, 54).replace(/-+$/, "")}-${createHash("sha256").update(full).digest("hex").slice(0, 8)}`;
}

/** Creates the hardened cache bucket (children of `parent`). */
export function createRunnerCacheBucket(
  name: string,
  where: { stack: string; account: pulumi.Input<string>; region: pulumi.Input<string> },
  tags: Record<string, string> | undefined,
  parent: pulumi.Resource,
): RunnerCacheBucketResources {
  const opts = { parent };
  // A known name (rather than an auto-name) lets operators, the policy pack and the preview tie the bucket to
  // its hardening resources. The content is re-fetched from GitHub at will, so the bucket may be emptied
  // when the stack is destroyed.
  const bucketName = pulumi
    .all([where.account, where.region])
    .apply(([account, region]) => runnerCacheBucketName(where.stack, account, region));
  const bucket = new aws.s3.Bucket(name, { bucket: bucketName, forceDestroy: true, tags }, opts);

  const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
    name,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );
  const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
    name,
    { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
    opts,
  );
  // ACLs off: the bucket policy and IAM decide every access.
  const ownership = new aws.s3.BucketOwnershipControls(
    name,
    { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    opts,
  );
  // Versioning keeps the previous tarball for a week, so a bad upload can be rolled back by hand.
  const versioning = new aws.s3.BucketVersioning(
    name,
    { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
    opts,
  );
  const lifecycle = new aws.s3.BucketLifecycleConfiguration(
    name,
    {
      bucket: bucket.id,
      rules: [
        {
          id: "expire-old-runner-versions",
          status: "Enabled",
          filter: { prefix: "" },
          noncurrentVersionExpiration: { noncurrentDays: 7 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          expiration: { expiredObjectDeleteMarker: true },
        },
      ],
    },
    { parent, dependsOn: [versioning] },
  );
  const policy = new aws.s3.BucketPolicy(
    name,
    {
      bucket: bucket.id,
      // A bucket policy needs a Principal, which identity-policy statements (PolicyStatement) do not have.
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    },
    // S3 rejects policy writes while the public access block is being applied.
    { parent, dependsOn: [publicAccessBlock] },
  );
  return { bucket, publicAccessBlock, encryption, ownership, versioning, lifecycle, policy };
}
