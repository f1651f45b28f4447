/**
 * Names the infrastructure and the runtime agree on: environment variables, tags, parameter paths, cache keys,
 * Lambda entry points and the metric namespace. Plain constants, so the Pulumi program (CommonJS), the bundled
 * functions (ESM), the bootstrap script (rendered from these) and the tools all read the same spelling.
 */

/** Environment variables the program sets on the functions. Each function's schema is in `settings.ts`. */
export const ENV = {
  /** JSON array of `RuntimePool` (`pool.ts`). */
  pools: "CIRUNNERS_POOLS",
  /** SQS queue URL for queued jobs. */
  jobQueueUrl: "CIRUNNERS_JOB_QUEUE_URL",
  /** ARN of the Secrets Manager secret that holds the webhook secret (the HMAC key of `X-Hub-Signature-256`). */
  webhookSecretArn: "CIRUNNERS_WEBHOOK_SECRET_ARN",
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
  /** JSON array of `WarmPool` (`pool.ts`), read by the warm-pool function. */
  warmPools: "CIRUNNERS_WARM_POOLS",
  /** DynamoDB table of the job ledger (`ledger.ts`). */
  ledgerTable: "CIRUNNERS_LEDGER_TABLE",
  /** JSON array of the repositories (names without owner) a repo-scope stack serves; `[]` in org scope. */
  repositories: "CIRUNNERS_REPOSITORIES",
  /** Id of the GitHub webhook the stack created (organization hook, or repository hooks in repo scope: JSON map). */
  webhookHookIds: "CIRUNNERS_WEBHOOK_HOOK_IDS",
  /** JSON array of the runner image pipelines' ARNs the runner-cache function starts when it caches a new version. */
  imagePipelineArns: "CIRUNNERS_IMAGE_PIPELINE_ARNS",
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

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

export type Architecture = "x64" | "arm64";

/** Every architecture once; the compiler holds this to `Architecture`. */
const ARCHITECTURE_NAMES: Record<Architecture, true> = { x64: true, arm64: true };

/**
 * The runner image pipeline of one architecture (program/runner-images). The program gives the runner-cache function
 * the pipelines' ARNs before they exist (`imagePipelineArn` in arn.ts; Image Builder lower-cases the name there), and
 * the function reads each one's architecture back with `pipelineArchitecture`.
 */
export function runnerImagePipelineName(stack: string, architecture: Architecture): string {
  return `cirunners-${stack}-runner-${architecture}`;
}

/** The architecture a runner image pipeline builds, from its ARN's name (`-runner-<arch>` ending); else undefined. */
export function pipelineArchitecture(pipelineArn: string): Architecture | undefined {
  const ending = /:image-pipeline\/[^/]*-runner-([^/-]+)$/.exec(pipelineArn)?.[1];
  return ending !== undefined && Object.hasOwn(ARCHITECTURE_NAMES, ending) ? (ending as Architecture) : undefined;
}

/** Parameter that holds an instance's JIT config: `${prefix}/${instanceId}`. */
export function runnerParameterName(prefix: string, instanceId: string): string {
  return `${trimSlashes(prefix)}/${instanceId}`;
}

/** The path prefix under which a stack's per-instance JIT parameters live. */
export function runnerParameterPrefix(project: string, stack: string): string {
  return `/${project}/${stack}/runners`;
}

/** Where the runner-cache function stores the current actions/runner tarball for an architecture. */
export function runnerCacheKey(architecture: Architecture): string {
  return `${runnerCacheFolder(architecture)}/actions-runner.tar.gz`;
}

/** JSON manifest beside the tarball: `{ "version": "2.330.0", "sha256": "<hex>", "fetchedAt": "<iso>" }`. */
export function runnerCacheManifestKey(architecture: Architecture): string {
  return `${runnerCacheFolder(architecture)}/manifest.json`;
}

function runnerCacheFolder(architecture: Architecture): string {
  return `actions-runner/linux-${architecture}`;
}

function trimSlashes(prefix: string): string {
  return prefix.replace(/\/+$/, "");
}

/** The stack's Lambda functions: each name's entry point (it exports `handler`), relative to the repository root. */
export const FUNCTION_ENTRY = {
  webhook: "runtime/handlers/webhook.ts",
  launcher: "runtime/handlers/launcher.ts",
  reaper: "runtime/handlers/reaper.ts",
  "runner-cache": "runtime/handlers/runner-cache.ts",
  "warm-pool": "runtime/handlers/warm-pool.ts",
  reconciler: "runtime/handlers/reconciler.ts",
  redeliver: "runtime/handlers/redeliver.ts",
} as const;

export type FunctionName = keyof typeof FUNCTION_ENTRY;

/** CloudWatch namespace of the functions' Powertools metrics (the dashboard and alarms read it). */
export const METRICS_NAMESPACE = "cirunners";

/**
 * A runner's name: `<pool>-<jobId>-<6 hex>` for a job's runner, `<pool>-warm-<6 hex>` for a warm one. The random
 * part makes each launch attempt unique; the job id lets anyone holding a runner name (the webhook reading
 * `workflow_job.runner_name`, the reaper) find the job it was launched for.
 */
export function runnerName(pool: string, jobId: number | "warm", random: string): string {
  return `${pool}-${jobId}-${random}`;
}

const RUNNER_NAME = /^(.+)-(\d+|warm)-([0-9a-f]{6})$/;

/** The pool and job a runner was launched for, or undefined for a name this stack did not give. */
export function parseRunnerName(name: string): { pool: string; jobId: number | "warm" } | undefined {
  const match = RUNNER_NAME.exec(name);
  if (!match) return undefined;
  return { pool: match[1], jobId: match[2] === "warm" ? "warm" : Number(match[2]) };
}
