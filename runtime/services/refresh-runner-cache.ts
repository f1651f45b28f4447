/**
 * Keeps the current `actions/runner` Linux tarball of each architecture the pools use in the cache bucket, so
 * instances install it through the VPC's S3 endpoint instead of downloading ~200 MB from github.com on every boot.
 *
 * Per architecture: when the manifest already names the release's version (and checksum), nothing is downloaded.
 * Otherwise the tarball is streamed from GitHub into a multipart upload while being hashed, the upload is
 * completed only when the hash matches what GitHub publishes, and the manifest is written last.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { type Architecture, runnerCacheKey } from "../../contract/names.js";
import type { GitHubClient } from "../adapters/github/app-auth.js";
import { fetchRunnerRelease } from "../adapters/github/releases.js";
import { readManifest, streamToS3, writeManifest } from "../adapters/s3.js";
import { isCacheCurrent, type RunnerAsset, selectRunnerAssets } from "../core/runner-cache/release.js";
import type { Log } from "../shared/lambda.js";

export interface RunnerCacheSettings {
  bucket: string;
  architectures: Architecture[];
  /** "latest" or a pinned version like 2.330.0. */
  version: string;
}

export interface RunnerCacheDependencies {
  s3: S3Client;
  /** Reads the release (unauthenticated is enough for the public actions/runner repository). */
  github: GitHubClient;
  /** Downloads an asset (github.com's `browser_download_url`, which redirects to a CDN). */
  fetch: typeof fetch;
  now: () => Date;
  log: Pick<Log, "info">;
}

export interface ArchitectureResult {
  architecture: Architecture;
  version: string;
  action: "uploaded" | "current";
  sha256: string;
  bytes?: number;
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
  await writeManifest(deps.s3, settings.bucket, asset.architecture, {
    version: asset.version,
    sha256: uploaded.sha256,
    fetchedAt: deps.now().toISOString(),
  });
  deps.log.info("cached runner release", {
    architecture: asset.architecture,
    version: asset.version,
    sha256: uploaded.sha256,
    bytes: uploaded.bytes,
    parts: uploaded.parts,
    verified: Boolean(asset.expectedSha256),
  });
  const { architecture, version } = asset;
  return { architecture, version, action: "uploaded", sha256: uploaded.sha256, bytes: uploaded.bytes };
}

/** One run: brings every architecture's cache up to the wanted release. */
export async function refreshRunnerCache(
  settings: RunnerCacheSettings,
  deps: RunnerCacheDependencies,
): Promise<ArchitectureResult[]> {
  const release = await fetchRunnerRelease(deps.github, settings.version);
  const results: ArchitectureResult[] = [];
  // One architecture at a time: each streams ~200 MB, and memory holds one part of one upload.
  for (const asset of selectRunnerAssets(release, settings.architectures)) {
    const manifest = await readManifest(deps.s3, settings.bucket, asset.architecture);
    if (manifest && isCacheCurrent(manifest, asset)) {
      const { architecture, version } = asset;
      results.push({ architecture, version, action: "current", sha256: manifest.sha256 });
      continue;
    }
    results.push(await refresh(asset, settings, deps));
  }
  return results;
}
