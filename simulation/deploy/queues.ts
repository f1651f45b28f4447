/** The job queue and its dead-letter queue, created in moto from their recorded aws.sqs.Queue inputs. */
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { PreviewResource } from "../../tools/preview/engine";
import { type StackSnapshot, resourcesOfType } from "../stack";
import { queueNameFromArn, queueNameFromUrl, str, tagList } from "./recorded";

export interface DeployedQueue {
  name: string;
  url: string;
  arn: string;
  /** The URL the stack would give it in AWS (what the functions' recorded environment holds). */
  recordedUrl: string;
  attributes: Record<string, string>;
}

/** SQS attributes for CreateQueue from a recorded aws.sqs.Queue (redrive policy added by the caller). */
export function queueAttributes(inputs: Record<string, unknown>): Record<string, string> {
  const attributes: Record<string, string> = {};
  const map: Array<[string, string]> = [
    ["fifoQueue", "FifoQueue"],
    ["contentBasedDeduplication", "ContentBasedDeduplication"],
    ["deduplicationScope", "DeduplicationScope"],
    ["fifoThroughputLimit", "FifoThroughputLimit"],
    ["delaySeconds", "DelaySeconds"],
    ["messageRetentionSeconds", "MessageRetentionPeriod"],
    ["visibilityTimeoutSeconds", "VisibilityTimeout"],
    ["receiveWaitTimeSeconds", "ReceiveMessageWaitTimeSeconds"],
    ["maxMessageSize", "MaximumMessageSize"],
    ["sqsManagedSseEnabled", "SqsManagedSseEnabled"],
    ["kmsMasterKeyId", "KmsMasterKeyId"],
  ];
  for (const [input, attribute] of map) {
    const value = str(inputs[input]);
    if (value !== undefined) attributes[attribute] = value;
  }
  // SQS refuses FifoQueue=false on a standard queue and the FIFO-only attributes on it.
  if (attributes.FifoQueue !== "true") {
    for (const fifoOnly of ["FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"])
      delete attributes[fifoOnly];
  }
  return attributes;
}

async function createQueue(
  sqs: SQSClient,
  resource: PreviewResource,
  recordedUrl: string,
  extra: Record<string, string>,
): Promise<DeployedQueue> {
  const name = str(resource.inputs.name) ?? resource.name;
  const attributes = { ...queueAttributes(resource.inputs), ...extra };
  const created = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: attributes,
      tags: Object.fromEntries(tagList(resource.inputs.tags).map((t) => [t.Key!, t.Value!])),
    }),
  );
  const url = created.QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] })))
    .Attributes!.QueueArn!;
  return { name, url, arn, recordedUrl, attributes };
}

/** The queue `recordedQueueUrl` names, and the dead-letter queue of its redrive policy. */
export async function deployQueues(
  snapshot: StackSnapshot,
  sqs: SQSClient,
  recordedQueueUrl: string,
  steps: string[],
): Promise<{ jobQueue: DeployedQueue; deadLetterQueue: DeployedQueue }> {
  const queues = resourcesOfType(snapshot, "aws:sqs/queue:Queue");
  const jobQueueResource = queues.find((q) => str(q.inputs.name) === queueNameFromUrl(recordedQueueUrl));
  if (!jobQueueResource)
    throw new Error(`no aws:sqs/queue:Queue named ${queueNameFromUrl(recordedQueueUrl)} in stack ${snapshot.stack}`);
  const redrive = JSON.parse(String(jobQueueResource.inputs.redrivePolicy ?? "{}")) as {
    deadLetterTargetArn?: string;
    maxReceiveCount?: number;
  };
  if (!redrive.deadLetterTargetArn) throw new Error(`job queue ${jobQueueResource.name} has no redrive policy`);
  const dlqName = queueNameFromArn(redrive.deadLetterTargetArn);
  const dlqResource = queues.find((q) => str(q.inputs.name) === dlqName);
  if (!dlqResource) throw new Error(`no aws:sqs/queue:Queue named ${dlqName} (the job queue's dead-letter queue)`);
  const deadLetterQueue = await createQueue(sqs, dlqResource, recordedQueueUrl.replace(/[^/]+$/, dlqName), {});
  steps.push(`queue ${deadLetterQueue.name} (dead-letter queue)`);
  const jobQueue = await createQueue(sqs, jobQueueResource, recordedQueueUrl, {
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetterQueue.arn,
      maxReceiveCount: redrive.maxReceiveCount,
    }),
  });
  const a = jobQueue.attributes;
  steps.push(
    `queue ${jobQueue.name}: FIFO=${a.FifoQueue ?? "false"}, SSE=${a.SqsManagedSseEnabled ?? "false"}, ` +
      `delay ${a.DelaySeconds ?? "0"} s, visibility ${a.VisibilityTimeout} s, redrive after ${redrive.maxReceiveCount} receives`,
  );
  return { jobQueue, deadLetterQueue };
}
