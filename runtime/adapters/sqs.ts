/** Sending a job message to the FIFO job queue. */
import { SendMessageCommand, type SendMessageCommandInput, type SQSClient } from "@aws-sdk/client-sqs";
import type { JobMessage } from "../../contract/job.js";

/**
 * SendMessage input for the FIFO job queue. Jobs are independent, so each job is its own message group (no job
 * waits behind another). The deduplication id names the launch decision (`jobId-recordVersion`, contract/job.ts):
 * SQS drops the same decision sent twice within its 5-minute window (SQS Developer Guide, "Exactly-once
 * processing"), while a later relaunch of the same job is a new id. The ledger, not this window, is what keeps one
 * job to one runner. `body` is the contract's encoding of `message`.
 */
export function sendMessageInput(queueUrl: string, message: JobMessage, body: string): SendMessageCommandInput {
  return {
    QueueUrl: queueUrl,
    MessageBody: body,
    MessageGroupId: String(message.jobId),
    MessageDeduplicationId: `${message.jobId}-${message.recordVersion}`,
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
