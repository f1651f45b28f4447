/**
 * A NodeFunction invoked by an EventBridge Scheduler schedule: the shape of every housekeeping function (reaper,
 * runner binary cache, warm pool).
 *
 * Scheduled invocations are asynchronous, so a failure would otherwise vanish after Lambda's retries: each
 * function gets its own encrypted dead-letter queue, used twice — as the function's `deadLetterConfig` (the
 * invocation ran and failed) and as the schedule target's dead-letter config (Scheduler could not invoke it).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument, serviceTrustPolicy, type PolicyStatement } from "./iam";
import type { EnvironmentVariables } from "./environment";
import { NodeFunction } from "./lambda";

/** Sending failed asynchronous invocations to the function's own dead-letter queue. */
export function deadLetterStatement(queueArn: string): PolicyStatement {
  return { Sid: "SendToOwnDeadLetterQueue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: queueArn };
}

/** A function, its schedule, and where failed runs go. */
export interface ScheduledFunctionArgs {
  /** Entry point relative to the repository root (`FUNCTION_ENTRY.reaper`). */
  readonly entry: string & pulumi.Input<string>;
  /** What the function does, shown in the console and on the schedule. */
  readonly description: string;
  /** EventBridge Scheduler expression, e.g. `rate(5 minutes)`. */
  readonly scheduleExpression: string;
  /** Environment variables (build them typed: `FunctionEnvironment`). */
  readonly environment: EnvironmentVariables;
  /** The function's own least-privilege statements (dead-letter and log statements are added). */
  readonly statements: pulumi.Input<PolicyStatement[]>;
  /**
   * Memory in MiB.
   * @default 256 (NodeFunction's)
   */
  readonly memorySize?: number;
  /**
   * Timeout in seconds.
   * @default 30 (NodeFunction's)
   */
  readonly timeout?: number;
  /**
   * Reserved concurrency. One run at a time is enough for housekeeping: overlapping runs would race on the
   * same instances.
   * @default the account's unreserved pool
   */
  readonly reservedConcurrency?: number;
  /** Account id that the Scheduler trust policy is pinned to. */
  readonly account: pulumi.Input<string>;
  /** Days to keep the function's logs. */
  readonly logRetentionDays: number;
  /**
   * Tags for every child.
   * @default no tags
   */
  readonly tags?: Record<string, string>;
}

export class ScheduledFunction extends pulumi.ComponentResource {
  /** The scheduled Lambda function. */
  public readonly lambda: aws.lambda.Function;
  /** Failed asynchronous invocations and undeliverable schedule events land here. */
  public readonly deadLetterQueue: aws.sqs.Queue;
  public readonly schedule: aws.scheduler.Schedule;
  public readonly scheduleRole: aws.iam.Role;

  constructor(name: string, args: ScheduledFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:ScheduledFunction", name, {}, opts);
    const parent = { parent: this };

    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      { sqsManagedSseEnabled: true, messageRetentionSeconds: 14 * 24 * 3600, tags: args.tags },
      parent,
    );

    const nodeFunction = new NodeFunction(
      name,
      {
        entry: args.entry,
        description: args.description,
        environment: args.environment,
        statements: pulumi
          .all([args.statements, this.deadLetterQueue.arn])
          .apply(([own, dlq]) => [...own, deadLetterStatement(dlq)]),
        memorySize: args.memorySize,
        timeout: args.timeout,
        reservedConcurrency: args.reservedConcurrency,
        deadLetterTargetArn: this.deadLetterQueue.arn,
        logRetentionDays: args.logRetentionDays,
        tags: args.tags,
      },
      parent,
    );
    this.lambda = nodeFunction.lambda;

    // No Lambda-side retries: the next scheduled run does the same work with fresher data, and a retry of a
    // slow failure would overlap it. A failed run goes straight to the dead-letter queue.
    new aws.lambda.FunctionEventInvokeConfig(
      name,
      { functionName: this.lambda.name, maximumRetryAttempts: 0, maximumEventAgeInSeconds: 3600 },
      parent,
    );

    this.scheduleRole = new aws.iam.Role(
      `${name}-schedule`,
      {
        assumeRolePolicy: serviceTrustPolicy("scheduler.amazonaws.com", args.account),
        description: `Invokes ${name} on its schedule`,
        tags: args.tags,
      },
      parent,
    );
    // Scheduler invokes the target and writes undeliverable events to the dead-letter queue with this role.
    const schedulePolicy = new aws.iam.RolePolicy(
      `${name}-schedule`,
      {
        role: this.scheduleRole.id,
        policy: policyDocument([
          {
            Sid: "InvokeTarget",
            Effect: "Allow",
            Action: ["lambda:InvokeFunction"],
            Resource: this.lambda.arn,
          },
          {
            Sid: "SendUndeliverableEvents",
            Effect: "Allow",
            Action: ["sqs:SendMessage"],
            Resource: this.deadLetterQueue.arn,
          },
        ]),
      },
      parent,
    );

    this.schedule = new aws.scheduler.Schedule(
      name,
      {
        description: args.description.slice(0, 512),
        scheduleExpression: args.scheduleExpression,
        // Housekeeping runs on time: a flexible window would delay the reaper by up to the window.
        flexibleTimeWindow: { mode: "OFF" },
        target: {
          arn: this.lambda.arn,
          roleArn: this.scheduleRole.arn,
          retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 300 },
          deadLetterConfig: { arn: this.deadLetterQueue.arn },
        },
      },
      { parent: this, dependsOn: [schedulePolicy] },
    );

    this.registerOutputs({ functionArn: this.lambda.arn, deadLetterQueueArn: this.deadLetterQueue.arn });
  }
}
