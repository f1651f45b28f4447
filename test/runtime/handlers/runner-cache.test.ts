/**
 * The runner cache against moto's S3 and the GitHub stand-in, which serves a small generated runner tarball. The
 * baked-image rebuilds a new version starts are runner-cache-image-builds.test.ts's.
 */
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { ENV, runnerCacheKey, runnerCacheManifestKey } from "../../../contract/names.js";
import { ChecksumMismatchError, streamToS3 } from "../../../runtime/adapters/s3.js";
import { fakeRunnerTarball, ROUTES, type GitHubApi } from "../../../testkit/github/server.js";
import { startAppEnvironment } from "../github/fixture.js";
import { readSettings } from "../../../contract/settings.js";
import { refreshRunnerCache } from "../../../runtime/services/refresh-runner-cache.js";
import {
  anonymousHandlerEnvironment,
  BUCKET,
  CONTEXT,
  forgetGitHubApp,
  PIPELINE,
  pool,
  sha256,
  useRunnerCacheWorld,
} from "../support/runner-cache-world.js";

async function* chunked(data: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe("runner cache (moto S3 + GitHub stand-in)", function () {
  this.timeout(60_000);
  const world = useRunnerCacheWorld();
  const { s3, containerHandler, objectBytes, exists, dependencies, settings } = world;
  let github: GitHubApi;
  let cache: typeof import("../../../runtime/handlers/runner-cache.js");
  before(() => ({ github, cache } = world.servers()));

  it("uploads each architecture's tarball and manifest, then skips the download while the version is current", async () => {
    const first = await refreshRunnerCache(settings(), dependencies());
    assert.deepEqual(
      first.map((r) => [r.architecture, r.version, r.action]),
      [
        ["x64", "2.330.0", "uploaded"],
        ["arm64", "2.330.0", "uploaded"],
      ],
    );
    for (const architecture of ["x64", "arm64"] as const) {
      const expected = fakeRunnerTarball("2.330.0", architecture);
      const stored = await objectBytes(runnerCacheKey(architecture));
      assert.ok(stored.equals(expected), `${architecture} tarball content`);
      const manifest = JSON.parse((await objectBytes(runnerCacheManifestKey(architecture))).toString("utf8"));
      assert.deepEqual(manifest, {
        version: "2.330.0",
        sha256: sha256(expected),
        fetchedAt: "2025-06-02T12:00:00.000Z",
      });
      const head = await s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: runnerCacheKey(architecture) }));
      assert.equal(head.Metadata?.["runner-version"], "2.330.0");
      assert.equal(head.Metadata?.sha256, sha256(expected));
    }
    assert.equal(github.calls[ROUTES.assetDownload], 2);

    const second = await refreshRunnerCache(settings(), dependencies());
    assert.deepEqual(
      second.map((r) => r.action),
      ["current", "current"],
    );
    assert.equal(github.calls[ROUTES.assetDownload], 2, "no download on the second run");
    assert.equal(github.calls[ROUTES.latestRelease], 2);
  });

  it("caches only the architectures the pools use", async () => {
    await refreshRunnerCache(settings(["arm64"]), dependencies());
    assert.equal(await exists(runnerCacheKey("arm64")), true);
    assert.equal(await exists(runnerCacheKey("x64")), false);
  });

  it("replaces a cache whose manifest names an older version", async () => {
    await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: runnerCacheKey("x64"), Body: "old tarball" }));
    await s3().send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: runnerCacheManifestKey("x64"),
        Body: JSON.stringify({ version: "2.329.0", sha256: "0".repeat(64), fetchedAt: "2025-01-01T00:00:00Z" }),
      }),
    );
    const [result] = await refreshRunnerCache(settings(["x64"]), dependencies());
    assert.equal(result.action, "uploaded");
    assert.ok((await objectBytes(runnerCacheKey("x64"))).equals(fakeRunnerTarball("2.330.0", "x64")));
  });

  it("keeps the previous tarball and writes no manifest when the download does not match the published checksum", async () => {
    await s3().send(
      new PutObjectCommand({ Bucket: BUCKET, Key: runnerCacheKey("x64"), Body: "previous good tarball" }),
    );
    const tampered: typeof fetch = async () => new Response(Buffer.from("not the runner"), { status: 200 });
    await assert.rejects(
      refreshRunnerCache(settings(["x64"]), dependencies({ fetch: tampered })),
      ChecksumMismatchError,
    );
    assert.equal((await objectBytes(runnerCacheKey("x64"))).toString(), "previous good tarball");
    assert.equal(await exists(runnerCacheManifestKey("x64")), false);
    const uploads = await s3().send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.equal(uploads.Uploads?.length ?? 0, 0, "the multipart upload was aborted");
  });

  it("names the HTTP status when the download fails", async () => {
    const failing: typeof fetch = async () => new Response("gone", { status: 404 });
    await assert.rejects(
      refreshRunnerCache(settings(["x64"]), dependencies({ fetch: failing })),
      /actions-runner-linux-x64-2.330.0.tar.gz .* failed: HTTP 404/,
    );
  });

  it("streams a large body in parts while hashing it", async () => {
    const data = randomBytes(11 * 1024 * 1024 + 123);
    const result = await streamToS3({
      s3: s3(),
      bucket: BUCKET,
      key: "big.bin",
      body: chunked(data, 64 * 1024),
      partSize: 5 * 1024 * 1024,
      expectedSha256: sha256(data),
    });
    assert.deepEqual(result, { sha256: sha256(data), bytes: data.length, parts: 3 });
    assert.ok((await objectBytes("big.bin")).equals(data));
    await assert.rejects(
      streamToS3({ s3: s3(), bucket: BUCKET, key: "x", body: chunked(data, 1024), partSize: 1024 }),
      /at least 5242880/,
    );
  });

  it("runs as a Lambda handler from its environment (anonymously when no GitHub App is configured)", async () => {
    // Earlier suites in the same process may have configured an App: this case is the one without.
    anonymousHandlerEnvironment(github.url);
    const results = await containerHandler()({}, CONTEXT);
    assert.deepEqual(
      results.map((r) => [r.architecture, r.action]),
      [["x64", "uploaded"]],
    );
    assert.equal(github.calls[ROUTES.createInstallationToken], 0, "no token without an App");
  });

  it("reads the release with the GitHub App's installation token when the App is configured", async () => {
    const app = await startAppEnvironment({ "acme-platform": 31 });
    try {
      Object.assign(process.env, {
        [ENV.runnerCacheBucket]: BUCKET,
        [ENV.pools]: JSON.stringify([pool("linux-arm64", "arm64")]),
        [ENV.githubOwner]: "acme-platform",
        [ENV.runnerScope]: "org",
        [ENV.runnerVersion]: "latest",
      });
      const results = await containerHandler()({}, CONTEXT);
      assert.deepEqual(
        results.map((r) => [r.architecture, r.action]),
        [["arm64", "uploaded"]],
      );
      assert.equal(app.calls[ROUTES.orgInstallation], 1);
      assert.equal(app.calls[ROUTES.createInstallationToken], 1, "an installation token, not anonymous calls");
      assert.equal(app.calls[ROUTES.latestRelease], 1);
    } finally {
      forgetGitHubApp();
      process.env[ENV.githubApiUrl] = github.url;
      await app.stop();
    }
  });

  it("names the variable that is missing or malformed", () => {
    const env = { [ENV.runnerCacheBucket]: BUCKET, [ENV.pools]: JSON.stringify([pool("linux-arm64", "arm64")]) };
    const read = (overrides: Record<string, string>) =>
      cache.runnerCacheSettings(readSettings("runner-cache", { ...env, ...overrides }));
    assert.deepEqual(read({}), { bucket: BUCKET, architectures: ["arm64"], version: "latest", imagePipelines: [] });
    assert.deepEqual(read({ [ENV.imagePipelineArns]: JSON.stringify([PIPELINE("arm64")]) }).imagePipelines, [
      { arn: PIPELINE("arm64"), architecture: "arm64" },
    ]);
    assert.throws(
      () => read({ [ENV.imagePipelineArns]: JSON.stringify([PIPELINE("arm64").replace("runner-arm64", "other")]) }),
      /not a runner image pipeline/,
    );
    assert.throws(() => read({ [ENV.runnerCacheBucket]: "" }), new RegExp(ENV.runnerCacheBucket));
    assert.throws(() => read({ [ENV.pools]: "[" }), new RegExp(`${ENV.pools}: not valid JSON`));
    assert.throws(() => read({ [ENV.runnerVersion]: "2.x" }), /"latest" or a version like 2.330.0/);
    assert.throws(
      () => read({ [ENV.pools]: JSON.stringify([{ ...pool("riscv", "x64"), architecture: "riscv" }]) }),
      new RegExp(`${ENV.pools} \\(0.architecture\\)`),
    );
  });
});
