/**
 * The actions/runner release the stand-in serves (`releases/latest`, its assets and their downloads): by default a
 * tiny generated runner tarball per architecture, with checksums in the release notes as actions/runner writes them.
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { example } from "./examples";
import { HttpFailure } from "./http";

export interface RunnerReleaseAsset {
  /** Architecture as the runner names it in file names: "x64" or "arm64". */
  architecture: "x64" | "arm64";
  content: Buffer;
}

export interface RunnerRelease {
  version: string;
  assets: RunnerReleaseAsset[];
}

function tarEntry(name: string, content: Buffer, mode: number): Buffer {
  const header = Buffer.alloc(512);
  const write = (value: string, offset: number, length: number) =>
    header.write(value.slice(0, length), offset, length, "ascii");
  const octal = (value: number, length: number) => `${value.toString(8).padStart(length - 1, "0")}\0`;
  write(name, 0, 100);
  write(octal(mode, 8), 100, 8);
  write(octal(0, 8), 108, 8);
  write(octal(0, 8), 116, 8);
  write(octal(content.length, 12), 124, 12);
  write(octal(1_700_000_000, 12), 136, 12);
  header.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  write("0", 156, 1);
  write("ustar\0", 257, 6);
  write("00", 263, 2);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  write(`${checksum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding]);
}

/** A gzipped tar with an executable `run.sh` that prints its arguments' shape, standing in for the runner. */
export function fakeRunnerTarball(version: string, architecture: "x64" | "arm64"): Buffer {
  const runSh = `#!/usr/bin/env bash\n# stand-in actions/runner ${version} linux-${architecture}\necho "runner ${version} started with $# arguments"\n`;
  const tar = Buffer.concat([
    tarEntry("./run.sh", Buffer.from(runSh), 0o755),
    tarEntry("./bin/Runner.Listener", Buffer.from(`stand-in listener ${version} ${architecture}\n`), 0o755),
    Buffer.alloc(1024),
  ]);
  return gzipSync(tar, { level: 9 });
}

/** The default release: version 2.330.0 with a generated tarball for each architecture. */
export function defaultRunnerRelease(): RunnerRelease {
  const version = "2.330.0";
  return {
    version,
    assets: [
      { architecture: "x64", content: fakeRunnerTarball(version, "x64") },
      { architecture: "arm64", content: fakeRunnerTarball(version, "arm64") },
    ],
  };
}

const sha256 = (content: Buffer) => createHash("sha256").update(content).digest("hex");

/** The release's REST shapes, for a stand-in served at `baseUrl`. */
export class ReleaseCatalogue {
  constructor(readonly release: RunnerRelease) {}

  get tag(): string {
    return `v${this.release.version}`;
  }

  assetName(architecture: string): string {
    return `actions-runner-linux-${architecture}-${this.release.version}.tar.gz`;
  }

  /** github.com's `browser_download_url` of an asset, at the stand-in's download route. */
  downloadUrl(baseUrl: string, asset: RunnerReleaseAsset): string {
    return `${baseUrl}/_downloads/actions/runner/releases/download/${this.tag}/${this.assetName(asset.architecture)}`;
  }

  /** The asset of a release asset id (ids are 1-based positions). */
  assetById(rawId: string): RunnerReleaseAsset {
    const asset = this.release.assets[Number(rawId) - 1];
    if (!asset) throw new HttpFailure(404, "Not Found");
    return asset;
  }

  /** The asset a download URL names, if `tag` is the release's. */
  assetByDownload(tag: string, name: string): RunnerReleaseAsset | undefined {
    if (tag !== this.tag) return undefined;
    return this.release.assets.find((a) => this.assetName(a.architecture) === name);
  }

  /** `GET /repos/actions/runner/releases/latest` body. */
  body(baseUrl: string) {
    const body = example<Record<string, unknown> & { assets: Array<Record<string, unknown>> }>("release");
    const assetTemplate = body.assets[0];
    const { version, assets } = this.release;
    const shaLines = assets.map(
      (a) =>
        `- ${this.assetName(a.architecture)} <!-- BEGIN SHA linux-${a.architecture} -->${sha256(a.content)}<!-- END SHA linux-${a.architecture} -->`,
    );
    return Object.assign(body, {
      url: `${baseUrl}/repos/actions/runner/releases/1`,
      html_url: `https://github.com/actions/runner/releases/tag/v${version}`,
      assets_url: `${baseUrl}/repos/actions/runner/releases/1/assets`,
      tag_name: this.tag,
      name: this.tag,
      body: `## SHA-256 Checksums\n\n${shaLines.join("\n")}\n`,
      assets: assets.map((asset, i) => ({
        ...structuredClone(assetTemplate),
        id: i + 1,
        url: `${baseUrl}/repos/actions/runner/releases/assets/${i + 1}`,
        browser_download_url: this.downloadUrl(baseUrl, asset),
        name: this.assetName(asset.architecture),
        label: "",
        content_type: "application/gzip",
        size: asset.content.length,
        digest: `sha256:${sha256(asset.content)}`,
      })),
    });
  }
}
