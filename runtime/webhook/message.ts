/** The job queue message and how it is sent (FIFO: one message group per job, deduplicated by delivery). */
import type { SendMessageCommandInput } from "@aws-sdk/client-sqs";
import type { RuntimePool } from "../../contract/pool";
import type { JobMessage } from "../../contract/job";
import type { QueuedJob } from "./outcome";

export function buildJobMessage(
  job: QueuedJob,
  pool: Pick<RuntimePool, "name">,
  deliveryId: string,
  now: Date,
): JobMessage {
  return {
    version: 1,
    deliveryId,
    pool: pool.name,
    jobId: job.jobId,
    runId: job.runId,
    runAttempt: job.runAttempt,
    repository: job.repository,
    owner: job.owner,
    ...(job.installationId === undefined ? {} : { installationId: job.installationId }),
    labels: [...job.labels],
    enqueuedAt: now.toISOString(),
  };
}

/**
 * SendMessage input for the FIFO job queue. Jobs are independent, so each job is its own message group (no job
 * waits behind another); the delivery id is the deduplication id, so SQS drops a redelivery of the same delivery
 * within its 5-minute deduplication window.
 */
export function sendMessageInput(queueUrl: string, message: JobMessage): SendMessageCommandInput {
  return {
    QueueUrl: queueUrl,
    MessageBody: JSON.stringify(message),
    MessageGroupId: String(message.jobId),
    MessageDeduplicationId: message.deliveryId,
  };
}
