/**
 * The runner-cache function: keeps the actions/runner tarballs of each pool architecture in the cache bucket, on a
 * schedule and once at deploy time. Created as a child of the EphemeralRunners component that calls it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsLocation } from "../../contract/arn";
import { FUNCTION_ENTRY } from "../../contract/names";
import type { GitHubConfig, RunnersConfig } from "../config";
import { ScheduledFunction } from "../shared/scheduled-function";
import { runnerCacheEnvironment } from "./function-environments";
import { runnerCacheStatements } from "./policies";

/** How often the runner-cache function looks for a new actions/runner release. */
export const RUNNER_CACHE_SCHEDULE = "rate(6 hours)";

export function runnerCacheFunction(
  name: string,
  args: {
    github: GitHubConfig;
    runners: RunnersConfig;
    bucket: aws.s3.Bucket;
    location: pulumi.Output<AwsLocation>;
    account: pulumi.Input<string>;
    logRetentionDays: number;
    tags?: Record<string, string>;
  },
  parent: pulumi.Resource,
): ScheduledFunction {
  const { github, runners } = args;
  const runnerCache = new ScheduledFunction(
    name,
    {
      entry: FUNCTION_ENTRY["runner-cache"],
      description: "Copies the current actions/runner release for each pool architecture into the runner cache bucket",
      scheduleExpression: RUNNER_CACHE_SCHEDULE,
      environment: { ...runnerCacheEnvironment({ github, runners, cacheBucket: args.bucket.bucket }) },
      statements: pulumi.all([args.location, args.bucket.arn]).apply(([where, cacheBucketArn]) =>
        runnerCacheStatements({
          ...where,
          cacheBucketArn,
          appPrivateKeyParameter: github.scope === "org" ? github.appPrivateKeyParameter : undefined,
        }),
      ),
      // Streams two ~150 MB tarballs from GitHub to S3.
      memorySize: 1024,
      timeout: 300,
      reservedConcurrency: 1,
      account: args.account,
      logRetentionDays: args.logRetentionDays,
      tags: args.tags,
    },
    { parent },
  );
  // Fill the cache at deploy time (and whenever the wanted version or architectures change), so the first
  // runner after `pulumi up` does not wait up to a schedule period for its binaries.
  new aws.lambda.Invocation(
    `${name}-fill`,
    {
      functionName: runnerCache.lambda.name,
      input: JSON.stringify({ source: "pulumi-deploy" }),
      triggers: {
        version: runners.runnerVersion,
        architectures: [...new Set(runners.pools.map((p) => p.architecture))].sort().join(","),
      },
    },
    { parent, dependsOn: [runnerCache] },
  );
  return runnerCache;
}
