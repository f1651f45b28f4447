/**
 * Which baked runner images to rebuild after a runner-cache run. Pure functions.
 *
 * A build is owed once per (pipeline, cached tarball): the cache manifest lists the pipelines a build was started
 * for (`imageBuilds`), and every configured pipeline of the architecture that it does not list is started. So:
 * a newly cached version (its manifest lists none) starts every pipeline of its architecture; a run that caches
 * nothing new starts nothing; a start that failed (not recorded) is tried again at the next run; and a pipeline
 * added later gets its first build at the next run instead of waiting for its schedule.
 *
 * The client token is derived from pipeline, version and checksum: a retry after the start succeeded but before
 * the manifest recorded it (a timeout, a crash, Lambda's retry of the invocation) sends the same token, and
 * Image Builder answers with the execution it already started instead of starting a second build.
 */
import { createHash } from "node:crypto";
import { type Architecture, pipelineArchitecture } from "../../../contract/names.js";
import type { CacheManifest } from "./release.js";

export interface ImagePipeline {
  arn: string;
  architecture: Architecture;
}

/** One pipeline execution to start. */
export interface BuildStart {
  pipelineArn: string;
  architecture: Architecture;
  version: string;
  clientToken: string;
}

/** The configured pipeline ARNs with their architectures; throws for an ARN that names no runner image pipeline. */
export function imagePipelines(arns: readonly string[]): ImagePipeline[] {
  return [...new Set(arns)].map((arn) => {
    const architecture = pipelineArchitecture(arn);
    if (!architecture)
      throw new Error(`${arn} is not a runner image pipeline (expected a name ending in -runner-x64 or -runner-arm64)`);
    return { arn, architecture };
  });
}

/** Image Builder's `clientToken` is 1–36 characters (API Reference, StartImagePipelineExecution). */
export const CLIENT_TOKEN_MAX_LENGTH = 36;

/**
 * The same (pipeline, version, checksum) always gives the same token, any other gives another: `<version>-` and
 * as much of a SHA-256 over all three as fits in 36 characters.
 */
export function buildClientToken(pipelineArn: string, version: string, sha256: string): string {
  const digest = createHash("sha256").update(`${pipelineArn}\n${version}\n${sha256}`).digest("hex");
  const prefix = `${version}-`.slice(0, 12);
  return `${prefix}${digest}`.slice(0, CLIENT_TOKEN_MAX_LENGTH);
}

/** The builds owed for one architecture whose cache holds `manifest` (nothing when it holds nothing). */
export function buildsToStart(
  architecture: Architecture,
  manifest: CacheManifest | undefined,
  pipelines: readonly ImagePipeline[],
): BuildStart[] {
  if (!manifest) return [];
  const started = new Set(manifest.imageBuilds ?? []);
  return pipelines
    .filter((p) => p.architecture === architecture && !started.has(p.arn))
    .map((p) => ({
      pipelineArn: p.arn,
      architecture,
      version: manifest.version,
      clientToken: buildClientToken(p.arn, manifest.version, manifest.sha256),
    }));
}

/** The manifest after `started` builds: the pipelines it lists, once each, in a stable order. */
export function recordBuilds(manifest: CacheManifest, started: readonly string[]): CacheManifest {
  const imageBuilds = [...new Set([...(manifest.imageBuilds ?? []), ...started])].sort();
  return { ...manifest, imageBuilds };
}
