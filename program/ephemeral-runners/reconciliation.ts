/**
 * The ledger's scheduled functions: the reconciler (every minute: hands jobs whose launch failed, waited for
 * capacity or whose runner another job took back to the launcher; ends idle runners of finished jobs; expires jobs
 * past GitHub's 24-hour limit) and the redeliver function (every five minutes: asks GitHub to redeliver failed webhook deliveries).
 *
 * Each is created only once the contract's FUNCTION_ENTRY names its handler: the bundler builds every entry, so an
 * entry exists only when its code does.
 */
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FUNCTION_ENTRY } from "../../contract/names";
import type { GitHubConfig, RunnersConfig } from "../config";
import type { PolicyStatement } from "../shared/iam";
import { ScheduledFunction } from "../shared/scheduled-function";
import { type LaunchEnvironment, reconcilerEnvironment, redeliverEnvironment } from "./function-environments";
import type { JobLedger } from "./job-ledger";
import { ledgerStatements } from "./ledger-policies";
import { readGitHubAppKeyStatement, reconcilerStatements } from "./policies";
import type { AwsLocation } from "../../contract/arn";

/** Often enough that a job waiting for capacity starts within a minute of a runner ending. */
export const RECONCILER_SCHEDULE = "rate(1 minute)";
/** A failed delivery costs its job at most this long (plus GitHub's redelivery). */
export const REDELIVER_SCHEDULE = "rate(5 minutes)";
/** Under the schedule's minute, so one run ends before the next starts (reserved concurrency is 1). */
export const RECONCILER_TIMEOUT_SECONDS = 55;

/** The contract's entry point of `name`, or undefined while its handler does not exist. */
export function functionEntry(name: string): string | undefined {
  return (FUNCTION_ENTRY as Readonly<Partial<Record<string, string>>>)[name];
}

export interface JobReconciliationArgs {
  /** Stack name: the reconciler terminates only instances tagged with it. */
  readonly stack: string;
  readonly github: GitHubConfig;
  readonly runners: RunnersConfig;
  readonly ledger: JobLedger;
  readonly jobQueue: aws.sqs.Queue;
  /** The launch variables the launcher gets: the reconciler reads the pools, the target and the runner names. */
  readonly launchEnvironment: LaunchEnvironment;
  readonly location: pulumi.Output<AwsLocation>;
  /** GitHub's id of each of the stack's webhooks, by target key. */
  readonly hookIds: pulumi.Output<Record<string, number>>;
  /** Account id the Scheduler trust policies are pinned to. */
  readonly account: pulumi.Input<string>;
  readonly logRetentionDays: number;
  /**
   * Entry points.
   * @default FUNCTION_ENTRY's `reconciler` and `redeliver`, when present
   */
  readonly entries?: { readonly reconciler?: string; readonly redeliver?: string };
  /**
   * Tags for every child.
   * @default no tags
   */
  readonly tags?: Record<string, string>;
}

export class JobReconciliation extends pulumi.ComponentResource {
  /** Present once the reconciler's handler exists. */
  public readonly reconciler?: ScheduledFunction;
  /** Present once the redeliver handler exists. */
  public readonly redeliver?: ScheduledFunction;

  constructor(name: string, args: JobReconciliationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:JobReconciliation", name, {}, opts);
    const parent = { parent: this };
    const entries = args.entries ?? { reconciler: functionEntry("reconciler"), redeliver: functionEntry("redeliver") };
    const common = { account: args.account, logRetentionDays: args.logRetentionDays, tags: args.tags };

    if (entries.reconciler) {
      this.reconciler = new ScheduledFunction(
        `${name}-reconciler`,
        {
          entry: entries.reconciler,
          description:
            "Requeues jobs still waiting for a runner, ends idle runners of finished jobs, expires jobs past 24 hours",
          scheduleExpression: RECONCILER_SCHEDULE,
          environment: {
            ...reconcilerEnvironment({
              launch: args.launchEnvironment,
              ledgerTable: args.ledger.tableName,
              jobQueueUrl: args.jobQueue.url,
              runners: args.runners,
            }),
          },
          // Exactly what its code calls: no launch rights, since jobs due for a runner go back through the queue.
          statements: pulumi
            .all([args.location, args.jobQueue.arn, args.ledger.tableArn, args.ledger.dueIndexArn])
            .apply(([where, jobQueueArn, tableArn, dueIndexArn]): PolicyStatement[] => [
              ...reconcilerStatements({
                ...where,
                stack: args.stack,
                appPrivateKeyParameter: args.github.appPrivateKeyParameter,
                jobQueueArn,
              }),
              ...ledgerStatements("reconciler", { tableArn, dueIndexArn }),
            ]),
          // Memory buys CPU for the GitHub App's RS256 signing, as for the launcher.
          memorySize: 512,
          timeout: RECONCILER_TIMEOUT_SECONDS,
          // Two runs at once would both see the same due jobs; the ledger's conditional writes make that safe but
          // wasteful.
          reservedConcurrency: 1,
          ...common,
        },
        parent,
      );
    }

    if (entries.redeliver) {
      this.redeliver = new ScheduledFunction(
        `${name}-redeliver`,
        {
          entry: entries.redeliver,
          description: "Asks GitHub to redeliver the stack's failed workflow_job webhook deliveries",
          scheduleExpression: REDELIVER_SCHEDULE,
          environment: { ...redeliverEnvironment({ github: args.github, hookIds: args.hookIds }) },
          // It talks to GitHub only, as the App: the App's key is all it reads.
          statements: args.location.apply((where): PolicyStatement[] => [
            readGitHubAppKeyStatement(where, args.github.appPrivateKeyParameter),
          ]),
          timeout: 120,
          reservedConcurrency: 1,
          ...common,
        },
        parent,
      );
    }

    this.registerOutputs({
      reconcilerArn: this.reconciler?.lambda.arn,
      redeliverArn: this.redeliver?.lambda.arn,
    });
  }
}
