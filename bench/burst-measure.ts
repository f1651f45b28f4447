/**
 * The pieces of the pipeline burst (bench/pipeline.ts): latency statistics, the jobs delivered, the ways they are
 * sent (a bounded number of concurrent requests, or a steady rate), delivery → launch call latencies read from the
 * counting proxy, and the SQS emulator's own SendMessage latency (the floor under the burst).
 */
import { CAPACITY_CACHE_TTL_MS } from "../runtime/services/live-capacity";
import { ENV, TAG } from "../contract/names";
import { workflowJobDelivery, type Delivery } from "../simulation/deliveries";
import { CALLERS } from "../simulation/callers";
import type { DeliveryRecord, Pipeline } from "../simulation/pipeline";
import { measureFifoSend } from "./sqs-emulator";

/** p99 only with at least 100 samples (`n`); below that, read `max` as "max of n". */
export interface Percentiles {
  n: number;
  p50: number;
  p99?: number;
  max: number;
}

export const MIN_SAMPLES_FOR_P99 = 100;

const round1 = (n: number) => Math.round(n * 10) / 10;
export const round2 = (n: number) => Math.round(n * 100) / 100;

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { n: 0, p50: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  return {
    n: sorted.length,
    p50: round1(at(0.5)),
    ...(sorted.length >= MIN_SAMPLES_FOR_P99 ? { p99: round1(at(0.99)) } : {}),
    max: round1(sorted[sorted.length - 1]),
  };
}

export function median(values: number[]): number {
  return percentiles(values).p50;
}

/** The tail figure that may be printed: p99 with ≥ 100 samples, else the maximum (with its sample count). */
export function tail(p: Percentiles): { label: string; value: number } {
  return p.p99 === undefined ? { label: `max of ${p.n}`, value: p.max } : { label: "p99", value: p.p99 };
}

/** "p50 12 / p99 40 ms (n=200)" or "p50 12 ms, max of 40 30 ms". */
export function latencyText(p: Percentiles): string {
  if (p.n === 0) return "no samples";
  return p.p99 === undefined
    ? `p50 ${p.p50} ms, max of ${p.n} ${p.max} ms`
    : `p50 ${p.p50} / p99 ${p.p99} ms (max ${p.max}, n=${p.n})`;
}

export function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(after)) if (n - (before[key] ?? 0) > 0) out[key] = n - (before[key] ?? 0);
  return out;
}

/** Jobs spread over the stack's pools in proportion to their maxRunners (the shape of real demand). */
export function burstDeliveries(pipeline: Pipeline, jobs: number, firstJobId: number): Delivery[] {
  const pools = JSON.parse(pipeline.environments.launcher.environment[ENV.pools]) as Array<{
    name: string;
    labels: string[];
    maxRunners: number;
  }>;
  const owner = pipeline.environments.launcher.environment[ENV.githubOwner];
  const total = pools.reduce((sum, p) => sum + p.maxRunners, 0);
  const weighted = pools.flatMap((pool) =>
    Array.from({ length: Math.max(1, Math.round((pool.maxRunners / total) * 20)) }, () => pool),
  );
  return Array.from({ length: jobs }, (_, i) => {
    const pool = weighted[i % weighted.length];
    // The job exists on GitHub, so the runner launched for it takes it and ends (the deliveries are made here).
    pipeline.github.createJob({
      id: firstJobId + i,
      owner,
      repository: `service-${i % 7}`,
      labels: pool.labels,
      durationMs: 200,
      deliver: false,
    });
    return workflowJobDelivery(
      { jobId: firstJobId + i, labels: pool.labels, owner, repository: `service-${i % 7}` },
      pipeline.webhookSecret,
    );
  });
}

/** All deliveries, `concurrency` requests in flight at a time (as GitHub delivers a burst). */
export async function sendAll(
  pipeline: Pipeline,
  deliveries: Delivery[],
  concurrency: number,
): Promise<{ records: DeliveryRecord[]; roundTrips: number[]; seconds: number }> {
  const records: DeliveryRecord[] = new Array(deliveries.length);
  const roundTrips: number[] = new Array(deliveries.length);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < deliveries.length) {
        const i = next++;
        const t0 = performance.now();
        records[i] = await pipeline.deliver(deliveries[i]);
        roundTrips[i] = performance.now() - t0;
      }
    }),
  );
  return { records, roundTrips, seconds: (performance.now() - started) / 1000 };
}

/** Delivers at a steady rate (not waiting for answers before the next arrival), like GitHub outside a burst. */
export async function sendPaced(
  pipeline: Pipeline,
  deliveries: Delivery[],
  perSecond: number,
): Promise<DeliveryRecord[]> {
  const started = performance.now();
  return Promise.all(
    deliveries.map(async (delivery, i) => {
      const due = started + (i * 1000) / perSecond;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      return pipeline.deliver(delivery);
    }),
  );
}

/** Waits until the launcher's cached live-instance counts have expired, so a phase starts from a fresh count. */
export function outlastCapacityCache(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, CAPACITY_CACHE_TTL_MS + 500));
}

/**
 * Per job: delivery (arrival at the endpoint) → the first CreateFleet call (launcher or reconciler) whose answer
 * holds an instance tagged with the job. A job launched for again later (a relaunch or a duplicate) counts once,
 * at its first launch; a job that ran on a runner already online has no launch call and no sample.
 */
export function deliveryToFleetLatencies(
  pipeline: Pipeline,
  deliveries: Delivery[],
  records: DeliveryRecord[],
  instances: Array<{ InstanceId?: string; Tags?: Array<{ Key?: string; Value?: string }> }>,
): { latencies: number[]; instances: number } {
  const launchers = new Set<string>([CALLERS.launcher, CALLERS.reconciler]);
  const fleetAt = new Map<string, number>();
  for (const call of pipeline.proxy.calls)
    if (call.action === "CreateFleet" && launchers.has(call.caller))
      for (const id of call.instanceIds ?? []) fleetAt.set(id, call.at);
  const receivedAt = new Map<number, number>();
  deliveries.forEach((d, i) => {
    receivedAt.set(JSON.parse(d.body).workflow_job.id as number, records[i].receivedAt);
  });
  const firstLaunch = new Map<number, number>();
  let launched = 0;
  for (const instance of instances) {
    const jobId = Number(instance.Tags?.find((t) => t.Key === TAG.jobId)?.Value);
    const at = fleetAt.get(instance.InstanceId ?? "");
    if (at === undefined || !receivedAt.has(jobId)) continue;
    launched += 1;
    firstLaunch.set(jobId, Math.min(at, firstLaunch.get(jobId) ?? at));
  }
  const latencies = [...firstLaunch].map(([jobId, at]) => at - (receivedAt.get(jobId) ?? at));
  return { latencies, instances: launched };
}

/**
 * FIFO SendMessage latency at `concurrent` requests in flight through the pipeline's counting proxy, on a queue
 * of its own: the SQS emulator the pipeline uses (ElasticMQ with `sqsEndpoint`, else moto) under the same path.
 */
export async function measureEmulatorFloor(
  pipeline: Pipeline,
  concurrent: number,
  messages: number,
): Promise<{ sendMessageMs: Percentiles; concurrent: number; messages: number }> {
  const { samples } = await measureFifoSend(
    pipeline.proxy.url,
    pipeline.region,
    messages,
    concurrent,
    "bench-floor.fifo",
  );
  return { sendMessageMs: percentiles(samples), concurrent, messages };
}
