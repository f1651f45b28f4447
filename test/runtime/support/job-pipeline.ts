/**
 * The job pipeline on moto, without the handlers: the webhook's record path (services/record-job.ts) sending to a
 * real SQS FIFO job queue, and the launcher's batch (services/launch-jobs.ts) fed with what that queue hands out.
 * The launcher world (support/launcher-world.ts) provides the VPC, pools and launch templates.
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";
import { decodeJobMessage, type JobMessage } from "../../../contract/job.js";
import { ENV } from "../../../contract/names.js";
import { readSettings } from "../../../contract/settings.js";
import type { Ledger } from "../../../runtime/adapters/ledger.js";
import { sendJobMessage } from "../../../runtime/adapters/sqs.js";
import type { JobAction, JobDelivery } from "../../../runtime/core/jobs/lifecycle.js";
import type { BatchRecord } from "../../../runtime/core/launch/plan.js";
import { launchEnvironment } from "../../../runtime/handlers/launcher.js";
import { JobBatch } from "../../../runtime/services/launch-jobs.js";
import { LiveCapacity } from "../../../runtime/services/live-capacity.js";
import type { RecordDeps } from "../../../runtime/services/record-job.js";
import { testGitHubApp } from "../github/fixture.js";
import { CONTEXT } from "./launcher-world.js";

export const OWNER = "octo-org";
export const POOL = "linux-x64";
/** The launcher world's pools (support/launcher-world.ts), as the webhook knows them. */
export const POOLS = [
  { name: "linux-x64", labels: ["self-hosted", "linux", "x64"] },
  { name: "linux-arm", labels: ["self-hosted", "linux", "arm64"] },
];
const silent = { info() {}, warn() {}, error() {} };

/** A `workflow_job` delivery of `jobId` for the linux-x64 pool, as the webhook parses one. */
export function delivery(action: JobAction, jobId: number, extra: Partial<JobDelivery> = {}): JobDelivery {
  return {
    action,
    status: action,
    job: {
      jobId,
      runId: jobId * 10,
      runAttempt: 1,
      repository: `${OWNER}/app`,
      owner: OWNER,
      installationId: 7,
      labels: ["self-hosted", "linux", "x64"],
    },
    pool: POOL,
    createdAt: new Date(Date.now() - 2_000).toISOString(),
    ...extra,
  };
}

export async function createJobQueue(sqs: SQSClient): Promise<string> {
  const queue = await sqs.send(
    new CreateQueueCommand({ QueueName: "jobs.fifo", Attributes: { FifoQueue: "true", VisibilityTimeout: "60" } }),
  );
  return queue.QueueUrl as string;
}

/** The webhook's dependencies: the ledger, and the job queue through the production adapter. */
export function recordDeps(ledger: Ledger, sqs: SQSClient, queueUrl: string): RecordDeps {
  return {
    ledger,
    enqueue: (message, body) => sendJobMessage(sqs, queueUrl, message, body),
    pools: POOLS,
    now: () => new Date(),
  };
}

export interface Received extends BatchRecord {
  message: JobMessage;
  deduplicationId?: string;
}

/** Every message the queue hands out now (received, so invisible to the next call), oldest first. */
export async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<Received[]> {
  const received: Received[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ["All"] }),
    );
    if (Messages.length === 0) return received;
    for (const m of Messages) {
      const decoded = decodeJobMessage(m.Body ?? "");
      if (!decoded.ok) throw new Error(`the queue holds a message the launcher cannot decode: ${decoded.reason}`);
      received.push({
        messageId: m.MessageId as string,
        groupId: m.Attributes?.MessageGroupId ?? "",
        body: m.Body as string,
        message: decoded.value,
        deduplicationId: m.Attributes?.MessageDeduplicationId,
      });
      // Acknowledged as the launcher's handler would be: the tests decide what the launcher does with it.
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

/** A copy of `record` under a new message id: SQS handing the same launch request out again. */
export function again(record: BatchRecord, suffix: string): BatchRecord {
  return { ...record, messageId: `${record.messageId}-${suffix}` };
}

/** One launcher invocation's batch, as a fresh container builds it from the environment. */
export function launcherBatch(
  records: readonly BatchRecord[],
  ledger: Ledger,
  githubUrl: string,
  capacityOf: (ec2: EC2Client, stack: string) => LiveCapacity = (ec2, stack) => new LiveCapacity(ec2, stack),
): JobBatch {
  const settings = readSettings("launcher", process.env);
  const ec2 = new EC2Client({});
  return new JobBatch(records, launchEnvironment(settings, CONTEXT.invokedFunctionArn), {
    ec2,
    ssm: new SSMClient({}),
    github: testGitHubApp(githubUrl),
    capacity: capacityOf(ec2, settings[ENV.stack]),
    ledger,
    log: silent,
    now: () => new Date(),
  });
}

/** Every message's outcome in `batch` (rejects for a message that can never succeed: none of these tests send one). */
export function launchAll(batch: JobBatch, records: readonly BatchRecord[]) {
  return Promise.all(records.map((r) => batch.launch(r.messageId)));
}
