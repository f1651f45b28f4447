/**
 * Rebuilding the baked runner images when the runner cache takes up a new runner version: against moto's S3, the
 * GitHub stand-in and a local Image Builder (moto has none: testkit/imagebuilder.ts). The cache itself is
 * runner-cache.test.ts's.
 */
import { strict as assert } from "node:assert";
import { ImagebuilderClient } from "@aws-sdk/client-imagebuilder";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { ENV, runnerCacheKey, runnerCacheManifestKey } from "../../../contract/names.js";
import { fakeRunnerTarball, ROUTES, type GitHubApi } from "../../../testkit/github/server.js";
import { refreshRunnerCache } from "../../../runtime/services/refresh-runner-cache.js";
import { imagePipelines } from "../../../runtime/core/runner-cache/image-builds.js";
import type { ImageBuilderStandIn } from "../../../testkit/imagebuilder.js";
import {
  anonymousHandlerEnvironment,
  BUCKET,
  CONTEXT,
  PIPELINE,
  useRunnerCacheWorld,
} from "../support/runner-cache-world.js";

describe("runner cache (moto S3 + GitHub stand-in)", function () {
  this.timeout(60_000);
  const world = useRunnerCacheWorld();
  const { s3, containerHandler, objectBytes, dependencies, settings } = world;
  let github: GitHubApi;
  let imagebuilder: ImageBuilderStandIn;
  before(() => ({ github, imagebuilder } = world.servers()));

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
      anonymousHandlerEnvironment(github.url, {
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
