/**
 * The runner cache's world for its suites (runner-cache.test.ts, runner-cache-image-builds.test.ts): moto's S3
 * with the cache bucket, the GitHub stand-in that serves a small generated runner tarball, and a local Image
 * Builder (moto has none: testkit/imagebuilder.ts), each reset before every test so tests share nothing.
 */
import { createHash } from "node:crypto";
import { ImagebuilderClient } from "@aws-sdk/client-imagebuilder";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { ENV } from "../../../contract/names.js";
import { readSettings } from "../../../contract/settings.js";
import { GitHubClient } from "../../../runtime/adapters/github/app-auth.js";
import type { RunnerCacheDependencies } from "../../../runtime/services/refresh-runner-cache.js";
import { type GitHubApi, startGitHubApi } from "../../../testkit/github/server.js";
import { type ImageBuilderStandIn, startImageBuilderStandIn } from "../../../testkit/imagebuilder.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import { useEnv } from "../../support/env.js";

export const BUCKET = "cirunners-dev-runner-cache";
export const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
export const silent = { info() {}, warn() {} };
export const PIPELINE = (architecture: string) =>
  `arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/cirunners-dev-runner-${architecture}`;
export const CONTEXT = { functionName: "runner-cache", awsRequestId: "req-1" } as unknown as Context;

/** A pool as the function's environment carries it: only the architecture matters to the cache. */
export const pool = (name: string, architecture: "x64" | "arm64") => ({
  name,
  labels: ["self-hosted", architecture],
  instanceTypes: ["m7i.large"],
  architecture,
  maxRunners: 2,
});

type RunnerCacheModule = typeof import("../../../runtime/handlers/runner-cache.js");

/** The started stand-ins and the handler module: only there once the suite's `before` hooks have run. */
/** Removes the GitHub App's variables from the process: the anonymous cases (an earlier suite may have set them). */
export function forgetGitHubApp(): void {
  for (const name of [ENV.appId, ENV.appPrivateKeyParameter, ENV.githubOwner, ENV.runnerScope])
    delete process.env[name];
}

/** The handler's environment without a GitHub App: one x64 pool, the latest runner, and `extra`. */
export function anonymousHandlerEnvironment(githubUrl: string, extra: Record<string, string> = {}): void {
  forgetGitHubApp();
  Object.assign(process.env, {
    [ENV.runnerCacheBucket]: BUCKET,
    [ENV.pools]: JSON.stringify([pool("linux-x64", "x64")]),
    [ENV.githubApiUrl]: githubUrl,
    [ENV.runnerVersion]: "latest",
    ...extra,
  });
}

export interface RunnerCacheServers {
  moto: MotoServer;
  github: GitHubApi;
  imagebuilder: ImageBuilderStandIn;
  cache: RunnerCacheModule;
}

export interface RunnerCacheWorld {
  /** The servers; call it from a hook or a test, not while the suite is being declared. */
  servers(): RunnerCacheServers;
  s3(): S3Client;
  /** A fresh container's handler, from the environment as it is now. */
  containerHandler(): ReturnType<RunnerCacheModule["runnerCacheHandlerFrom"]>;
  objectBytes(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  /** The refresh's dependencies against the stand-ins, at a fixed clock and without logging. */
  dependencies(overrides?: Partial<RunnerCacheDependencies>): RunnerCacheDependencies;
  settings(architectures?: ("x64" | "arm64")[]): {
    bucket: string;
    architectures: ("x64" | "arm64")[];
    version: string;
    apiUrl: string;
  };
}

/**
 * Starts the world for the enclosing mocha suite (its hooks are registered where this is called), with Powertools
 * silenced for the suite only, and an empty cache bucket before every test.
 */
export function useRunnerCacheWorld(): RunnerCacheWorld {
  useEnv({ POWERTOOLS_METRICS_DISABLED: "true", POWERTOOLS_LOG_LEVEL: "SILENT" });
  let started: RunnerCacheServers | undefined;
  const servers = () => {
    if (!started) throw new Error("the runner cache world is not started yet: use it from a hook or a test");
    return started;
  };
  const s3 = () => new S3Client({});

  before(async () => {
    const moto = await startMoto({ region: "eu-west-1" });
    const github = await startGitHubApi({ appId: 1, installations: {} });
    const imagebuilder = await startImageBuilderStandIn();
    const cache = await import("../../../runtime/handlers/runner-cache.js");
    started = { moto, github, imagebuilder, cache };
  });
  after(async () => {
    await started?.github.stop();
    await started?.imagebuilder.stop();
    await started?.moto.stop();
  });
  beforeEach(async () => {
    const { moto, github, imagebuilder } = servers();
    await moto.reset();
    github.reset();
    imagebuilder.reset();
    await s3().send(
      new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }),
    );
  });

  return {
    servers,
    s3,
    containerHandler: () => servers().cache.runnerCacheHandlerFrom(readSettings("runner-cache")),
    async objectBytes(key) {
      const object = await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return Buffer.from(await object.Body!.transformToByteArray());
    },
    async exists(key) {
      try {
        await s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
        return true;
      } catch {
        return false;
      }
    },
    dependencies: (overrides = {}) => ({
      s3: s3(),
      github: new GitHubClient({ baseUrl: servers().github.url }),
      fetch,
      now: () => new Date("2025-06-02T12:00:00Z"),
      log: silent,
      imagebuilder: new ImagebuilderClient({ endpoint: servers().imagebuilder.url }),
      ...overrides,
    }),
    settings: (architectures = ["x64", "arm64"]) => ({
      bucket: BUCKET,
      architectures,
      version: "latest",
      apiUrl: servers().github.url,
    }),
  };
}
