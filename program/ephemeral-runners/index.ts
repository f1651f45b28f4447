/**
 * Ephemeral EC2 runners, the whole provider as one unit (in the spirit of CloudSnorkel/cdk-github-runners):
 *
 *   GitHub ──workflow_job──▶ WebhookIngress (API, webhook function, job queue)
 *                                 │ SQS, no delay
 *                                 ▼
 *                            launcher ──JIT config──▶ SSM SecureString (tagged with the instance ARN)
 *                                 │ CreateFleet (instant, spot first)
 *                                 ▼
 *            instance from the pool's launch template: reads + deletes its JIT config, installs the runner
 *            from the S3 cache, runs exactly one job, powers off (= terminates)
 *
 *   reaper (schedule)        terminates orphans, deregisters ghost runners, deletes leftover JIT configs
 *   runner-cache (schedule)  keeps the actions/runner tarballs in the cache bucket current
 *   warm-pool (schedule)     keeps N idle runners per pool during configured hours (only if a pool asks)
 *
 * Files: fleet.ts (security group, instance role, log group, launch templates), cache.ts (cache bucket),
 * launcher.ts, lifecycle.ts (scheduled functions), policies.ts (every IAM statement), ingress.ts.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { GitHubConfig, RunnerPool, RunnersConfig } from "../config";
import { ENV, FUNCTION_ENTRY } from "../../contract/names";
import type { RuntimePool } from "../../contract/pool";
import type { NodeFunction } from "../shared/lambda";
import { createRunnerCacheBucket } from "./cache";
import { createRunnerFleet, launchTemplateImage } from "./fleet";
import { WebhookIngress } from "./ingress";
import { createLauncher } from "./launcher";
import { ScheduledFunction } from "./lifecycle";
import {
  consumeQueueStatement,
  launchStatements,
  reaperStatements,
  runnerCacheStatements,
  type AwsLocation,
} from "./policies";

export { WebhookIngress } from "./ingress";
export { defaultAmiParameter, launchTemplateImage } from "./fleet";

/** How often the runner-cache function looks for a new actions/runner release. */
export const RUNNER_CACHE_SCHEDULE = "rate(6 hours)";
/** How often the warm pool is topped up (idle runners that took a job are replaced within this time). */
export const WARM_POOL_SCHEDULE = "rate(2 minutes)";

export interface EphemeralRunnersArgs {
  /** Stack name: part of names, tags and the JIT parameter prefix. */
  stack: string;
  /** GitHub App, owner and scope the runners register with. */
  github: GitHubConfig;
  /** Pools, launcher settings, reaper timing and runner version. */
  runners: RunnersConfig;
  /** Where runners live: a VPC and its private subnets (with a route out and, ideally, an S3 endpoint). */
  network: { vpcId: pulumi.Input<string>; privateSubnetIds: pulumi.Input<string[]> };
  /** Days to keep every log group's events. */
  logRetentionDays: number;
  /** SNS topic for alarms (the job queue's dead-letter queue). */
  alarmTopicArn?: string;
  /** Tags for every child. */
  tags?: Record<string, string>;
}

/** Pools as the functions see them (`CIRUNNERS_POOLS`), with each pool's launch template id. */
export function poolSpecs(pools: RunnerPool[], launchTemplateIds: Record<string, string>): RuntimePool[] {
  return pools.map((pool) => ({
    name: pool.name,
    labels: pool.labels,
    instanceTypes: pool.instanceTypes,
    architecture: pool.architecture,
    maxRunners: pool.maxRunners,
    spot: pool.spot,
    launchTemplateId: launchTemplateIds[pool.name],
  }));
}

/** The SSM parameter path under which the launcher writes JIT configs. */
export function runnerParameterPrefix(stack: string): string {
  return `/cirunners/${stack}/runners`;
}

export class EphemeralRunners extends pulumi.ComponentResource {
  /** Webhook endpoint, verification, routing and the job queue. */
  public readonly ingress: WebhookIngress;
  /** URL GitHub delivers `workflow_job` webhooks to. */
  public readonly webhookUrl: pulumi.Output<string>;
  public readonly jobQueue: aws.sqs.Queue;
  /** One launch template per pool, by pool name. */
  public readonly launchTemplates: Record<string, aws.ec2.LaunchTemplate>;
  public readonly runnerCacheBucket: aws.s3.Bucket;
  public readonly launcher: NodeFunction;
  public readonly launcherEventSourceMapping: aws.lambda.EventSourceMapping;
  public readonly reaper: NodeFunction;
  public readonly runnerCache: NodeFunction;
  /** Present only when some pool has a `warmPool`. */
  public readonly warmPool?: NodeFunction;
  /** The scheduled functions with their schedules and dead-letter queues. */
  public readonly scheduled: {
    reaper: ScheduledFunction;
    runnerCache: ScheduledFunction;
    warmPool?: ScheduledFunction;
  };
  /** The runners' security group: no inbound rules. */
  public readonly securityGroup: aws.ec2.SecurityGroup;
  public readonly instanceRole: aws.iam.Role;
  public readonly instanceProfile: aws.iam.InstanceProfile;
  /** Log group the runner instances write their bootstrap and runner logs to. */
  public readonly runnerLogGroup: aws.cloudwatch.LogGroup;
  /** SSM path of the JIT configs (`/cirunners/<stack>/runners`). */
  public readonly parameterPrefix: string;

  constructor(name: string, args: EphemeralRunnersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:EphemeralRunners", name, {}, opts);
    const { stack, github, runners } = args;
    const tags = args.tags;
    const parent = { parent: this };
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const location: pulumi.Output<AwsLocation> = pulumi
      .all([region, account])
      .apply(([r, a]) => ({ region: r, account: a }));
    this.parameterPrefix = runnerParameterPrefix(stack);

    this.ingress = new WebhookIngress(
      `${name}-ingress`,
      {
        stack,
        github,
        runners,
        logRetentionDays: args.logRetentionDays,
        alarmTopicArn: args.alarmTopicArn,
        tags: args.tags,
      },
      parent,
    );
    this.webhookUrl = this.ingress.webhookUrl;
    this.jobQueue = this.ingress.jobQueue;

    const cache = createRunnerCacheBucket(`${name}-runner-cache`, { stack, account, region }, tags, this);
    this.runnerCacheBucket = cache.bucket;

    const fleet = createRunnerFleet(
      name,
      {
        stack,
        pools: runners.pools,
        vpcId: args.network.vpcId,
        parameterPrefix: this.parameterPrefix,
        cacheBucket: cache.bucket,
        // The launcher writes the JIT config right after CreateFleet returns, within its own timeout.
        configWaitSeconds: runners.launcher.timeoutSeconds + 60,
        region,
        account,
        logRetentionDays: args.logRetentionDays,
        tags,
      },
      this,
    );
    this.securityGroup = fleet.securityGroup;
    this.instanceRole = fleet.instanceRole;
    this.instanceProfile = fleet.instanceProfile;
    this.runnerLogGroup = fleet.logGroup;
    this.launchTemplates = fleet.launchTemplates;

    // ---- what the functions are told -------------------------------------------------------------------
    const templateIds = pulumi.all(
      Object.fromEntries(Object.entries(fleet.launchTemplates).map(([pool, lt]) => [pool, lt.id])),
    );
    const poolsJson = templateIds.apply((ids) => JSON.stringify(poolSpecs(runners.pools, ids)));
    const subnetIds = pulumi.output(args.network.privateSubnetIds);
    const gitHubEnv: Record<string, pulumi.Input<string>> = {
      [ENV.appId]: String(github.appId),
      [ENV.appPrivateKeyParameter]: github.appPrivateKeyParameter,
      [ENV.githubApiUrl]: github.apiUrl,
      [ENV.githubOwner]: github.owner,
      [ENV.runnerScope]: github.scope,
    };
    const commonEnv = (service: string): Record<string, pulumi.Input<string>> => ({
      [ENV.stack]: stack,
      POWERTOOLS_SERVICE_NAME: service,
      POWERTOOLS_METRICS_NAMESPACE: "cirunners",
    });
    const launchEnv: Record<string, pulumi.Input<string>> = {
      ...gitHubEnv,
      [ENV.pools]: poolsJson,
      [ENV.subnetIds]: subnetIds.apply((ids) => JSON.stringify(ids)),
      [ENV.runnerParameterPrefix]: this.parameterPrefix,
      ...(this.ingress.runnerGroupId ? { [ENV.runnerGroupId]: this.ingress.runnerGroupId.apply(String) } : {}),
    };

    // ---- who may do what -------------------------------------------------------------------------------
    const amiParameters = runners.pools
      .map((pool) => launchTemplateImage(pool).amiParameter)
      .filter((p): p is string => p !== undefined);
    const launchScope = pulumi
      .all([
        location,
        pulumi.all(Object.values(fleet.launchTemplates).map((lt) => lt.arn)),
        subnetIds,
        fleet.securityGroup.arn,
        fleet.instanceRole.arn,
      ])
      .apply(([where, launchTemplateArns, subnets, securityGroupArn, instanceRoleArn]) => ({
        ...where,
        stack,
        parameterPrefix: this.parameterPrefix,
        launchTemplateArns,
        subnetIds: subnets,
        securityGroupArn,
        instanceRoleArn,
        appPrivateKeyParameter: github.appPrivateKeyParameter,
        amiParameters,
        spot: runners.pools.some((pool) => pool.spot),
      }));

    // ---- launcher --------------------------------------------------------------------------------------
    const launcher = createLauncher(
      `${name}-launcher`,
      {
        runners,
        jobQueue: this.jobQueue,
        environment: { ...commonEnv("launcher"), ...launchEnv, [ENV.jobQueueUrl]: this.jobQueue.url },
        statements: pulumi
          .all([launchScope, this.jobQueue.arn])
          .apply(([scope, queueArn]) => [consumeQueueStatement(queueArn), ...launchStatements(scope)]),
        logRetentionDays: args.logRetentionDays,
        tags,
      },
      this,
    );
    this.launcher = launcher.function;
    this.launcherEventSourceMapping = launcher.eventSourceMapping;

    // ---- scheduled housekeeping ------------------------------------------------------------------------
    const reaper = new ScheduledFunction(
      `${name}-reaper`,
      {
        entry: FUNCTION_ENTRY.reaper,
        description:
          "Terminates orphaned runner instances, removes ghost runners from GitHub, deletes leftover JIT configs",
        scheduleExpression: runners.reaperSchedule,
        environment: {
          ...commonEnv("reaper"),
          ...gitHubEnv,
          [ENV.runnerParameterPrefix]: this.parameterPrefix,
          [ENV.bootGraceMinutes]: String(runners.bootGraceMinutes),
          [ENV.maxJobHours]: String(runners.maxJobHours),
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
        logRetentionDays: args.logRetentionDays,
        tags,
      },
      parent,
    );

    const runnerCache = new ScheduledFunction(
      `${name}-runner-cache`,
      {
        entry: FUNCTION_ENTRY["runner-cache"],
        description:
          "Copies the current actions/runner release for each pool architecture into the runner cache bucket",
        scheduleExpression: RUNNER_CACHE_SCHEDULE,
        environment: {
          ...commonEnv("runner-cache"),
          // The App's installation token reads the release: anonymous calls share Lambda's IP addresses' 60 an hour.
          ...gitHubEnv,
          [ENV.runnerCacheBucket]: cache.bucket.bucket,
          // Only the architectures matter here; no launch template ids.
          [ENV.pools]: JSON.stringify(poolSpecs(runners.pools, {})),
          [ENV.runnerVersion]: runners.runnerVersion,
        },
        statements: pulumi.all([location, cache.bucket.arn]).apply(([where, cacheBucketArn]) =>
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
        logRetentionDays: args.logRetentionDays,
        tags,
      },
      parent,
    );
    // Fill the cache at deploy time (and whenever the wanted version or architectures change), so the first
    // runner after `pulumi up` does not wait up to a schedule period for its binaries.
    new aws.lambda.Invocation(
      `${name}-runner-cache-fill`,
      {
        functionName: runnerCache.function.function.name,
        input: JSON.stringify({ source: "pulumi-deploy" }),
        triggers: {
          version: runners.runnerVersion,
          architectures: [...new Set(runners.pools.map((p) => p.architecture))].sort().join(","),
        },
      },
      { parent: this, dependsOn: [runnerCache] },
    );

    const warmPools = runners.pools
      .filter((pool) => pool.warmPool)
      .map((pool) => ({ pool: pool.name, ...pool.warmPool! }));
    let warmPool: ScheduledFunction | undefined;
    if (warmPools.length > 0) {
      warmPool = new ScheduledFunction(
        `${name}-warm-pool`,
        {
          entry: FUNCTION_ENTRY["warm-pool"],
          description: "Keeps idle ephemeral runners ready during each pool's warm hours",
          scheduleExpression: WARM_POOL_SCHEDULE,
          environment: {
            ...commonEnv("warm-pool"),
            ...launchEnv,
            [ENV.bootGraceMinutes]: String(runners.bootGraceMinutes),
            [ENV.warmPools]: JSON.stringify(warmPools),
          },
          statements: launchScope.apply((scope) => launchStatements(scope)),
          memorySize: 512,
          timeout: 120,
          reservedConcurrency: 1,
          account,
          logRetentionDays: args.logRetentionDays,
          tags,
        },
        parent,
      );
    }

    this.reaper = reaper.function;
    this.runnerCache = runnerCache.function;
    this.warmPool = warmPool?.function;
    this.scheduled = { reaper, runnerCache, warmPool };

    this.registerOutputs({
      webhookUrl: this.webhookUrl,
      jobQueueUrl: this.jobQueue.url,
      runnerCacheBucket: this.runnerCacheBucket.bucket,
      launchTemplateIds: templateIds,
      securityGroupId: this.securityGroup.id,
      instanceRoleArn: this.instanceRole.arn,
    });
  }
}
