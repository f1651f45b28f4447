/**
 * Ephemeral EC2 runners, the whole provider as one unit (see index.ts for the flow): composes the webhook ingress,
 * the runner cache bucket, the runner fleet, the launcher and the scheduled housekeeping functions.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsLocation } from "../../contract/arn";
import { FUNCTION_ENTRY, runnerParameterPrefix } from "../../contract/names";
import { type GitHubConfig, PROJECT, type RunnersConfig } from "../config";
import { awsLocation } from "../shared/location";
import { ScheduledFunction } from "../shared/scheduled-function";
import {
  launcherEnvironment,
  reaperEnvironment,
  runnerCacheEnvironment,
  warmPoolEnvironment,
} from "./function-environments";
import { WebhookIngress } from "./ingress";
import { consumeQueueStatement, type LaunchScope, launchStatements } from "./launch-policies";
import { Launcher } from "./launcher";
import { reaperStatements, runnerCacheStatements } from "./policies";
import { RunnerCacheBucket } from "./runner-cache-bucket";
import { launchTemplateImage, RunnerFleet } from "./runner-fleet";

/** How often the runner-cache function looks for a new actions/runner release. */
export const RUNNER_CACHE_SCHEDULE = "rate(6 hours)";
/** How often the warm pool is topped up (idle runners that took a job are replaced within this time). */
export const WARM_POOL_SCHEDULE = "rate(2 minutes)";

/** Everything the ephemeral runners need from the stack configuration. */
export interface EphemeralRunnersArgs {
  /** Stack name: part of names, tags and the JIT parameter prefix. */
  readonly stack: string;
  /** GitHub App, owner and scope the runners register with. */
  readonly github: GitHubConfig;
  /** Pools, launcher settings, reaper timing and runner version. */
  readonly runners: RunnersConfig;
  /** Where runners live: a VPC and its private subnets (with a route out and, ideally, an S3 endpoint). */
  readonly network: { vpcId: pulumi.Input<string>; privateSubnetIds: pulumi.Input<string[]> };
  /** Days to keep every log group's events. */
  readonly logRetentionDays: number;
  /**
   * SNS topic for alarms (the job queue's dead-letter queue).
   * @default no alarm actions
   */
  readonly alarmTopicArn?: string;
  /**
   * Tags for every child.
   * @default no tags
   */
  readonly tags?: Record<string, string>;
}

export class EphemeralRunners extends pulumi.ComponentResource {
  /** Webhook endpoint, verification, routing and the job queue. */
  public readonly ingress: WebhookIngress;
  /** URL GitHub delivers `workflow_job` webhooks to. */
  public readonly webhookUrl: pulumi.Output<string>;
  public readonly jobQueue: aws.sqs.Queue;
  /** Security group, instance role and profile, runner log group, one launch template per pool. */
  public readonly fleet: RunnerFleet;
  /** One launch template per pool, by pool name. */
  public readonly launchTemplates: Record<string, aws.ec2.LaunchTemplate>;
  public readonly runnerCacheBucket: aws.s3.Bucket;
  public readonly launcher: Launcher;
  public readonly reaper: ScheduledFunction;
  public readonly runnerCache: ScheduledFunction;
  /** Present only when some pool has a `warmPool`. */
  public readonly warmPool?: ScheduledFunction;
  /** SSM path of the JIT configs (`/cirunners/<stack>/runners`). */
  public readonly parameterPrefix: string;

  constructor(name: string, args: EphemeralRunnersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:EphemeralRunners", name, {}, opts);
    const { stack, github, runners, tags } = args;
    const parent = { parent: this };
    const location = awsLocation(parent);
    const account = location.apply((where) => where.account);
    this.parameterPrefix = runnerParameterPrefix(PROJECT, stack);
    const common = { logRetentionDays: args.logRetentionDays, tags };

    this.ingress = new WebhookIngress(
      `${name}-ingress`,
      { stack, github, runners, alarmTopicArn: args.alarmTopicArn, ...common },
      parent,
    );
    this.webhookUrl = this.ingress.webhookUrl;
    this.jobQueue = this.ingress.jobQueue;

    this.runnerCacheBucket = new RunnerCacheBucket(`${name}-runner-cache`, { stack, location, tags }, parent).bucket;
    this.fleet = new RunnerFleet(
      name,
      {
        stack,
        pools: runners.pools,
        vpcId: args.network.vpcId,
        parameterPrefix: this.parameterPrefix,
        cacheBucket: this.runnerCacheBucket,
        // The launcher writes the JIT config right after CreateFleet returns, within its own timeout.
        configWaitSeconds: runners.launcher.timeoutSeconds + 60,
        location,
        ...common,
      },
      parent,
    );
    this.launchTemplates = this.fleet.launchTemplates;

    const launchTemplateIds = pulumi.all(
      Object.fromEntries(Object.entries(this.launchTemplates).map(([pool, lt]) => [pool, lt.id])),
    );
    const launchEnvironment = launcherEnvironment({
      stack,
      github,
      pools: runners.pools,
      launchTemplateIds,
      subnetIds: args.network.privateSubnetIds,
      parameterPrefix: this.parameterPrefix,
      runnerGroupId: this.ingress.runnerGroupId,
    });
    const launchScope = this.launchScope(location, args);

    this.launcher = new Launcher(
      `${name}-launcher`,
      {
        settings: runners.launcher,
        jobQueue: this.jobQueue,
        environment: launchEnvironment,
        statements: pulumi
          .all([launchScope, this.jobQueue.arn])
          .apply(([scope, queueArn]) => [consumeQueueStatement(queueArn), ...launchStatements(scope)]),
        ...common,
      },
      parent,
    );

    this.reaper = new ScheduledFunction(
      `${name}-reaper`,
      {
        entry: FUNCTION_ENTRY.reaper,
        description:
          "Terminates orphaned runner instances, removes ghost runners from GitHub, deletes leftover JIT configs",
        scheduleExpression: runners.reaperSchedule,
        environment: {
          ...reaperEnvironment({ stack, github, runners, parameterPrefix: this.parameterPrefix }),
        },
        statements: location.apply((where) =>
          reaperStatements({
            ...where,
            stack,
            parameterPrefix: this.parameterPrefix,
            appPrivateKeyParameter: github.appPrivateKeyParameter,
          }),
        ),
        timeout: 120,
        reservedConcurrency: 1,
        account,
        ...common,
      },
      parent,
    );

    this.runnerCache = new ScheduledFunction(
      `${name}-runner-cache`,
      {
        entry: FUNCTION_ENTRY["runner-cache"],
        description:
          "Copies the current actions/runner release for each pool architecture into the runner cache bucket",
        scheduleExpression: RUNNER_CACHE_SCHEDULE,
        environment: {
          ...runnerCacheEnvironment({ github, runners, cacheBucket: this.runnerCacheBucket.bucket }),
        },
        statements: pulumi.all([location, this.runnerCacheBucket.arn]).apply(([where, cacheBucketArn]) =>
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
        account,
        ...common,
      },
      parent,
    );
    // Fill the cache at deploy time (and whenever the wanted version or architectures change), so the first
    // runner after `pulumi up` does not wait up to a schedule period for its binaries.
    new aws.lambda.Invocation(
      `${name}-runner-cache-fill`,
      {
        functionName: this.runnerCache.lambda.name,
        input: JSON.stringify({ source: "pulumi-deploy" }),
        triggers: {
          version: runners.runnerVersion,
          architectures: [...new Set(runners.pools.map((p) => p.architecture))].sort().join(","),
        },
      },
      { parent: this, dependsOn: [this.runnerCache] },
    );

    const warmEnvironment = warmPoolEnvironment(launchEnvironment, runners);
    if (warmEnvironment) {
      this.warmPool = new ScheduledFunction(
        `${name}-warm-pool`,
        {
          entry: FUNCTION_ENTRY["warm-pool"],
          description: "Keeps idle ephemeral runners ready during each pool's warm hours",
          scheduleExpression: WARM_POOL_SCHEDULE,
          environment: { ...warmEnvironment },
          statements: launchScope.apply((scope) => launchStatements(scope)),
          memorySize: 512,
          timeout: 120,
          reservedConcurrency: 1,
          account,
          ...common,
        },
        parent,
      );
    }

    this.registerOutputs({
      webhookUrl: this.webhookUrl,
      jobQueueUrl: this.jobQueue.url,
      runnerCacheBucket: this.runnerCacheBucket.bucket,
      launchTemplateIds,
      securityGroupId: this.fleet.securityGroup.id,
      instanceRoleArn: this.fleet.instanceRole.arn,
    });
  }

  /** What the launcher and the warm pool may launch from: this stack's templates, subnets, group and role. */
  private launchScope(location: pulumi.Output<AwsLocation>, args: EphemeralRunnersArgs): pulumi.Output<LaunchScope> {
    const { runners, github } = args;
    const amiParameters = runners.pools
      .map((pool) => launchTemplateImage(pool).amiParameter)
      .filter((p): p is string => p !== undefined);
    return pulumi
      .all([
        location,
        pulumi.all(Object.values(this.launchTemplates).map((lt) => lt.arn)),
        pulumi.output(args.network.privateSubnetIds),
        this.fleet.securityGroup.arn,
        this.fleet.instanceRole.arn,
      ])
      .apply(([where, launchTemplateArns, subnetIds, securityGroupArn, instanceRoleArn]) => ({
        ...where,
        stack: args.stack,
        parameterPrefix: this.parameterPrefix,
        launchTemplateArns,
        subnetIds,
        securityGroupArn,
        instanceRoleArn,
        appPrivateKeyParameter: github.appPrivateKeyParameter,
        amiParameters,
        spot: runners.pools.some((pool) => pool.spot),
      }));
  }
}
