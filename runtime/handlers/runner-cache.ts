/**
 * Runner-cache Lambda (scheduled): keeps the actions/runner tarballs in the cache bucket and starts the baked-image
 * pipelines of an architecture whose tarball changed (`services/refresh-runner-cache.ts`).
 */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { ImagebuilderClient } from "@aws-sdk/client-imagebuilder";
import { S3Client } from "@aws-sdk/client-s3";
import { SSMClient } from "@aws-sdk/client-ssm";
import { METRIC } from "../../contract/metrics.js";
import { ENV } from "../../contract/names.js";
import { runnerTargetFor } from "../../contract/runner-target.js";
import { readSettings, type SettingsOf } from "../../contract/settings.js";
import { GitHubClient } from "../adapters/github/app-auth.js";
import { imagePipelines } from "../core/runner-cache/image-builds.js";
import { poolArchitectures } from "../core/runner-cache/release.js";
import {
  type ArchitectureResult,
  type RunnerCacheSettings,
  refreshRunnerCache,
} from "../services/refresh-runner-cache.js";
import { gitHubAppFrom } from "../shared/clients.js";
import { type Handler, perContainer, powertools } from "../shared/lambda.js";

const { logger, metrics } = powertools("runner-cache");

export function runnerCacheSettings(settings: SettingsOf<"runner-cache">): RunnerCacheSettings {
  return {
    bucket: settings[ENV.runnerCacheBucket],
    architectures: poolArchitectures(settings[ENV.pools]),
    version: settings[ENV.runnerVersion],
    imagePipelines: imagePipelines(settings[ENV.imagePipelineArns]),
  };
}

/**
 * The client that reads the release. With the GitHub App configured for organization runners: the App's
 * installation token (5,000 requests an hour, cached across invocations). Otherwise anonymous — 60 requests an
 * hour per IP address, and Lambda's addresses are shared, so a busy neighbour can use them up.
 */
export function releaseClient(settings: SettingsOf<"runner-cache">, ssm: SSMClient): () => Promise<GitHubClient> {
  const appId = settings[ENV.appId];
  const keyParameter = settings[ENV.appPrivateKeyParameter];
  const owner = settings[ENV.githubOwner];
  const baseUrl = settings[ENV.githubApiUrl];
  if (appId === undefined || keyParameter === undefined || owner === undefined || settings[ENV.runnerScope] !== "org") {
    const anonymous = new GitHubClient({ baseUrl, userAgent: "cirunners-runner-cache" });
    return async () => anonymous;
  }
  const app = gitHubAppFrom(
    { [ENV.appId]: appId, [ENV.appPrivateKeyParameter]: keyParameter, [ENV.githubApiUrl]: baseUrl },
    ssm,
  );
  return () => app.clientFor(runnerTargetFor("org", owner, ""));
}

export function createRunnerCacheHandler(
  settings: RunnerCacheSettings,
  deps: { s3: S3Client; github: () => Promise<GitHubClient>; imagebuilder?: ImagebuilderClient },
): Handler<unknown, ArchitectureResult[]> {
  return async (_event, context) => {
    logger.addContext(context);
    const results = await refreshRunnerCache(settings, {
      s3: deps.s3,
      github: await deps.github(),
      fetch,
      now: () => new Date(),
      log: logger,
      imagebuilder: deps.imagebuilder,
    });
    const builds = results.flatMap((r) => r.imageBuilds ?? []);
    metrics.addMetric(
      METRIC.runnerCacheUpdates,
      MetricUnit.Count,
      results.filter((r) => r.action === "uploaded").length,
    );
    metrics.addMetric(
      METRIC.runnerImageBuildsStarted,
      MetricUnit.Count,
      builds.filter((b) => b.outcome === "started").length,
    );
    // A start that failed is retried at the next run; the stack's alarm fires on it (program/ephemeral-runners/dashboard.ts).
    metrics.addMetric(
      METRIC.runnerImageBuildStartFailures,
      MetricUnit.Count,
      builds.filter((b) => b.outcome === "failed").length,
    );
    metrics.publishStoredMetrics();
    return results;
  };
}

/** A container's handler from its settings, with the clients it needs (Image Builder only when pipelines are set). */
export function runnerCacheHandlerFrom(settings: SettingsOf<"runner-cache">): Handler<unknown, ArchitectureResult[]> {
  const cacheSettings = runnerCacheSettings(settings);
  return createRunnerCacheHandler(cacheSettings, {
    s3: new S3Client({}),
    github: releaseClient(settings, new SSMClient({})),
    ...(cacheSettings.imagePipelines?.length ? { imagebuilder: new ImagebuilderClient({}) } : {}),
  });
}

export const handler = perContainer(() => runnerCacheHandlerFrom(readSettings("runner-cache")));
