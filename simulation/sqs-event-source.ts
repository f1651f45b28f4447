/**
 * Lambda's SQS event source for the launcher: a few long-polling receivers take up to the mapping's batch size
 * with all system attributes, invoke the function with the SQS event (up to the mapping's maximum concurrency at
 * once; a poller waits for a free slot before it receives more), delete the messages not in `batchItemFailures`
 * and leave the failures on the queue. A failed invocation returns the whole batch.
 *
 * Simulation shortcut: a returned message is made visible again after `retryVisibilitySeconds` instead of the
 * queue's visibility timeout (minutes), so retries and the way to the dead-letter queue take seconds.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { CALLERS } from "./callers";
import type { InvocationResult } from "./functions";

/** Long-polling receivers (invocations run concurrently behind them). */
const POLLERS = 2;

export interface BatchRecord {
  size: number;
  failures: number;
  handlerMs: number;
  at: number;
}

/** The Lambda SQS event for received messages (what the event source mapping passes to the function). */
export function sqsEvent(messages: Message[], queueArn: string, region: string): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body ?? "",
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1",
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: m.Attributes?.SenderId ?? CALLERS.webhook,
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        ...(m.Attributes?.MessageGroupId ? { MessageGroupId: m.Attributes.MessageGroupId } : {}),
        ...(m.Attributes?.MessageDeduplicationId
          ? { MessageDeduplicationId: m.Attributes.MessageDeduplicationId }
          : {}),
        ...(m.Attributes?.SequenceNumber ? { SequenceNumber: m.Attributes.SequenceNumber } : {}),
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? "",
      eventSource: "aws:sqs",
      eventSourceARN: queueArn,
      awsRegion: region,
    })),
  };
}

export interface SqsEventSourceOptions {
  sqs: SQSClient;
  queue: { url: string; arn: string };
  region: string;
  batchSize: number;
  maximumConcurrency: number;
  retryVisibilitySeconds: number;
  invoke(event: SQSEvent): Promise<InvocationResult<SQSBatchResponse>>;
  /** Each received batch, before the invocation. */
  onReceive(messages: Message[]): void;
  log(line: string): void;
}

export interface SqsEventSource {
  batches: BatchRecord[];
  /** Batches received and not yet settled. */
  inFlight(): number;
  stop(): Promise<void>;
}

export function startSqsEventSource(options: SqsEventSourceOptions): SqsEventSource {
  const { sqs, queue, log } = options;
  const batches: BatchRecord[] = [];
  let running = true;
  let slotsTaken = 0;
  let batchesInFlight = 0;
  const slotFreed: Array<() => void> = [];
  const freeSlot = () => {
    slotsTaken -= 1;
    slotFreed.shift()?.();
  };

  async function settle(received: Message[], failed: Set<string>): Promise<void> {
    const done = received.filter((m) => !failed.has(m.MessageId!));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
    const returned = received.filter((m) => failed.has(m.MessageId!));
    if (returned.length > 0) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queue.url,
          Entries: returned.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle!,
            VisibilityTimeout: options.retryVisibilitySeconds,
          })),
        }),
      );
    }
  }

  async function handleBatch(received: Message[]): Promise<void> {
    try {
      options.onReceive(received);
      let failed = new Set(received.map((m) => m.MessageId!));
      let handlerMs = 0;
      try {
        const invocation = await options.invoke(sqsEvent(received, queue.arn, options.region));
        handlerMs = invocation.handlerMs;
        failed = new Set((invocation.result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch (error) {
        log(`  ! launcher invocation failed, the whole batch comes back: ${(error as Error).message}`);
      }
      batches.push({ size: received.length, failures: failed.size, handlerMs, at: Date.now() });
      log(
        `  launcher: batch of ${received.length} → ${received.length - failed.size} launched, ${failed.size} returned to the queue (${handlerMs.toFixed(0)} ms)`,
      );
      await settle(received, failed);
    } catch (error) {
      log(`  ! event source: ${(error as Error).message}`);
    } finally {
      batchesInFlight -= 1;
      freeSlot();
    }
  }

  async function poll(): Promise<void> {
    while (running) {
      while (running && slotsTaken >= options.maximumConcurrency)
        await new Promise<void>((resolve) => slotFreed.push(resolve));
      if (!running) return;
      slotsTaken += 1;
      let received: Message[] = [];
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: Math.min(10, options.batchSize),
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
        );
        received = out.Messages ?? [];
      } catch (error) {
        if (running) log(`  ! event source: ReceiveMessage failed: ${(error as Error).message}`);
      }
      if (received.length === 0 || !running) {
        freeSlot();
        continue;
      }
      batchesInFlight += 1;
      void handleBatch(received);
    }
  }

  const pollers = Array.from({ length: POLLERS }, () => poll());
  log(
    `launcher event source: ${POLLERS} pollers, up to ${options.maximumConcurrency} concurrent invocations, batch size ${options.batchSize}; returned messages visible again after ${options.retryVisibilitySeconds} s`,
  );
  return {
    batches,
    inFlight: () => batchesInFlight,
    async stop() {
      running = false;
      for (const wake of slotFreed.splice(0)) wake();
      await Promise.allSettled(pollers);
      const deadline = Date.now() + 10_000;
      while (batchesInFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    },
  };
}
