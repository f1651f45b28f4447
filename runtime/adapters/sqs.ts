/** Sending a job message to the FIFO job queue. */
import { SendMessageCommand, type SendMessageCommandInput, type SQSClient } from "@aws-sdk/client-sqs";
import type { JobMessage } from "../../contract/job.js";

/**
 * SendMessage input for the FIFO job queue. Jobs are independent, so each job is its own message group (no job
 * waits behind another); the delivery id is the deduplication id, so SQS drops a redelivery of the same delivery
 * within its 5-minute deduplication window. `body` is the contract's encoding of `message`.
 */
export function sendMessageInput(queueUrl: string, message: JobMessage, body: string): SendMessageCommandInput {
  return {
    QueueUrl: queueUrl,
    MessageBody: body,
    MessageGroupId: String(message.jobId),
    MessageDeduplicationId: message.deliveryId,
  };
}

export async function sendJobMessage(
  sqs: SQSClient,
  queueUrl: string,
  message: JobMessage,
  body: string,
): Promise<void> {
  await sqs.send(new SendMessageCommand(sendMessageInput(queueUrl, message, body)));
}
