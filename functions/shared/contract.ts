/**
 * What the infrastructure and the Lambda functions agree on: environment variable names, the job message,
 * tag keys and parameter paths. Plain constants and types only, so that both the Pulumi program (CommonJS)
 * and the bundled functions (ESM) can import it.
 */

/** A runner pool as the functions see it (a subset of the stack config's pool). */
export interface PoolSpec {
  name: string;
  /** The exact label set a job's `runs-on` must equal (compared case-insensitively, as a set). */
  labels: string[];
  instanceTypes: string[];
  architecture: "x64" | "arm64";
  maxRunners: number;
  spot: boolean;
  /** Launch template id for this pool (launcher only). */
  launchTemplateId?: string;
}

/** One queued job, sent by the webhook function and consumed by the launcher. */
export interface JobMessage {
  version: 1;
  /** `X-GitHub-Delivery` of the webhook that announced the job. */
  deliveryId: string;
  pool: string;
  jobId: number;
  runId: number;
  runAttempt: number;
  /** "owner/name" of the repository the job belongs to. */
  repository: string;
  owner: string;
  /**
   * The GitHub App installation, when the delivery came from the App's own webhook. Organization and repository
   * webhooks (the ones this program creates) carry none: the launcher then looks the installation up once per
   * owner or repository and caches it.
   */
  installationId?: number;
  labels: string[];
  /** ISO time the webhook function accepted the job (for launch-latency metrics). */
  enqueuedAt: string;
}

/** Environment variables set on the functions by the component. */
export const ENV = {
  /** JSON array of PoolSpec. */
  pools: "CIRUNNERS_POOLS",
  /** SQS queue URL for queued jobs. */
  jobQueueUrl: "CIRUNNERS_JOB_QUEUE_URL",
  /** Name of the SecureString parameter that holds the webhook secret. */
  webhookSecretParameter: "CIRUNNERS_WEBHOOK_SECRET_PARAMETER",
  /** Name of the SecureString parameter that holds the GitHub App private key (PEM). */
  appPrivateKeyParameter: "CIRUNNERS_APP_PRIVATE_KEY_PARAMETER",
  appId: "CIRUNNERS_APP_ID",
  /** "org" or "repo": where runners are registered. */
  runnerScope: "CIRUNNERS_RUNNER_SCOPE",
  /** Organization (or user) that owns the runners. */
  githubOwner: "CIRUNNERS_GITHUB_OWNER",
  /** Runner group id (org scope). */
  runnerGroupId: "CIRUNNERS_RUNNER_GROUP_ID",
  /** GitHub API base URL (https://api.github.com, or a local stand-in in tests). */
  githubApiUrl: "CIRUNNERS_GITHUB_API_URL",
  /** Parameter path prefix under which per-instance JIT configs live, e.g. /cirunners/dev/runners. */
  runnerParameterPrefix: "CIRUNNERS_RUNNER_PARAMETER_PREFIX",
  /** Stack name, written into tags. */
  stack: "CIRUNNERS_STACK",
  /** Subnets the launcher may place instances in (JSON array). */
  subnetIds: "CIRUNNERS_SUBNET_IDS",
  /** S3 bucket holding the cached runner binaries. */
  runnerCacheBucket: "CIRUNNERS_RUNNER_CACHE_BUCKET",
  bootGraceMinutes: "CIRUNNERS_BOOT_GRACE_MINUTES",
  maxJobHours: "CIRUNNERS_MAX_JOB_HOURS",
  /** actions/runner version the runner cache keeps: "latest" (default) or a pinned version like 2.330.0. */
  runnerVersion: "CIRUNNERS_RUNNER_VERSION",
  /** JSON array of warm pools: `[{ pool, size, days, startHour, endHour, timezone }]` (warm-pool function). */
  warmPools: "CIRUNNERS_WARM_POOLS",
} as const;

/** Tags the launcher puts on every instance (and the reaper and IAM conditions rely on). */
export const TAG = {
  stack: "cirunners:stack",
  pool: "cirunners:pool",
  jobId: "cirunners:job-id",
  runnerName: "cirunners:runner-name",
  repository: "cirunners:repository",
  /** Set on the JIT parameter: the ARN of the one instance allowed to read and delete it. */
  instanceArn: "cirunners:instance-arn",
  /** "true" on instances the warm pool started (no job behind them): counted as booting warm capacity. */
  warm: "cirunners:warm",
} as const;

/** Parameter that holds an instance's JIT config: `${prefix}/${instanceId}`. */
export function runnerParameterName(prefix: string, instanceId: string): string {
  return `${prefix.replace(/\/+$/, "")}/${instanceId}`;
}

/** Where the runner-cache function stores the current actions/runner tarball for an architecture. */
export function runnerCacheKey(architecture: "x64" | "arm64"): string {
  return `actions-runner/linux-${architecture}/actions-runner.tar.gz`;
}

/** JSON manifest beside the tarball: `{ "version": "2.330.0", "sha256": "<hex>", "fetchedAt": "<iso>" }`. */
export function runnerCacheManifestKey(architecture: "x64" | "arm64"): string {
  return `actions-runner/linux-${architecture}/manifest.json`;
}
