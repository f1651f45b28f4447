/**
 * Runner binary cache: a scheduled function that keeps the current `actions/runner` Linux tarball of each
 * architecture the pools use in the cache bucket, so instances install it through the VPC's S3 endpoint instead
 * of downloading ~200 MB from github.com on every boot.
 *
 * Per architecture: when the manifest already names the release's version (and checksum), nothing is
 * downloaded. Otherwise the tarball is streamed from GitHub into a multipart upload while being hashed, the
 * upload is completed only when the hash matches what GitHub publishes, and the manifest is written last.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Octokit } from "@octokit/core";
import { ENV, runnerCacheKey, runnerCacheManifestKey } from "../../contract/names.js";
import { getInstallationOctokit, getOwnerInstallationId } from "../shared/github.js";
import {
  isCacheCurrent,
  parseManifest,
  poolArchitectures,
  releaseRoute,
  selectRunnerAssets,
  type Architecture,
  type CacheManifest,
  type Release,
  type RunnerAsset,
} from "../runner-cache/release.js";
import { streamToS3 } from "../runner-cache/upload.js";

export interface RunnerCacheSettings {
  bucket: string;
  architectures: Architecture[];
  /** "latest" or a pinned version like 2.330.0. */
  version: string;
  apiUrl: string;
}

/** Reads the settings; every problem names the variable. */
export function readRunnerCacheSettings(env: NodeJS.ProcessEnv = process.env): RunnerCacheSettings {
  const bucket = env[ENV.runnerCacheBucket];
  if (!bucket) throw new Error(`${ENV.runnerCacheBucket} is not set`);
  const rawPools = env[ENV.pools];
  if (!rawPools) throw new Error(`${ENV.pools} is not set`);
  let pools: unknown;
  try {
    pools = JSON.parse(rawPools);
  } catch (error) {
    throw new Error(`${ENV.pools} is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(pools) || pools.length === 0)
    throw new Error(`${ENV.pools} must be a non-empty JSON array of pools`);
  const architectures = poolArchitectures(pools as { architecture: string }[]);
  const version = env[ENV.runnerVersion] || "latest";
  releaseRoute(version); // validates
  const apiUrl = (env[ENV.githubApiUrl] || "https://api.github.com").replace(/\/+$/, "");
  return { bucket, architectures, version, apiUrl };
}

export interface RunnerCacheDependencies {
  s3: S3Client;
  /** Reads the release (unauthenticated is enough for the public actions/runner repository). */
  github: Octokit;
  /** Downloads an asset (github.com's `browser_download_url`, which redirects to a CDN). */
  fetch: typeof fetch;
  now: () => Date;
  logger: Pick<Logger, "info" | "warn">;
}

export interface ArchitectureResult {
  architecture: Architecture;
  version: string;
  action: "uploaded" | "current";
  sha256: string;
  bytes?: number;
}

async function readManifest(
  s3: S3Client,
  bucket: string,
  architecture: Architecture,
): Promise<CacheManifest | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: runnerCacheManifestKey(architecture) }));
    return parseManifest(await object.Body?.transformToString());
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === "NoSuchKey" || name === "NotFound") return undefined;
    throw error;
  }
}

async function fetchRelease(github: Octokit, version: string): Promise<Release> {
  const { route, tag } = releaseRoute(version);
  const response = tag ? await github.request(route, { tag }) : await github.request(route);
  return response.data as Release;
}

async function refresh(
  asset: RunnerAsset,
  settings: RunnerCacheSettings,
  deps: RunnerCacheDependencies,
): Promise<ArchitectureResult> {
  const response = await deps.fetch(asset.url, { redirect: "follow" });
  if (!response.ok || !response.body)
    throw new Error(`downloading ${asset.name} from ${asset.url} failed: HTTP ${response.status}`);
  const uploaded = await streamToS3({
    s3: deps.s3,
    bucket: settings.bucket,
    key: runnerCacheKey(asset.architecture),
    body: response.body,
    expectedSha256: asset.expectedSha256,
    contentType: "application/gzip",
    metadata: { "runner-version": asset.version, ...(asset.expectedSha256 ? { sha256: asset.expectedSha256 } : {}) },
  });
  if (asset.size !== undefined && uploaded.bytes !== asset.size) {
    // The hash check already guards content when GitHub publishes one; this catches truncation when it does not.
    throw new Error(`${asset.name}: downloaded ${uploaded.bytes} bytes, the release lists ${asset.size}`);
  }
  const manifest: CacheManifest = {
    version: asset.version,
    sha256: uploaded.sha256,
    fetchedAt: deps.now().toISOString(),
  };
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: settings.bucket,
      Key: runnerCacheManifestKey(asset.architecture),
      Body: JSON.stringify(manifest),
      ContentType: "application/json",
    }),
  );
  deps.logger.info("cached runner release", {
    architecture: asset.architecture,
    version: asset.version,
    sha256: uploaded.sha256,
    bytes: uploaded.bytes,
    parts: uploaded.parts,
    verified: Boolean(asset.expectedSha256),
  });
  return {
    architecture: asset.architecture,
    version: asset.version,
    action: "uploaded",
    sha256: uploaded.sha256,
    bytes: uploaded.bytes,
  };
}

/** One run: brings every architecture's cache up to the wanted release. */
export async function refreshRunnerCache(
  settings: RunnerCacheSettings,
  deps: RunnerCacheDependencies,
): Promise<ArchitectureResult[]> {
  const release = await fetchRelease(deps.github, settings.version);
  const assets = selectRunnerAssets(release, settings.architectures);
  const results: ArchitectureResult[] = [];
  // One architecture at a time: each streams ~200 MB, and memory holds one part of one upload.
  for (const asset of assets) {
    const manifest = await readManifest(deps.s3, settings.bucket, asset.architecture);
    if (manifest && isCacheCurrent(manifest, asset)) {
      results.push({
        architecture: asset.architecture,
        version: asset.version,
        action: "current",
        sha256: manifest.sha256,
      });
      continue;
    }
    results.push(await refresh(asset, settings, deps));
  }
  return results;
}

// ---- Lambda wiring ---------------------------------------------------------------------------------------

const logger = new Logger({ serviceName: "runner-cache" });
const metrics = new Metrics({ namespace: "cirunners", serviceName: "runner-cache" });
let s3: S3Client | undefined;

/**
 * The client that reads the release. With the GitHub App configured for organization runners: the App's
 * installation token (5,000 requests an hour, cached across invocations). Otherwise anonymous — 60 requests an hour
 * per IP address, and Lambda's addresses are shared, so a busy neighbour can use them up.
 */
export async function releaseClient(
  settings: RunnerCacheSettings,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Octokit> {
  const owner = env[ENV.githubOwner];
  const appConfigured = Boolean(env[ENV.appId] && env[ENV.appPrivateKeyParameter] && owner);
  if (appConfigured && (env[ENV.runnerScope] ?? "org") === "org")
    return getInstallationOctokit(await getOwnerInstallationId(owner!, "org"));
  return new Octokit({ baseUrl: settings.apiUrl, userAgent: "cirunners-runner-cache" });
}

export const handler = async (): Promise<ArchitectureResult[]> => {
  const settings = readRunnerCacheSettings();
  s3 ??= new S3Client({});
  const results = await refreshRunnerCache(settings, {
    s3,
    github: await releaseClient(settings),
    fetch,
    now: () => new Date(),
    logger,
  });
  metrics.addMetric("RunnerCacheUpdates", MetricUnit.Count, results.filter((r) => r.action === "uploaded").length);
  metrics.publishStoredMetrics();
  return results;
};
