// S3: public access blocked on every bucket, encryption settings sane.
//
// Both are stack policies: in @pulumi/aws 7 the public access block and the encryption configuration are
// separate resources (aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock,
// aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration) that point at the
// bucket by name. When that name is unknown during preview, the engine's property dependencies identify
// the bucket the value was computed from.
//
// Encryption decision: since January 2023 S3 encrypts every new object with SSE-S3 (AES256) by default and
// this cannot be turned off, so a bucket without an explicit configuration IS encrypted. The encryption
// policy is therefore advisory: it checks explicit configurations for a valid algorithm and, when the
// `requireKms` knob is set, requires an explicit SSE-KMS (aws:kms / aws:kms:dsse) configuration.
import type { StackValidationPolicy } from "@pulumi/policy";
import type { ExemptionConfig } from "../lib/exemptions";
import { defineStackPolicy, stackExempt } from "../lib/kit";
import { T } from "../lib/types";
import { isRecord, isUnknown } from "../lib/unknown";
import type { StackResourceLike } from "./lambda";

export const BUCKET_TYPES = [T.s3Bucket, T.s3BucketV2] as const;
const BUCKET_TYPE_SET: ReadonlySet<string> = new Set(BUCKET_TYPES);

export const PUBLIC_ACCESS_FLAGS = [
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
] as const;

/** `arn:aws:s3:::name` → `name`; a plain name stays. */
export function bucketNameFromRef(ref: string): string {
  const m = /^arn:[^:]+:s3:::([^/]+)/.exec(ref.trim());
  return m ? m[1] : ref.trim();
}

interface BucketIndex {
  buckets: StackResourceLike[];
  byName: Map<string, StackResourceLike>;
  byUrn: Map<string, StackResourceLike>;
}

function indexBuckets(resources: readonly StackResourceLike[]): BucketIndex {
  const index: BucketIndex = { buckets: [], byName: new Map(), byUrn: new Map() };
  for (const r of resources) {
    if (!BUCKET_TYPE_SET.has(r.type)) continue;
    index.buckets.push(r);
    index.byUrn.set(r.urn, r);
    const name = r.props.bucket;
    if (typeof name === "string" && !isUnknown(name)) index.byName.set(name, r);
  }
  return index;
}

/** Which bucket a `bucket` property refers to: `resolved: false` when unknown and not attributable. */
function resolveBucket(
  index: BucketIndex,
  owner: StackResourceLike,
): { bucket?: StackResourceLike; resolved: boolean } {
  const ref = owner.props.bucket;
  if (typeof ref === "string" && !isUnknown(ref)) {
    return { bucket: index.byName.get(bucketNameFromRef(ref)), resolved: true };
  }
  if (isUnknown(ref)) {
    const deps = [
      ...new Set(
        (owner.propertyDependencies?.bucket ?? [])
          .map((u) => index.byUrn.get(u))
          .filter((b): b is StackResourceLike => b !== undefined),
      ),
    ];
    return deps.length === 1 ? { bucket: deps[0], resolved: true } : { resolved: false };
  }
  return { resolved: true };
}

type FlagState = { state: "ok" } | { state: "undecided" } | { state: "weak"; missing: string[] };

export function publicAccessFlags(props: Record<string, unknown>): FlagState {
  const missing: string[] = [];
  let undecided = false;
  for (const flag of PUBLIC_ACCESS_FLAGS) {
    const v = props[flag];
    if (isUnknown(v)) undecided = true;
    else if (v !== true) missing.push(flag);
  }
  if (missing.length > 0) return { state: "weak", missing };
  return undecided ? { state: "undecided" } : { state: "ok" };
}

export interface BucketFinding {
  bucket: StackResourceLike;
  message: string;
}

function bucketLabel(bucket: StackResourceLike): string {
  const name = bucket.props.bucket;
  return typeof name === "string" && !isUnknown(name) ? `"${name}" (${bucket.name})` : `"${bucket.name}"`;
}

/** Buckets that certainly lack a public access block with all four flags true. Linear in the stack size. */
export function findBucketsWithoutPublicAccessBlock(resources: readonly StackResourceLike[]): BucketFinding[] {
  const index = indexBuckets(resources);
  if (index.buckets.length === 0) return [];
  const blocks = new Map<StackResourceLike, StackResourceLike[]>();
  let unattributed = false;
  for (const r of resources) {
    if (r.type === T.s3AccountPublicAccessBlock) {
      const state = publicAccessFlags(r.props);
      if (state.state !== "weak") return []; // the account-level block covers (or may cover) every bucket
    } else if (r.type === T.s3BucketPublicAccessBlock) {
      const target = resolveBucket(index, r);
      if (!target.resolved) unattributed = true;
      else if (target.bucket) blocks.set(target.bucket, [...(blocks.get(target.bucket) ?? []), r]);
    }
  }
  const findings: BucketFinding[] = [];
  for (const bucket of index.buckets) {
    const pabs = blocks.get(bucket) ?? [];
    if (pabs.length === 0) {
      if (!unattributed) {
        findings.push({
          bucket,
          message:
            `S3 bucket ${bucketLabel(bucket)} has no ${T.s3BucketPublicAccessBlock}. Add new aws.s3.BucketPublicAccessBlock(..., { bucket: <bucket>.id, ` +
            "blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }) (or an account-level aws.s3.AccountPublicAccessBlock).",
        });
      }
      continue;
    }
    const states = pabs.map((p) => ({ pab: p, state: publicAccessFlags(p.props) }));
    if (states.some((s) => s.state.state === "ok") || states.some((s) => s.state.state === "undecided")) continue;
    const weak = states[0];
    const missing = weak.state.state === "weak" ? weak.state.missing : [];
    findings.push({
      bucket,
      message:
        `S3 bucket ${bucketLabel(bucket)}: its ${T.s3BucketPublicAccessBlock} "${weak.pab.name}" does not set ${missing.join(", ")} to true, ` +
        "so the bucket can still be made public. Set all four flags (blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets) to true.",
    });
  }
  return findings;
}

export const VALID_SSE_ALGORITHMS = ["AES256", "aws:kms", "aws:kms:dsse"];
const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];

/** Collects every `sseAlgorithm` value below `value` (handles the v7 resource and legacy inline shapes). */
function collectAlgorithms(value: unknown, out: { values: string[]; unknown: boolean }): void {
  if (isUnknown(value)) {
    out.unknown = true;
  } else if (Array.isArray(value)) {
    for (const v of value) collectAlgorithms(v, out);
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === "sseAlgorithm") {
        if (isUnknown(v)) out.unknown = true;
        else if (typeof v === "string") out.values.push(v);
      } else {
        collectAlgorithms(v, out);
      }
    }
  }
}

export interface EncryptionOptions {
  requireKms?: boolean;
}

/** Buckets whose encryption configuration is certainly invalid, or certainly not SSE-KMS when required. */
export function findBucketEncryptionProblems(
  resources: readonly StackResourceLike[],
  options: EncryptionOptions = {},
): BucketFinding[] {
  const index = indexBuckets(resources);
  if (index.buckets.length === 0) return [];
  const configs = new Map<StackResourceLike, { values: string[]; unknown: boolean; sources: string[] }>();
  const entry = (bucket: StackResourceLike) => {
    let e = configs.get(bucket);
    if (!e) {
      e = { values: [], unknown: false, sources: [] };
      configs.set(bucket, e);
    }
    return e;
  };
  let unattributed = false;
  for (const r of resources) {
    if (r.type === T.s3BucketSse || r.type === T.s3BucketSseV2) {
      const target = resolveBucket(index, r);
      if (!target.resolved) unattributed = true;
      else if (target.bucket) {
        const e = entry(target.bucket);
        e.sources.push(`${r.type} "${r.name}"`);
        collectAlgorithms(r.props.rules ?? r.props.rule, e);
      }
    } else if (BUCKET_TYPE_SET.has(r.type)) {
      const inline = r.props.serverSideEncryptionConfiguration ?? r.props.serverSideEncryptionConfigurations;
      if (inline !== undefined && inline !== null) {
        const e = entry(r);
        e.sources.push("the bucket's inline serverSideEncryptionConfiguration");
        collectAlgorithms(inline, e);
      }
    }
  }
  const findings: BucketFinding[] = [];
  for (const bucket of index.buckets) {
    const e = configs.get(bucket);
    const invalid = (e?.values ?? []).filter((a) => !VALID_SSE_ALGORITHMS.includes(a));
    if (invalid.length > 0) {
      findings.push({
        bucket,
        message: `S3 bucket ${bucketLabel(bucket)}: ${e!.sources.join(", ")} uses sseAlgorithm ${invalid.map((a) => `"${a}"`).join(", ")}, which S3 does not accept. Use "aws:kms" (or "AES256").`,
      });
      continue;
    }
    if (!options.requireKms) continue;
    if (!e || e.sources.length === 0) {
      if (!unattributed) {
        findings.push({
          bucket,
          message:
            `S3 bucket ${bucketLabel(bucket)} has no server-side encryption configuration, so objects get the default SSE-S3 (AES256) while the policy config requires SSE-KMS. ` +
            `Add aws.s3.BucketServerSideEncryptionConfiguration with rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: <key ARN> }, bucketKeyEnabled: true }].`,
        });
      }
      continue;
    }
    if (e.unknown || e.values.some((a) => KMS_ALGORITHMS.includes(a))) continue;
    findings.push({
      bucket,
      message: `S3 bucket ${bucketLabel(bucket)}: ${e.sources.join(", ")} uses ${e.values.map((a) => `"${a}"`).join(", ") || "no algorithm"}, but the policy config requires SSE-KMS. Set sseAlgorithm: "aws:kms" with kmsMasterKeyId.`,
    });
  }
  return findings;
}

export const s3PublicAccessBlocked: StackValidationPolicy = defineStackPolicy<ExemptionConfig>({
  name: "aws-s3-bucket-public-access-blocked",
  description:
    "Every S3 bucket must have a BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "For each bucket add new aws.s3.BucketPublicAccessBlock(`${name}-pab`, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, " +
    "ignorePublicAcls: true, restrictPublicBuckets: true }), or manage an account-level aws.s3.AccountPublicAccessBlock with all four flags in the same stack.",
  tags: ["s3", "data-protection"],
  types: BUCKET_TYPES,
  check: ({ resources, config, report }) => {
    for (const f of findBucketsWithoutPublicAccessBlock(resources)) {
      if (!stackExempt(f.bucket, config)) report(f.message, f.bucket.urn);
    }
  },
});

interface EncryptionConfig extends ExemptionConfig {
  requireKms?: boolean;
}

export const s3Encryption: StackValidationPolicy = defineStackPolicy<EncryptionConfig>({
  name: "aws-s3-bucket-encryption",
  description:
    "S3 bucket encryption configurations must use a valid algorithm; with requireKms, buckets must be encrypted with SSE-KMS (S3 applies SSE-S3 by default otherwise).",
  enforcementLevel: "advisory",
  severity: "medium",
  remediationSteps:
    "Nothing is needed for the default SSE-S3 encryption. For SSE-KMS add aws.s3.BucketServerSideEncryptionConfiguration with " +
    'rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }].',
  config: {
    requireKms: {
      type: "boolean",
      default: false,
      description: "Require an explicit SSE-KMS configuration on every bucket.",
    },
  },
  tags: ["s3", "encryption"],
  types: BUCKET_TYPES,
  check: ({ resources, config, report }) => {
    for (const f of findBucketEncryptionProblems(resources, { requireKms: config.requireKms === true })) {
      if (!stackExempt(f.bucket, config)) report(f.message, f.bucket.urn);
    }
  },
});

export const s3Policies: StackValidationPolicy[] = [s3PublicAccessBlocked, s3Encryption];
