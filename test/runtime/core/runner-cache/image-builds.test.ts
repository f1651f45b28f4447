import { strict as assert } from "node:assert";
import {
  buildClientToken,
  buildsToStart,
  CLIENT_TOKEN_MAX_LENGTH,
  imagePipelines,
  recordBuilds,
} from "../../../../runtime/core/runner-cache/image-builds.js";
import { parseManifest } from "../../../../runtime/core/runner-cache/release.js";

const SHA = "ba46ba7ce3a4d7236b16fbe44419fb453bc08f866b24f04d549ec89f1722a29e";
const OTHER_SHA = "b0a79c3c1b8a1d3a1f4d1e6f2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";
const arn = (name: string) => `arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/${name}`;
const X64 = arn("cirunners-prod-runner-x64");
const ARM = arn("cirunners-prod-runner-arm64");
const manifest = (imageBuilds?: string[]) => ({
  version: "2.330.0",
  sha256: SHA,
  fetchedAt: "2025-06-02T12:00:00.000Z",
  ...(imageBuilds ? { imageBuilds } : {}),
});

describe("runtime/core/runner-cache/image-builds", () => {
  // The name rule itself (contract/names.ts) is tested in test/contract/contract.test.ts.
  it("takes each pipeline's architecture from its name, and refuses a pipeline that is not a runner image's", () => {
    assert.deepEqual(imagePipelines([X64, ARM, X64]), [
      { arn: X64, architecture: "x64" },
      { arn: ARM, architecture: "arm64" },
    ]);
    assert.deepEqual(imagePipelines([]), []);
    assert.throws(() => imagePipelines([arn("someone-elses-pipeline")]), /not a runner image pipeline/);
  });

  it("starts every pipeline of a newly cached architecture, and only those", () => {
    const pipelines = imagePipelines([X64, ARM]);
    const builds = buildsToStart("x64", manifest(), pipelines);
    assert.deepEqual(builds, [
      { pipelineArn: X64, architecture: "x64", version: "2.330.0", clientToken: buildClientToken(X64, "2.330.0", SHA) },
    ]);
    assert.deepEqual(
      buildsToStart("arm64", manifest(), pipelines).map((b) => b.pipelineArn),
      [ARM],
    );
  });

  it("starts nothing when the cached tarball was already built, nothing is cached, or no pipeline is configured", () => {
    const pipelines = imagePipelines([X64, ARM]);
    assert.deepEqual(buildsToStart("x64", manifest([X64]), pipelines), []);
    assert.deepEqual(buildsToStart("x64", undefined, pipelines), []);
    assert.deepEqual(buildsToStart("x64", manifest(), []), []);
    assert.deepEqual(buildsToStart("arm64", manifest(), imagePipelines([X64])), []);
  });

  it("owes a build to a pipeline the manifest does not list: a failed start, or a pipeline added later", () => {
    const second = arn("cirunners-staging-runner-x64");
    const builds = buildsToStart("x64", manifest([X64]), imagePipelines([X64, second]));
    assert.deepEqual(
      builds.map((b) => b.pipelineArn),
      [second],
    );
  });

  it("derives a client token Image Builder accepts, stable per pipeline, version and checksum", () => {
    const token = buildClientToken(X64, "2.330.0", SHA);
    assert.ok(token.length >= 1 && token.length <= CLIENT_TOKEN_MAX_LENGTH, token);
    assert.match(token, /^2\.330\.0-[0-9a-f]+$/);
    assert.equal(buildClientToken(X64, "2.330.0", SHA), token, "a retry sends the same token");
    assert.notEqual(buildClientToken(ARM, "2.330.0", SHA), token);
    assert.notEqual(buildClientToken(X64, "2.331.0", SHA), token);
    assert.notEqual(buildClientToken(X64, "2.330.0", OTHER_SHA), token, "a re-published tarball is a new build");
    const long = buildClientToken(X64, "2.1000.1000", SHA);
    assert.equal(long.length, CLIENT_TOKEN_MAX_LENGTH);
  });

  it("records started pipelines once each, and the manifest keeps them through a read", () => {
    const recorded = recordBuilds(manifest([X64]), [ARM, X64]);
    assert.deepEqual(recorded.imageBuilds, [ARM, X64]);
    assert.deepEqual(parseManifest(JSON.stringify(recorded)), recorded);
    assert.deepEqual(parseManifest(JSON.stringify({ ...manifest(), imageBuilds: [X64, 7] }))?.imageBuilds, [X64]);
    assert.equal(parseManifest(JSON.stringify(manifest()))?.imageBuilds, undefined);
  });
});
