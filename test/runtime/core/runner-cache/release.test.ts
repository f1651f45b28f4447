import { strict as assert } from "node:assert";
import {
  assetName,
  digestChecksum,
  isCacheCurrent,
  parseManifest,
  poolArchitectures,
  publishedChecksum,
  releaseRoute,
  releaseVersion,
  selectRunnerAssets,
  type Release,
} from "../../../../runtime/core/runner-cache/release.js";

const X64 = "ba46ba7ce3a4d7236b16fbe44419fb453bc08f866b24f04d549ec89f1722a29e";
const ARM = "b0a79c3c1b8a1d3a1f4d1e6f2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";
const WIN = "88d754da46f4053aec9007d172020c1b75ab2e2049c08aef759b643316580bbc";

// The shape of actions/runner release notes: install instructions with other hashes, then the marker list.
const BODY = [
  "## Linux x64",
  "```bash",
  `echo "${WIN}  actions-runner-linux-x64-2.330.0.tar.gz" | shasum -a 256 -c`,
  "```",
  "The SHA-256 checksums for the packages included in this build are shown below:",
  `- actions-runner-win-x64-2.330.0.zip <!-- BEGIN SHA win-x64 -->${WIN}<!-- END SHA win-x64 -->`,
  `- actions-runner-linux-x64-2.330.0.tar.gz <!-- BEGIN SHA linux-x64 -->${X64}<!-- END SHA linux-x64 -->`,
  `- actions-runner-linux-arm64-2.330.0.tar.gz <!-- BEGIN SHA linux-arm64 -->${ARM.toUpperCase()}<!-- END SHA linux-arm64 -->`,
  `- actions-runner-linux-arm-2.330.0.tar.gz <!-- BEGIN SHA linux-arm -->${WIN}<!-- END SHA linux-arm -->`,
].join("\n");

function release(overrides: Partial<Release> = {}): Release {
  return {
    tag_name: "v2.330.0",
    body: BODY,
    assets: ["x64", "arm64", "arm"].map((arch) => ({
      name: `actions-runner-linux-${arch}-2.330.0.tar.gz`,
      browser_download_url: `https://github.com/actions/runner/releases/download/v2.330.0/actions-runner-linux-${arch}-2.330.0.tar.gz`,
      size: 200_000_000,
    })),
    ...overrides,
  };
}

describe("runner cache: reading a release", () => {
  it("reads the version from the tag", () => {
    assert.equal(releaseVersion("v2.330.0"), "2.330.0");
    assert.equal(releaseVersion("2.330.1"), "2.330.1");
    assert.throws(() => releaseVersion("nightly"), /"nightly" is not a runner version/);
  });

  it("takes each architecture's checksum from its own markers only (not arm, not the other hex strings)", () => {
    assert.equal(publishedChecksum(BODY, "x64"), X64);
    assert.equal(publishedChecksum(BODY, "arm64"), ARM, "upper-case hex is normalised");
    assert.equal(publishedChecksum("no markers here", "x64"), undefined);
    assert.equal(publishedChecksum(null, "x64"), undefined);
  });

  it("reads an asset digest of the form sha256:<hex>", () => {
    assert.equal(digestChecksum(`sha256:${X64}`), X64);
    assert.equal(digestChecksum("md5:abc"), undefined);
    assert.equal(digestChecksum(null), undefined);
  });

  it("selects the Linux tarball of each wanted architecture with its published checksum", () => {
    const assets = selectRunnerAssets(release(), ["arm64", "x64", "arm64"]);
    assert.deepEqual(
      assets.map((a) => [a.architecture, a.name, a.expectedSha256]),
      [
        ["arm64", "actions-runner-linux-arm64-2.330.0.tar.gz", ARM],
        ["x64", "actions-runner-linux-x64-2.330.0.tar.gz", X64],
      ],
    );
    assert.equal(
      assets[1].url,
      "https://github.com/actions/runner/releases/download/v2.330.0/actions-runner-linux-x64-2.330.0.tar.gz",
    );
    assert.equal(assetName("x64", "2.330.0"), "actions-runner-linux-x64-2.330.0.tar.gz");
  });

  it("falls back to the asset digest when the notes carry no checksum, and has none when neither does", () => {
    const withDigest = release({ body: "", assets: release().assets.map((a) => ({ ...a, digest: `sha256:${X64}` })) });
    assert.equal(selectRunnerAssets(withDigest, ["x64"])[0].expectedSha256, X64);
    assert.equal(selectRunnerAssets(release({ body: null }), ["x64"])[0].expectedSha256, undefined);
  });

  it("refuses a release whose notes and digest disagree", () => {
    const conflicting = release({ assets: release().assets.map((a) => ({ ...a, digest: `sha256:${WIN}` })) });
    assert.throws(
      () => selectRunnerAssets(conflicting, ["x64"]),
      /notes give sha256 ba46.* but the asset digest is 88d7/,
    );
  });

  it("names the missing asset", () => {
    const noArm = release({ assets: release().assets.filter((a) => !a.name.includes("arm64")) });
    assert.throws(() => selectRunnerAssets(noArm, ["arm64"]), /has no asset actions-runner-linux-arm64-2.330.0.tar.gz/);
  });
});

describe("runner cache: manifest and settings", () => {
  const asset = selectRunnerAssets(release(), ["x64"])[0];

  it("is current only for the same version and the published checksum", () => {
    assert.equal(isCacheCurrent({ version: "2.330.0", sha256: X64, fetchedAt: "x" }, asset), true);
    assert.equal(isCacheCurrent({ version: "2.329.0", sha256: X64, fetchedAt: "x" }, asset), false);
    assert.equal(isCacheCurrent({ version: "2.330.0", sha256: WIN, fetchedAt: "x" }, asset), false);
    assert.equal(isCacheCurrent(undefined, asset), false);
    assert.equal(
      isCacheCurrent({ version: "2.330.0", sha256: WIN, fetchedAt: "x" }, { ...asset, expectedSha256: undefined }),
      true,
    );
  });

  it("treats a missing or unreadable manifest as absent", () => {
    assert.deepEqual(
      parseManifest(JSON.stringify({ version: "2.330.0", sha256: X64, fetchedAt: "2025-01-01T00:00:00Z" })),
      {
        version: "2.330.0",
        sha256: X64,
        fetchedAt: "2025-01-01T00:00:00Z",
      },
    );
    assert.equal(parseManifest("{not json"), undefined);
    assert.equal(parseManifest(JSON.stringify({ version: "2.330.0", sha256: "short", fetchedAt: "x" })), undefined);
    assert.equal(parseManifest(undefined), undefined);
  });

  it("lists the pools' architectures once each, and rejects others", () => {
    assert.deepEqual(
      poolArchitectures([{ architecture: "arm64" }, { architecture: "x64" }, { architecture: "arm64" }]),
      ["x64", "arm64"],
    );
    assert.deepEqual(poolArchitectures([{ architecture: "arm64" }]), ["arm64"]);
  });

  it("asks for the latest release or a pinned tag", () => {
    assert.deepEqual(releaseRoute("latest"), { route: "GET /repos/actions/runner/releases/latest" });
    assert.deepEqual(releaseRoute(undefined), { route: "GET /repos/actions/runner/releases/latest" });
    assert.deepEqual(releaseRoute("2.321.0"), {
      route: "GET /repos/actions/runner/releases/tags/{tag}",
      tag: "v2.321.0",
    });
    assert.throws(() => releaseRoute("v2"), /must be "latest" or like 2.330.0/);
  });
});
