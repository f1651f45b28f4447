/**
 * The runner cache against moto's S3 and the GitHub stand-in, which serves a small generated runner tarball; the
 * baked-image rebuilds against a local Image Builder (moto has none: testkit/imagebuilder.ts).
 */
import { strict as assert } from "node:assert";
import { createHash, randomBytes } from "node:crypto";
import { ImagebuilderClient } from "@aws-sdk/client-imagebuilder";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { ENV, runnerCacheKey, runnerCacheManifestKey } from "../../../contract/names.js";
import { ChecksumMismatchError, streamToS3 } from "../../../runtime/adapters/s3.js";
import { startMoto, type MotoServer } from "../../../testkit/moto.js";
import { fakeRunnerTarball, ROUTES, startGitHubApi, type GitHubApi } from "../../../testkit/github/server.js";
import { useEnv } from "../../support/env.js";
import { startAppEnvironment } from "../github/fixture.js";
import { readSettings } from "../../../contract/settings.js";
import { GitHubClient } from "../../../runtime/adapters/github/app-auth.js";
import { type RunnerCacheDependencies, refreshRunnerCache } from "../../../runtime/services/refresh-runner-cache.js";
import { imagePipelines } from "../../../runtime/core/runner-cache/image-builds.js";
import { type ImageBuilderStandIn, startImageBuilderStandIn } from "../../../testkit/imagebuilder.js";

const BUCKET = "cirunners-dev-runner-cache";
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const silent = { info() {}, warn() {} };
const PIPELINE = (architecture: string) =>
  `arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/cirunners-dev-runner-${architecture}`;

async function* chunked(data: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

const CONTEXT = { functionName: "runner-cache", awsRequestId: "req-1" } as unknown as Context;

const pool = (name: string, architecture: "x64" | "arm64") => ({
  name,
  labels: ["self-hosted", architecture],
  instanceTypes: ["m7i.large"],
  architecture,
  maxRunners: 2,
});

describe("runner cache (moto S3 + GitHub stand-in)", function () {
  useEnv({ POWERTOOLS_METRICS_DISABLED: "true", POWERTOOLS_LOG_LEVEL: "SILENT" });
  this.timeout(60_000);
  let moto: MotoServer;
  let github: GitHubApi;
  let imagebuilder: ImageBuilderStandIn;
  let cache: typeof import("../../../runtime/handlers/runner-cache.js");
  const s3 = () => new S3Client({});
  /** A fresh container's handler, from the environment as it is now. */
  const containerHandler = () => cache.runnerCacheHandlerFrom(readSettings("runner-cache"));

  before(async () => {
    moto = await startMoto({ region: "eu-west-1" });
    github = await startGitHubApi({ appId: 1, installations: {} });
    imagebuilder = await startImageBuilderStandIn();
    cache = await import("../../../runtime/handlers/runner-cache.js");
  });
  after(async () => {
    await github?.stop();
    await imagebuilder?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    github.reset();
    imagebuilder.reset();
    await s3().send(
      new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }),
    );
  });

  async function objectBytes(key: string): Promise<Buffer> {
    const object = await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  }

  async function exists(key: string): Promise<boolean> {
    try {
      await s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      return true;
    } catch {
      return false;
    }
  }

  function dependencies(overrides: Partial<RunnerCacheDependencies> = {}) {
    return {
      s3: s3(),
      github: new GitHubClient({ baseUrl: github.url }),
      fetch,
      now: () => new Date("2025-06-02T12:00:00Z"),
      log: silent,
      imagebuilder: new ImagebuilderClient({ endpoint: imagebuilder.url }),
      ...overrides,
    };
  }

  const settings = (architectures: ("x64" | "arm64")[] = ["x64", "arm64"]) => ({
    bucket: BUCKET,
    architectures,
    version: "latest",
    apiUrl: github.url,
  });

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
    for (const name of [ENV.appId, ENV.appPrivateKeyParameter, ENV.githubOwner, ENV.runnerScope])
      delete process.env[name];
    Object.assign(process.env, {
      [ENV.runnerCacheBucket]: BUCKET,
      [ENV.pools]: JSON.stringify([pool("linux-x64", "x64")]),
      [ENV.githubApiUrl]: github.url,
      [ENV.runnerVersion]: "latest",
    });
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
      for (const name of [ENV.appId, ENV.appPrivateKeyParameter, ENV.githubOwner, ENV.runnerScope])
        delete process.env[name];
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
  describe("rebuilding the baked images", () => {
    const manifestOf = async (architecture: "x64" | "arm64") =>
      JSON.parse((await objectBytes(runnerCacheManifestKey(architecture))).toString("utf8"));
    const withPipelines = (architectures: ("x64" | "arm64")[], pipelines: string[]) => ({
      ...settings(architectures),
      imagePipelines: imagePipelines(pipelines),
    });
    const warnings: { message: string; extra: Record<string, unknown> }[] = [];
    const recording = {
      info() {},
      warn: (message: string, extra: Record<string, unknown>) => warnings.push({ message, extra }),
    };
    beforeEach(() => {
      warnings.length = 0;
      imagebuilder.pipelines.add(PIPELINE("x64"));
      imagebuilder.pipelines.add(PIPELINE("arm64"));
    });

    it("starts each architecture's pipeline once when a new version is cached, and records it in the manifest", async () => {
      const first = await refreshRunnerCache(
        withPipelines(["x64", "arm64"], [PIPELINE("x64"), PIPELINE("arm64")]),
        dependencies(),
      );
      assert.deepEqual(
        first.map((r) => [r.architecture, r.action, r.imageBuilds?.map((b) => [b.pipelineArn, b.outcome])]),
        [
          ["x64", "uploaded", [[PIPELINE("x64"), "started"]]],
          ["arm64", "uploaded", [[PIPELINE("arm64"), "started"]]],
        ],
      );
      assert.deepEqual(
        imagebuilder.executions.map((e) => e.pipelineArn),
        [PIPELINE("x64"), PIPELINE("arm64")],
      );
      // On the wire: PUT /StartImagePipelineExecution, signed for imagebuilder, the ARN and a token of 1-36 characters.
      const [request] = imagebuilder.requests;
      assert.equal(request.method, "PUT");
      assert.equal(request.path, "/StartImagePipelineExecution");
      assert.match(request.authorization ?? "", /\/eu-west-1\/imagebuilder\/aws4_request/);
      assert.deepEqual(Object.keys(request.body as object).sort(), ["clientToken", "imagePipelineArn"]);
      assert.equal(first[0].imageBuilds?.[0].imageBuildVersionArn, imagebuilder.executions[0].imageBuildVersionArn);
      assert.deepEqual((await manifestOf("x64")).imageBuilds, [PIPELINE("x64")]);
      assert.equal((await manifestOf("x64")).version, "2.330.0");

      const second = await refreshRunnerCache(
        withPipelines(["x64", "arm64"], [PIPELINE("x64"), PIPELINE("arm64")]),
        dependencies(),
      );
      assert.deepEqual(
        second.map((r) => [r.action, r.imageBuilds]),
        [
          ["current", undefined],
          ["current", undefined],
        ],
      );
      assert.equal(imagebuilder.requests.length, 2, "nothing new cached: no call to Image Builder at all");
    });

    it("calls Image Builder not at all when no pipeline is configured", async () => {
      const results = await refreshRunnerCache(settings(["x64"]), dependencies({ imagebuilder: undefined }));
      assert.equal(results[0].action, "uploaded");
      assert.equal(results[0].imageBuilds, undefined);
      assert.equal(imagebuilder.requests.length, 0);
      assert.equal((await manifestOf("x64")).imageBuilds, undefined);
    });

    it("keeps the cached version when a start fails, and starts the build at the next run although nothing new is cached", async () => {
      // The first deploy: the runner-cache function runs before Image Builder has created the pipeline.
      imagebuilder.pipelines.delete(PIPELINE("x64"));
      const first = await refreshRunnerCache(
        withPipelines(["x64"], [PIPELINE("x64")]),
        dependencies({ log: recording }),
      );
      assert.equal(first[0].action, "uploaded");
      assert.equal(first[0].imageBuilds?.[0].outcome, "failed");
      assert.match(first[0].imageBuilds?.[0].error ?? "", /ResourceNotFoundException/);
      assert.match(warnings[0].message, /could not start runner image build/);
      assert.ok((await objectBytes(runnerCacheKey("x64"))).equals(fakeRunnerTarball("2.330.0", "x64")));
      assert.equal((await manifestOf("x64")).imageBuilds, undefined, "a failed start is not recorded");

      imagebuilder.pipelines.add(PIPELINE("x64"));
      const second = await refreshRunnerCache(withPipelines(["x64"], [PIPELINE("x64")]), dependencies());
      assert.equal(second[0].action, "current");
      assert.equal(second[0].imageBuilds?.[0].outcome, "started");
      assert.equal(github.calls[ROUTES.assetDownload], 1, "the retry downloads nothing");
      assert.equal(imagebuilder.executions.length, 1);
      assert.deepEqual((await manifestOf("x64")).imageBuilds, [PIPELINE("x64")]);
    });

    it("a retry after an unrecorded start sends the same client token, and Image Builder starts no second build", async () => {
      await refreshRunnerCache(withPipelines(["x64"], [PIPELINE("x64")]), dependencies());
      // As if the run had ended between StartImagePipelineExecution and the manifest's update.
      const { imageBuilds: _lost, ...unrecorded } = await manifestOf("x64");
      await s3().send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: runnerCacheManifestKey("x64"),
          Body: JSON.stringify(unrecorded),
        }),
      );
      const retry = await refreshRunnerCache(withPipelines(["x64"], [PIPELINE("x64")]), dependencies());
      assert.equal(retry[0].imageBuilds?.[0].outcome, "started");
      assert.equal(imagebuilder.requests.length, 2);
      assert.equal(
        (imagebuilder.requests[0].body as { clientToken: string }).clientToken,
        (imagebuilder.requests[1].body as { clientToken: string }).clientToken,
      );
      assert.equal(imagebuilder.executions.length, 1, "one build for one version");
      assert.equal(retry[0].imageBuilds?.[0].imageBuildVersionArn, imagebuilder.executions[0].imageBuildVersionArn);
    });

    it("starts one architecture's build although a later architecture fails to cache", async () => {
      const onlyX64: typeof fetch = async (input, init) =>
        String(input).includes("arm64") ? new Response("gone", { status: 404 }) : fetch(input, init);
      await assert.rejects(
        refreshRunnerCache(
          withPipelines(["x64", "arm64"], [PIPELINE("x64"), PIPELINE("arm64")]),
          dependencies({ fetch: onlyX64 }),
        ),
        /HTTP 404/,
      );
      assert.deepEqual(
        imagebuilder.executions.map((e) => e.pipelineArn),
        [PIPELINE("x64")],
      );
    });

    it("a throttled start is retried by the next run; the other pipeline of the run still starts", async () => {
      imagebuilder.failNext(PIPELINE("arm64"), "CallRateLimitExceededException", 429, 10);
      const client = new ImagebuilderClient({ endpoint: imagebuilder.url, maxAttempts: 1 });
      const results = await refreshRunnerCache(
        withPipelines(["x64", "arm64"], [PIPELINE("x64"), PIPELINE("arm64")]),
        dependencies({ imagebuilder: client }),
      );
      assert.deepEqual(
        results.map((r) => r.imageBuilds?.[0].outcome),
        ["started", "failed"],
      );
      assert.equal((await manifestOf("arm64")).imageBuilds, undefined);
      assert.deepEqual((await manifestOf("x64")).imageBuilds, [PIPELINE("x64")]);
    });

    it("the handler starts the pipelines named in its environment", async () => {
      for (const name of [ENV.appId, ENV.appPrivateKeyParameter, ENV.githubOwner, ENV.runnerScope])
        delete process.env[name];
      Object.assign(process.env, {
        [ENV.runnerCacheBucket]: BUCKET,
        [ENV.pools]: JSON.stringify([pool("linux-x64", "x64")]),
        [ENV.githubApiUrl]: github.url,
        [ENV.runnerVersion]: "latest",
        [ENV.imagePipelineArns]: JSON.stringify([PIPELINE("x64")]),
        // The SDK's service-specific endpoint variable: the handler's own ImagebuilderClient reaches the stand-in.
        AWS_ENDPOINT_URL_IMAGEBUILDER: imagebuilder.url,
      });
      try {
        const results = await containerHandler()({}, CONTEXT);
        assert.deepEqual(
          results[0].imageBuilds?.map((b) => b.outcome),
          ["started"],
        );
        assert.deepEqual(
          imagebuilder.executions.map((e) => e.pipelineArn),
          [PIPELINE("x64")],
        );
      } finally {
        delete process.env[ENV.imagePipelineArns];
        delete process.env.AWS_ENDPOINT_URL_IMAGEBUILDER;
      }
    });
  });
});
