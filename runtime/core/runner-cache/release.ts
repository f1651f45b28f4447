/**
 * Reading an `actions/runner` release: which asset is the Linux tarball for an architecture, and which
 * SHA-256 GitHub publishes for it. Pure functions.
 */

import { ARCHITECTURES } from "../../../contract/pool.js";
import type { Architecture } from "../../../contract/names.js";

/** The fields of a release (`GET /repos/{owner}/{repo}/releases/...`) this function reads. */
export interface Release {
  tag_name: string;
  body?: string | null;
  assets: { name: string; browser_download_url: string; size?: number; digest?: string | null }[];
}

/** The cache's manifest beside each tarball. */
export interface CacheManifest {
  version: string;
  sha256: string;
  fetchedAt: string;
  /**
   * Image pipelines a build was started for since this tarball was cached (image-builds.ts); absent until the
   * first start. The bootstrap and the image build read only `version` and `sha256`.
   */
  imageBuilds?: string[];
}

export interface RunnerAsset {
  architecture: Architecture;
  version: string;
  name: string;
  url: string;
  size?: number;
  /** The SHA-256 GitHub publishes (release body markers and/or the asset's `digest`), lower-case hex. */
  expectedSha256?: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** "v2.330.0" → "2.330.0"; throws on anything that is not a runner version. */
export function releaseVersion(tagName: string): string {
  const match = /^v?(\d+\.\d+\.\d+)$/.exec(tagName.trim());
  if (!match) throw new Error(`release tag ${JSON.stringify(tagName)} is not a runner version like v2.330.0`);
  return match[1];
}

export function assetName(architecture: Architecture, version: string): string {
  return `actions-runner-linux-${architecture}-${version}.tar.gz`;
}

/**
 * The checksum the runner team writes into the release notes between
 * `<!-- BEGIN SHA linux-x64 -->` and `<!-- END SHA linux-x64 -->`. Read from the markers only: the notes carry
 * other 64-digit hex strings (Windows, macOS, other architectures).
 */
export function publishedChecksum(body: string | null | undefined, architecture: Architecture): string | undefined {
  if (!body) return undefined;
  const platform = `linux-${architecture}`;
  const match = new RegExp(
    `<!--\\s*BEGIN SHA ${platform}\\s*-->\\s*([0-9A-Fa-f]{64})\\s*<!--\\s*END SHA ${platform}\\s*-->`,
  ).exec(body);
  return match ? match[1].toLowerCase() : undefined;
}

/** `sha256:<hex>` from an asset's `digest` field (GitHub sets it on assets uploaded since mid-2025). */
export function digestChecksum(digest: string | null | undefined): string | undefined {
  if (!digest) return undefined;
  const match = /^sha256:([0-9A-Fa-f]{64})$/.exec(digest);
  return match ? match[1].toLowerCase() : undefined;
}

/**
 * Finds the Linux tarball of each architecture in a release. When the release notes and the asset digest both
 * give a checksum they must agree, or the release is refused.
 */
export function selectRunnerAssets(release: Release, architectures: Architecture[]): RunnerAsset[] {
  const version = releaseVersion(release.tag_name);
  return [...new Set(architectures)].map((architecture) => {
    const name = assetName(architecture, version);
    const asset = release.assets.find((a) => a.name === name);
    if (!asset) {
      throw new Error(
        `release ${release.tag_name} has no asset ${name} (assets: ${release.assets.map((a) => a.name).join(", ") || "none"})`,
      );
    }
    const fromBody = publishedChecksum(release.body, architecture);
    const fromDigest = digestChecksum(asset.digest);
    if (fromBody && fromDigest && fromBody !== fromDigest) {
      throw new Error(
        `release ${release.tag_name}: the notes give sha256 ${fromBody} for ${name} but the asset digest is ${fromDigest}`,
      );
    }
    const expectedSha256 = fromBody ?? fromDigest;
    return {
      architecture,
      version,
      name,
      url: asset.browser_download_url,
      ...(asset.size !== undefined ? { size: asset.size } : {}),
      ...(expectedSha256 ? { expectedSha256 } : {}),
    };
  });
}

/** Parses a stored manifest; undefined when it is missing or unreadable (then the cache is refreshed). */
export function parseManifest(text: string | undefined): CacheManifest | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Partial<CacheManifest>;
    if (
      typeof value.version === "string" &&
      typeof value.sha256 === "string" &&
      SHA256_HEX.test(value.sha256) &&
      typeof value.fetchedAt === "string"
    ) {
      const imageBuilds = Array.isArray(value.imageBuilds)
        ? value.imageBuilds.filter((arn): arn is string => typeof arn === "string")
        : undefined;
      return {
        version: value.version,
        sha256: value.sha256,
        fetchedAt: value.fetchedAt,
        ...(imageBuilds ? { imageBuilds } : {}),
      };
    }
  } catch {
    // a torn or hand-edited manifest is treated as absent
  }
  return undefined;
}

/** The cache is current when its manifest names the same version (and, when GitHub publishes one, the same checksum). */
export function isCacheCurrent(manifest: CacheManifest | undefined, asset: RunnerAsset): boolean {
  if (!manifest || manifest.version !== asset.version) return false;
  return asset.expectedSha256 === undefined || manifest.sha256 === asset.expectedSha256;
}

/** The architectures the pools use, in a stable order. */
export function poolArchitectures(pools: readonly { architecture: Architecture }[]): Architecture[] {
  const found = new Set(pools.map((p) => p.architecture));
  return ARCHITECTURES.filter((a) => found.has(a));
}

/** "latest" or a pinned version "2.330.0" → the release route to ask. */
export function releaseRoute(version: string | undefined): { route: string; tag?: string } {
  const wanted = (version ?? "").trim();
  if (wanted === "" || wanted === "latest") return { route: "GET /repos/actions/runner/releases/latest" };
  if (!/^\d+\.\d+\.\d+$/.test(wanted))
    throw new Error(`runner version ${JSON.stringify(version)} must be "latest" or like 2.330.0`);
  return { route: "GET /repos/actions/runner/releases/tags/{tag}", tag: `v${wanted}` };
}
