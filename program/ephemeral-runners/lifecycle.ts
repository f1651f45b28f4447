/**
 * Scheduled housekeeping functions (reaper, runner binary cache, warm pool), each one `ScheduledFunction`:
 * a NodeFunction invoked by an EventBridge Scheduler schedule.
 *
 * Scheduled invocations are asynchronous, so a failure would otherwise vanish after Lambda's retries: each
 * function gets its own encrypted dead-letter queue, used twice — as the function's `deadLetterConfig` (the
 * invocation ran and failed) and as the schedule target's dead-letter config (Scheduler could not invoke it).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument, serviceTrustPolicy, type PolicyStatement } from "../shared/iam";
import { NodeFunction } from "../shared/lambda";
import { deadLetterStatement } from "./policies";

export interface ScheduledFunctionArgs {
  /** Entry point relative to the repository root (`FUNCTION_ENTRY.reaper`). */
  entry: string & pulumi.Input<string>;
  description: string;
  /** EventBridge Scheduler expression, e.g. `rate(5 minutes)`. */
  scheduleExpression: string;
  environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** The function's own least-privilege statements (dead-letter and log statements are added). */
  statements: pulumi.Input<PolicyStatement[]>;
  memorySize?: number;
  timeout?: number;
  /** One run at a time is enough for housekeeping: overlapping runs would race on the same instances. */
  reservedConcurrency?: number;
  /** Account id that the Scheduler trust policy is pinned to. */
  account: pulumi.Input<string>;
  logRetentionDays: number;
  tags?: Record<string, string>;
}

export class ScheduledFunction extends pulumi.ComponentResource {
  public readonly function: NodeFunction;
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

    this.function = new NodeFunction(
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

    // No Lambda-side retries: the next scheduled run does the same work with fresher data, and a retry of a
    // slow failure would overlap it. A failed run goes straight to the dead-letter queue.
    new aws.lambda.FunctionEventInvokeConfig(
      name,
      { functionName: this.function.function.name, maximumRetryAttempts: 0, maximumEventAgeInSeconds: 3600 },
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
            Resource: this.function.function.arn,
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
          arn: this.function.function.arn,
          roleArn: this.scheduleRole.arn,
          retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 300 },
          deadLetterConfig: { arn: this.deadLetterQueue.arn },
        },
      },
      { parent: this, dependsOn: [schedulePolicy] },
    );

    this.registerOutputs({ functionArn: this.function.function.arn, deadLetterQueueArn: this.deadLetterQueue.arn });
  }
}
