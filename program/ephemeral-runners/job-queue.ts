/**
 * The FIFO job queue between the webhook and the launcher, its dead-letter queue and the alarm on it.
 *
 * With the job ledger, waiting does not happen on the queue: a launcher that finds its pool at `maxRunners` (or
 * whose launch fails and will be retried with backoff) records that in the ledger and acknowledges the message, and
 * the reconciler relaunches the job when it is due. A job can so wait as long as GitHub keeps it queued without
 * using up receives. `maxReceiveCount` and the dead-letter queue remain for messages that can never succeed — a
 * body the launcher cannot decode, a job it cannot record because the ledger refuses it — so they stop being retried
 * and someone looks at them (the alarm).
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { RunnersConfig } from "../config";

/** SQS allows at most 14 days of retention: the dead-letter queue keeps failed jobs that long for inspection. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 60 * 60;

/**
 * GitHub fails a job that no runner picks up within 24 hours; a job message older than that could only start a
 * runner nobody needs.
 */
export const JOB_RETENTION_SECONDS = 24 * 60 * 60;

export interface JobQueues {
  jobQueue: aws.sqs.Queue;
  deadLetterQueue: aws.sqs.Queue;
  deadLetterAlarm: aws.cloudwatch.MetricAlarm;
}

/** The queues and the alarm, created as children of `parent` (the webhook ingress) with names from `name`. */
export function createJobQueues(
  name: string,
  args: { stack: string; runners: RunnersConfig; alarmTopicArn?: string; tags?: Record<string, string> },
  parent: pulumi.Resource,
): JobQueues {
  const { stack, runners, tags } = args;
  // Queue names are explicit (FIFO names must end in .fifo); 66 + "-jobs-dlq.fifo" stays within SQS's 80.
  const queueBase = `${name}-${stack}`.slice(0, 66);
  const replaced = { parent, deleteBeforeReplace: true };

  const deadLetterQueue = new aws.sqs.Queue(
    `${name}-jobs-dlq`,
    {
      name: `${queueBase}-jobs-dlq.fifo`,
      fifoQueue: true,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
      tags,
    },
    replaced,
  );

  const jobQueue = new aws.sqs.Queue(
    `${name}-jobs`,
    {
      name: `${queueBase}-jobs.fifo`,
      fifoQueue: true,
      contentBasedDeduplication: false,
      deduplicationScope: "messageGroup",
      fifoThroughputLimit: "perMessageGroupId",
      sqsManagedSseEnabled: true,
      delaySeconds: 0,
      // AWS's advice for Lambda event sources: six times the consumer's timeout, so retries of a batch never
      // see the message reappear while the first attempt still runs.
      visibilityTimeoutSeconds: 6 * runners.launcher.timeoutSeconds,
      messageRetentionSeconds: JOB_RETENTION_SECONDS,
      // Counts failures of handling a message, not time spent waiting for capacity (see the module comment).
      redrivePolicy: deadLetterQueue.arn.apply((deadLetterTargetArn) =>
        JSON.stringify({ deadLetterTargetArn, maxReceiveCount: runners.launcher.maxReceiveCount }),
      ),
      tags,
    },
    replaced,
  );

  const alarmActions = args.alarmTopicArn ? [args.alarmTopicArn] : [];
  const deadLetterAlarm = new aws.cloudwatch.MetricAlarm(
    `${name}-jobs-dlq-not-empty`,
    {
      alarmDescription: `Job messages of stack ${stack} failed ${runners.launcher.maxReceiveCount} times in the launcher (not capacity waits, which the ledger holds) and are in the dead-letter queue: look at the launcher's errors.`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: deadLetterQueue.name },
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      alarmActions,
      okActions: alarmActions,
      tags,
    },
    { parent },
  );

  return { jobQueue, deadLetterQueue, deadLetterAlarm };
}
