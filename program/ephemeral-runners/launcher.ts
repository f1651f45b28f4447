/**
 * The launcher: consumes the job queue and turns each queued job into one runner instance (JIT config in SSM,
 * then EC2 CreateFleet from the pool's launch template).
 */
import { FUNCTION_ENTRY } from "../../contract/names";
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { RunnersConfig } from "../config";
import type { PolicyStatement } from "../shared/iam";
import { NodeFunction } from "../shared/lambda";

export interface LauncherArgs {
  runners: RunnersConfig;
  jobQueue: aws.sqs.Queue;
  environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  statements: pulumi.Input<PolicyStatement[]>;
  logRetentionDays: number;
  tags?: Record<string, string>;
}

export interface Launcher {
  function: NodeFunction;
  eventSourceMapping: aws.lambda.EventSourceMapping;
}

export function createLauncher(name: string, args: LauncherArgs, parent: pulumi.Resource): Launcher {
  const settings = args.runners.launcher;
  const fn = new NodeFunction(
    name,
    {
      entry: FUNCTION_ENTRY.launcher,
      description: "Starts one ephemeral runner instance per queued workflow job (JIT config in SSM, EC2 CreateFleet)",
      environment: args.environment,
      statements: args.statements,
      // Memory buys CPU for the GitHub App's RS256 signing and parallel launches within a batch.
      memorySize: 512,
      timeout: settings.timeoutSeconds,
      logRetentionDays: args.logRetentionDays,
      tags: args.tags,
    },
    { parent },
  );

  const eventSourceMapping = new aws.lambda.EventSourceMapping(
    name,
    {
      eventSourceArn: args.jobQueue.arn,
      functionName: fn.function.arn,
      batchSize: settings.batchSize,
      // No batching window (none is set; FIFO queues do not support one anyway): a job is handed to the
      // launcher as soon as it is queued, with no added delay.
      // Caps the launcher's concurrency (and so its GitHub and EC2 request rate) without reserved concurrency.
      scalingConfig: { maximumConcurrency: settings.maxConcurrency },
      // One failed job returns to the queue alone; the others in the batch are not launched twice.
      functionResponseTypes: ["ReportBatchItemFailures"],
      enabled: true,
    },
    // The mapping polls with the function's role: its policy must exist first.
    { parent, dependsOn: [fn] },
  );

  return { function: fn, eventSourceMapping };
}
