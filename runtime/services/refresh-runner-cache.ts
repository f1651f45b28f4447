/**
 * Keeps the current `actions/runner` Linux tarball of each architecture the pools use in the cache bucket, so
 * instances install it through the VPC's S3 endpoint instead of downloading ~200 MB from github.com on every boot.
 *
 * Per architecture: when the manifest already names the release's version (and checksum), nothing is downloaded.
 * Otherwise the tarball is streamed from GitHub into a multipart upload while being hashed, the upload is
 * completed only when the hash matches what GitHub publishes, and the manifest is written last.
 *
 * Then, per architecture, the baked-image pipelines that have not built this tarball yet are started
 * (core/runner-cache/image-builds.ts decides which, and why a failed start is retried at the next run). A start
 * that fails is logged and reported; it never undoes the cached version and never fails the run.
 */
import type { ImagebuilderClient } from "@aws-sdk/client-imagebuilder";
import type { S3Client } from "@aws-sdk/client-s3";
import { type Architecture, runnerCacheKey } from "../../contract/names.js";
import type { GitHubClient } from "../adapters/github/app-auth.js";
import { fetchRunnerRelease } from "../adapters/github/releases.js";
import { startImagePipeline } from "../adapters/imagebuilder.js";
import { readManifest, streamToS3, writeManifest } from "../adapters/s3.js";
import { buildsToStart, type ImagePipeline, recordBuilds } from "../core/runner-cache/image-builds.js";
import {
  type CacheManifest,
  isCacheCurrent,
  type RunnerAsset,
  selectRunnerAssets,
} from "../core/runner-cache/release.js";
import type { Log } from "../shared/lambda.js";

export interface RunnerCacheSettings {
  bucket: string;
  architectures: Architecture[];
  /** "latest" or a pinned version like 2.330.0. */
  version: string;
  /**
   * Baked-image pipelines to start when their architecture's tarball changes (none without `image: baked` pools).
   * @default none
   */
  imagePipelines?: ImagePipeline[];
}

export interface RunnerCacheDependencies {
  s3: S3Client;
  /** Reads the release (unauthenticated is enough for the public actions/runner repository). */
  github: GitHubClient;
  /** Downloads an asset (github.com's `browser_download_url`, which redirects to a CDN). */
  fetch: typeof fetch;
  now: () => Date;
  log: Pick<Log, "info" | "warn">;
  /** Needed only when `imagePipelines` names any. */
  imagebuilder?: ImagebuilderClient;
}

/** One pipeline start: `started` (or answered for an earlier start with the same token), or `failed`. */
export interface ImageBuildResult {
  pipelineArn: string;
  outcome: "started" | "failed";
  imageBuildVersionArn?: string;
  error?: string;
}

export interface ArchitectureResult {
  architecture: Architecture;
  version: string;
  action: "uploaded" | "current";
  sha256: string;
  bytes?: number;
  /** Builds started for this architecture in this run (absent when none was owed). */
  imageBuilds?: ImageBuildResult[];
}

async function refresh(
  asset: RunnerAsset,
  settings: RunnerCacheSettings,
  deps: RunnerCacheDependencies,
): Promise<{ result: ArchitectureResult; manifest: CacheManifest }> {
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
  const manifest = { version: asset.version, sha256: uploaded.sha256, fetchedAt: deps.now().toISOString() };
  await writeManifest(deps.s3, settings.bucket, asset.architecture, manifest);
  deps.log.info("cached runner release", {
    architecture: asset.architecture,
    version: asset.version,
    sha256: uploaded.sha256,
    bytes: uploaded.bytes,
    parts: uploaded.parts,
    verified: Boolean(asset.expectedSha256),
  });
  const { architecture, version } = asset;
  return {
    result: { architecture, version, action: "uploaded", sha256: uploaded.sha256, bytes: uploaded.bytes },
    manifest,
  };
}

/**
 * Starts the builds owed for one architecture's cached tarball and records the started ones in its manifest. Each
 * start is tried on its own; a failure is logged and left unrecorded, so the next run tries it again.
 */
async function startImageBuilds(
  architecture: RunnerAsset["architecture"],
  manifest: CacheManifest,
  settings: RunnerCacheSettings,
  deps: RunnerCacheDependencies,
): Promise<ImageBuildResult[] | undefined> {
  const owed = buildsToStart(architecture, manifest, settings.imagePipelines ?? []);
  if (owed.length === 0) return undefined;
  const results: ImageBuildResult[] = [];
  for (const build of owed) {
    try {
      if (!deps.imagebuilder) throw new Error("no Image Builder client configured");
      const started = await startImagePipeline(deps.imagebuilder, build.pipelineArn, build.clientToken);
      deps.log.info("started runner image build", { ...build, ...started });
      results.push({ pipelineArn: build.pipelineArn, outcome: "started", ...started });
    } catch (error) {
      const message = `${(error as Error).name}: ${(error as Error).message}`;
      deps.log.warn("could not start runner image build; the next run tries again", { ...build, error: message });
      results.push({ pipelineArn: build.pipelineArn, outcome: "failed", error: message });
    }
  }
  const started = results.filter((r) => r.outcome === "started").map((r) => r.pipelineArn);
  if (started.length > 0) {
    try {
      await writeManifest(deps.s3, settings.bucket, architecture, recordBuilds(manifest, started));
    } catch (error) {
      // The build runs; the next run starts it again with the same client token, which Image Builder recognises.
      deps.log.warn("could not record the started image builds in the manifest", {
        architecture,
        error: (error as Error).message,
      });
    }
  }
  return results;
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
    const stored = await readManifest(deps.s3, settings.bucket, asset.architecture);
    const { result, manifest } =
      stored && isCacheCurrent(stored, asset)
        ? {
            result: {
              architecture: asset.architecture,
              version: asset.version,
              action: "current" as const,
              sha256: stored.sha256,
            },
            manifest: stored,
          }
        : await refresh(asset, settings, deps);
    // Right after each architecture: a later architecture's failure must not hold back this one's builds.
    const imageBuilds = await startImageBuilds(asset.architecture, manifest, settings, deps);
    results.push(imageBuilds ? { ...result, imageBuilds } : result);
  }
  return results;
}
