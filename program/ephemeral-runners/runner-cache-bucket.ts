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
import type { AwsLocation } from "../../contract/arn";

/**
 * The bucket's name: S3 names are global, so stack, account and region make it unique; one that would exceed
 * S3's 63 characters keeps a hash of the full name instead of its tail.
 */
export function runnerCacheBucketName(stack: string, account: string, region: string): string {
  const full = `cirunners-${stack}-runner-cache-${account}-${region}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
  if (full.length <= 63) return full;
  return `${full.slice(0, 54).replace(/-+$/, "")}-${createHash("sha256").update(full).digest("hex").slice(0, 8)}`;
}

/** The runner binary cache bucket. */
export interface RunnerCacheBucketArgs {
  /** Stack name: part of the bucket's globally unique name. */
  readonly stack: string;
  /** Region and account: the rest of the bucket's name. */
  readonly location: pulumi.Input<AwsLocation>;
  /**
   * Tags for every child.
   * @default no tags
   */
  readonly tags?: Record<string, string>;
}

/** The hardened cache bucket: no public access, SSE-S3, ACLs off, versioned, TLS only. */
export class RunnerCacheBucket extends pulumi.ComponentResource {
  public readonly bucket: aws.s3.Bucket;

  constructor(name: string, args: RunnerCacheBucketArgs, componentOpts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:RunnerCacheBucket", name, {}, componentOpts);
    const opts = { parent: this };
    const tags = args.tags;
    // A known name (rather than an auto-name) lets operators, the policy pack and the preview tie the bucket to
    // its hardening resources. The content is re-fetched from GitHub at will, so the bucket may be emptied
    // when the stack is destroyed.
    const bucketName = pulumi
      .output(args.location)
      .apply(({ account, region }) => runnerCacheBucketName(args.stack, account, region));
    this.bucket = new aws.s3.Bucket(name, { bucket: bucketName, forceDestroy: true, tags }, opts);

    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
      name,
      {
        bucket: this.bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      opts,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      name,
      { bucket: this.bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      opts,
    );
    // ACLs off: the bucket policy and IAM decide every access.
    new aws.s3.BucketOwnershipControls(
      name,
      { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      opts,
    );
    // Versioning keeps the previous tarball for a week, so a bad upload can be rolled back by hand.
    const versioning = new aws.s3.BucketVersioning(
      name,
      { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } },
      opts,
    );
    new aws.s3.BucketLifecycleConfiguration(
      name,
      {
        bucket: this.bucket.id,
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
      { ...opts, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
      name,
      {
        bucket: this.bucket.id,
        // A bucket policy needs a Principal, which identity-policy statements (PolicyStatement) do not have.
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [this.bucket.arn, pulumi.interpolate`${this.bucket.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      },
      // S3 rejects policy writes while the public access block is being applied.
      { ...opts, dependsOn: [publicAccessBlock] },
    );
    this.registerOutputs({ bucketName: this.bucket.bucket, bucketArn: this.bucket.arn });
  }
}
