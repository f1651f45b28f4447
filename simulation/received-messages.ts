/**
 * The job messages the event source received, by message id (Pipeline["messages"]): which delivery and job each
 * carries, when it was first received and how often, so the report can tie deliveries to the jobs they enqueued and
 * the benchmark can time delivery → first receive.
 */
import type { Message } from "@aws-sdk/client-sqs";
import { decodeJobMessage } from "../contract/job";
import type { Pipeline } from "./pipeline-types";

/** The event source's `onReceive`: records each receive of `received` in `messages`. */
export function recordReceives(messages: Pipeline["messages"]): (received: Message[]) => void {
  return (received) => {
    for (const m of received) {
      const seen = messages.get(m.MessageId!);
      if (seen) seen.receives += 1;
      else {
        // A malformed message has no ids: the launcher reports it.
        const decoded = decodeJobMessage(m.Body ?? "");
        const job = decoded.ok ? decoded.value : undefined;
        messages.set(m.MessageId!, {
          deliveryId: job?.deliveryId,
          jobId: job?.jobId,
          firstReceivedAt: Date.now(),
          receives: 1,
        });
      }
    }
  };
}
