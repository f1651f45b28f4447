/** Attribution of queue messages and instances to deliveries, and the tables the CLI prints. */
import type { Instance } from "@aws-sdk/client-ec2";
import { TAG } from "../contract/names";
import type { DeliveryRecord, Pipeline } from "./pipeline";

export interface DeliveryOutcome {
  name: string | null;
  delivery: string | null;
  status: number | "invalid";
  /** Queue messages this delivery produced (JobMessage.deliveryId of the messages the event source received). */
  enqueued: number;
  /** Instances launched for it (instances whose job-id tag is a job of those messages). */
  instances: number;
}

/** Outcome of each delivery record (in the order given). Call after `waitForIdle`. */
export function attributeDeliveries(
  pipeline: Pick<Pipeline, "messages">,
  records: DeliveryRecord[],
  instances: Instance[],
): DeliveryOutcome[] {
  const instancesByJob = new Map<number, Set<string>>();
  for (const instance of instances) {
    const jobId = Number(instance.Tags?.find((t) => t.Key === TAG.jobId)?.Value);
    if (!Number.isInteger(jobId) || !instance.InstanceId) continue;
    const set = instancesByJob.get(jobId) ?? new Set<string>();
    set.add(instance.InstanceId);
    instancesByJob.set(jobId, set);
  }
  // A redelivery carries the same delivery id: only its first record is credited with the message.
  const credited = new Set<string>();
  return records.map((record) => {
    const id = record.deliveryId;
    let enqueued = 0;
    const jobs = new Set<number>();
    if (id !== undefined && !credited.has(id)) {
      credited.add(id);
      for (const message of pipeline.messages.values()) {
        if (message.deliveryId !== id) continue;
        enqueued += 1;
        if (message.jobId !== undefined) jobs.add(message.jobId);
      }
    }
    const launched = new Set<string>();
    for (const job of jobs) for (const instanceId of instancesByJob.get(job) ?? []) launched.add(instanceId);
    return {
      name: record.name ?? null,
      delivery: id ?? null,
      status: record.status,
      enqueued,
      instances: launched.size,
    };
  });
}

/** A plain text table with a header row. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

/** Non-zero GitHub calls per route. */
export function gitHubCallRows(calls: Record<string, number>): Array<[string, number]> {
  return Object.entries(calls)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
}
