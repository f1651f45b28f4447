/**
 * The launcher: consumes the job queue and turns each queued job into one runner instance (JIT config in SSM,
 * then EC2 CreateFleet from the pool's launch template).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FUNCTION_ENTRY } from "../../contract/names";
import type { RunnersConfig } from "../config";
import type { FunctionEnvironment } from "../shared/environment";
import type { PolicyStatement } from "../shared/iam";
import { NodeFunction } from "../shared/lambda";

/** The launcher function and the job queue's event source mapping. */
export interface LauncherArgs {
  /** Launcher settings: timeout, batch size, maximum concurrency. */
  readonly settings: RunnersConfig["launcher"];
  /** The FIFO job queue the launcher consumes. */
  readonly jobQueue: aws.sqs.Queue;
  /** The launcher's environment, typed against its settings schema. */
  readonly environment: FunctionEnvironment<"launcher">;
  /** The launcher's own least-privilege statements (logging is added by NodeFunction). */
  readonly statements: pulumi.Input<PolicyStatement[]>;
  /** Days to keep the launcher's logs. */
  readonly logRetentionDays: number;
  /**
   * Tags for every child.
   * @default no tags
   */
  readonly tags?: Record<string, string>;
}

export class Launcher extends pulumi.ComponentResource {
  public readonly function: NodeFunction;
  public readonly eventSourceMapping: aws.lambda.EventSourceMapping;

  constructor(name: string, args: LauncherArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:Launcher", name, {}, opts);
    const { settings } = args;
    this.function = new NodeFunction(
      name,
      {
        entry: FUNCTION_ENTRY.launcher,
        description:
          "Starts one ephemeral runner instance per queued workflow job (JIT config in SSM, EC2 CreateFleet)",
        environment: { ...args.environment },
        statements: args.statements,
        // Memory buys CPU for the GitHub App's RS256 signing and parallel launches within a batch.
        memorySize: 512,
        timeout: settings.timeoutSeconds,
        logRetentionDays: args.logRetentionDays,
        tags: args.tags,
      },
      { parent: this },
    );

    this.eventSourceMapping = new aws.lambda.EventSourceMapping(
      name,
      {
        eventSourceArn: args.jobQueue.arn,
        functionName: this.function.lambda.arn,
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
      { parent: this, dependsOn: [this.function] },
    );

    this.registerOutputs({ functionArn: this.function.lambda.arn, eventSourceMappingId: this.eventSourceMapping.id });
  }
}
