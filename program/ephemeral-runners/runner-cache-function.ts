/**
 * The runner-cache function: keeps the actions/runner tarballs of each pool architecture in the cache bucket, on a
 * schedule and once at deploy time, and starts the baked-image pipelines of an architecture whose runner it
 * replaced. Created as a child of the EphemeralRunners component that calls it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type AwsLocation, imagePipelineArn } from "../../contract/arn";
import { FUNCTION_ENTRY, runnerImagePipelineName } from "../../contract/names";
import type { GitHubConfig, RunnersConfig } from "../config";
import { bakedArchitectures } from "../runner-images/names";
import { ScheduledFunction } from "../shared/scheduled-function";
import { runnerCacheEnvironment } from "./function-environments";
import { runnerCacheStatements } from "./policies";

/** How often the runner-cache function looks for a new actions/runner release. */
export const RUNNER_CACHE_SCHEDULE = "rate(6 hours)";

/**
 * The ARNs of the stack's runner image pipelines (program/runner-images), one per baked architecture, computed from
 * their names: the pipelines are created after this function (they build from its cache), so their resources
 * cannot be its inputs without a cycle. None without baked pools.
 */
export function runnerImagePipelineArns(stack: string, runners: RunnersConfig, where: AwsLocation): string[] {
  return bakedArchitectures(runners.pools).map((a) => imagePipelineArn(where, runnerImagePipelineName(stack, a)));
}

export function runnerCacheFunction(
  name: string,
  args: {
    stack: string;
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
  const baked = bakedArchitectures(runners.pools).length > 0;
  const imagePipelineArns = args.location.apply((where) => runnerImagePipelineArns(args.stack, runners, where));
  const runnerCache = new ScheduledFunction(
    name,
    {
      entry: FUNCTION_ENTRY["runner-cache"],
      description: baked
        ? "Copies the current actions/runner release into the runner cache bucket and rebuilds the baked images"
        : "Copies the current actions/runner release for each pool architecture into the runner cache bucket",
      scheduleExpression: RUNNER_CACHE_SCHEDULE,
      environment: {
        ...runnerCacheEnvironment({
          github,
          runners,
          cacheBucket: args.bucket.bucket,
          ...(baked ? { imagePipelineArns } : {}),
        }),
      },
      statements: pulumi
        .all([args.location, args.bucket.arn, imagePipelineArns])
        .apply(([where, cacheBucketArn, arns]) =>
          runnerCacheStatements({
            ...where,
            cacheBucketArn,
            appPrivateKeyParameter: github.scope === "org" ? github.appPrivateKeyParameter : undefined,
            imagePipelineArns: arns,
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
