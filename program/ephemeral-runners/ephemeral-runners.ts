/**
 * Ephemeral EC2 runners, the whole provider as one unit (see index.ts for the flow): composes the webhook ingress,
 * the runner cache bucket, the runner fleet, the launcher and the scheduled housekeeping functions.
 */
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FUNCTION_ENTRY, runnerParameterPrefix } from "../../contract/names";
import { type GitHubConfig, PROJECT, type RunnersConfig } from "../config";
import { bakedArchitectures } from "../runner-images/names";
import { awsLocation } from "../shared/location";
import { ScheduledFunction } from "../shared/scheduled-function";
import { RunnersDashboard } from "./dashboard";
import {
  launchEnvironment,
  launcherEnvironment,
  reaperEnvironment,
  warmPoolEnvironment,
} from "./function-environments";
import { WebhookIngress } from "./ingress";
import { JobLedger } from "./job-ledger";
import { consumeQueueStatement, launchScopeOf, launchStatements } from "./launch-policies";
import { Launcher } from "./launcher";
import { type LedgerUser, ledgerStatements } from "./ledger-policies";
import { reaperStatements } from "./policies";
import { JobReconciliation } from "./reconciliation";
import { RunnerCacheBucket } from "./runner-cache-bucket";
import { runnerCacheFunction } from "./runner-cache-function";
import { RunnerFleet } from "./runner-fleet";

export { RUNNER_CACHE_SCHEDULE } from "./runner-cache-function";
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
   * Turn on the ledger table's deletion protection.
   * @default true on a stack named `prod` or `production`, false elsewhere
   */
  readonly ledgerDeletionProtection?: boolean;
  /**
   * SNS topic for alarms (the job queue's dead-letter queue, expired jobs).
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
  /** The job ledger's table. */
  public readonly ledger: JobLedger;
  /** The reconciler and the redeliver function (each once its handler exists). */
  public readonly reconciliation: JobReconciliation;
  public readonly dashboard: RunnersDashboard;
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

    this.ledger = new JobLedger(
      `${name}-ledger`,
      { location, deletionProtection: args.ledgerDeletionProtection ?? /^prod(uction)?$/.test(stack), tags },
      parent,
    );
    const ledgerArns = pulumi.all([this.ledger.tableArn, this.ledger.dueIndexArn]);
    const ledgerAccess = (user: LedgerUser) =>
      ledgerArns.apply(([tableArn, dueIndexArn]) => ledgerStatements(user, { tableArn, dueIndexArn }));

    this.ingress = new WebhookIngress(
      `${name}-ingress`,
      {
        stack,
        github,
        runners,
        ledger: { tableName: this.ledger.tableName, statements: ledgerAccess("webhook") },
        alarmTopicArn: args.alarmTopicArn,
        ...common,
      },
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
    const launch = launchEnvironment({
      stack,
      github,
      pools: runners.pools,
      launchTemplateIds,
      subnetIds: args.network.privateSubnetIds,
      parameterPrefix: this.parameterPrefix,
      runnerGroupId: this.ingress.runnerGroupId,
    });
    const launchScope = launchScopeOf({
      location,
      stack,
      github,
      runners,
      parameterPrefix: this.parameterPrefix,
      fleet: this.fleet,
      privateSubnetIds: args.network.privateSubnetIds,
    });

    this.launcher = new Launcher(
      `${name}-launcher`,
      {
        settings: runners.launcher,
        jobQueue: this.jobQueue,
        environment: launcherEnvironment(launch, this.ledger.tableName),
        statements: pulumi
          .all([launchScope, this.jobQueue.arn, ledgerAccess("launcher")])
          .apply(([scope, queueArn, ledger]) => [
            consumeQueueStatement(queueArn),
            ...launchStatements(scope),
            ...ledger,
          ]),
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
          ...reaperEnvironment({
            stack,
            github,
            runners,
            parameterPrefix: this.parameterPrefix,
            ledgerTable: this.ledger.tableName,
          }),
        },
        statements: pulumi.all([location, ledgerAccess("reaper")]).apply(([where, ledger]) => [
          ...reaperStatements({
            ...where,
            stack,
            parameterPrefix: this.parameterPrefix,
            appPrivateKeyParameter: github.appPrivateKeyParameter,
          }),
          ...ledger,
        ]),
        timeout: 120,
        reservedConcurrency: 1,
        account,
        ...common,
      },
      parent,
    );

    this.runnerCache = runnerCacheFunction(
      `${name}-runner-cache`,
      { stack, github, runners, bucket: this.runnerCacheBucket, location, account, ...common },
      this,
    );

    const warmEnvironment = warmPoolEnvironment(launch, runners);
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

    this.reconciliation = new JobReconciliation(
      `${name}-jobs`,
      {
        stack,
        github,
        runners,
        ledger: this.ledger,
        jobQueue: this.jobQueue,
        launchEnvironment: launch,
        location,
        hookIds: this.ingress.hookIds,
        account,
        ...common,
      },
      parent,
    );

    const scheduled = {
      reaper: this.reaper,
      "runner-cache": this.runnerCache,
      ...(this.warmPool ? { "warm-pool": this.warmPool } : {}),
      ...(this.reconciliation.reconciler ? { reconciler: this.reconciliation.reconciler } : {}),
      ...(this.reconciliation.redeliver ? { redeliver: this.reconciliation.redeliver } : {}),
    };
    this.dashboard = new RunnersDashboard(
      `${name}-dashboard`,
      {
        stack,
        region: location.region,
        pools: runners.pools.map((pool) => pool.name),
        deadLetterQueues: {
          jobs: this.ingress.deadLetterQueue.name,
          ...Object.fromEntries(Object.entries(scheduled).map(([fn, f]) => [fn, f.deadLetterQueue.name])),
        },
        imageBuilds: bakedArchitectures(runners.pools).length > 0,
        alarmTopicArn: args.alarmTopicArn,
        tags,
      },
      parent,
    );

    this.registerOutputs({
      webhookUrl: this.webhookUrl,
      jobQueueUrl: this.jobQueue.url,
      runnerCacheBucket: this.runnerCacheBucket.bucket,
      launchTemplateIds,
      securityGroupId: this.fleet.securityGroup.id,
      instanceRoleArn: this.fleet.instanceRole.arn,
      ledgerTableName: this.ledger.tableName,
      dashboardName: this.dashboard.dashboard.dashboardName,
    });
  }
}
