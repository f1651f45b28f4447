/**
 * Burst benchmark of the local pipeline (simulation/pipeline.ts): N queued jobs delivered to the webhook
 * endpoint at once (a bounded number of concurrent requests, as GitHub delivers), through the real webhook and
 * launcher, measured at the endpoint, the counting proxy and the GitHub stand-in. Also the webhook's cold start in a
 * fresh Node process. Not a test.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { CreateQueueCommand, DeleteQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CAPACITY_CACHE_TTL_MS } from "../runtime/services/live-capacity";
import { ENV, TAG } from "../contract/names";
import { signBody, workflowJobDelivery, type Delivery } from "../simulation/deliveries";
import { CALLERS } from "../simulation/callers";
import { startPipeline, type DeliveryRecord, type Pipeline } from "../simulation/pipeline";
import { SIMULATED_FUNCTIONS } from "../simulation/stack";

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface BurstResult {
  stack: string;
  jobs: number;
  launched: number;
  webhook: {
    handlerMs: Percentiles;
    roundTripMs: Percentiles;
    requestsPerSecond: number;
    concurrentRequests: number;
    statuses: Record<string, number>;
  };
  deliveryToCreateFleetMs: Percentiles & { jobs: number };
  github: {
    callsPerJob: number;
    jitConfigPerJob: number;
    tokenMints: number;
    byRoute: Record<string, number>;
    launcherContainers: number;
  };
  /**
   * A launch batch is one pool's share of one SQS batch: one `launchRunners` call, one CreateFleet (plus an
   * on-demand fallback fleet only after spot capacity errors, which moto does not produce).
   */
  ec2: {
    launchBatches: number;
    sqsBatches: number;
    callsPerLaunchBatch: number;
    createFleetPerLaunchBatch: number;
    instancesPerCreateFleet: number;
    byAction: Record<string, number>;
    perLaunchBatch: Record<string, number>;
  };
  launcher: { invocations: number; coldStarts: number; returnedMessages: number };
  /**
   * The same pipeline at a steady arrival rate the local emulator can sustain: the latency the design adds, without
   * the queueing inside moto that a burst causes (moto serves about 30 requests a second on this machine).
   */
  paced: {
    jobs: number;
    perSecond: number;
    launched: number;
    deliveryToCreateFleetMs: Percentiles;
    handlerMs: Percentiles;
  };
  /** moto's own FIFO SendMessage latency at the burst's concurrency, through the same proxy: the floor under the burst. */
  emulatorFloor: { sendMessageMs: Percentiles; concurrent: number; messages: number };
  queue: { delaySeconds: number; maximumBatchingWindowInSeconds: number; zeroAddedDelay: boolean };
  bundle: { bytes: number; gzipBytes: number };
  coldStartMs: { moduleLoad: number; firstRequest: number; total: number; runs: number };
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: NaN, p99: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  const round = (n: number) => Math.round(n * 10) / 10;
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted[sorted.length - 1]) };
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(after)) if (n - (before[key] ?? 0) > 0) out[key] = n - (before[key] ?? 0);
  return out;
}

/** Jobs spread over the stack's pools in proportion to their maxRunners (the shape of real demand). */
function burstDeliveries(pipeline: Pipeline, jobs: number, firstJobId: number): Delivery[] {
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

async function sendAll(
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

/**
 * The webhook's cold start in a fresh Node process: the bundle written as index.mjs, then module load (import)
 * and the first request (signed `ping`, which reads the secret from SSM) timed inside that process.
 */
async function measureColdStart(pipeline: Pipeline, runs: number): Promise<BurstResult["coldStartMs"]> {
  const dir = mkdtempSync(path.join(tmpdir(), "cirunners-coldstart-"));
  try {
    writeFileSync(path.join(dir, "index.mjs"), pipeline.snapshot.bundles[SIMULATED_FUNCTIONS.webhook.entry]);
    const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
    const event = {
      version: "2.0",
      routeKey: "POST /github/webhook",
      rawPath: "/github/webhook",
      rawQueryString: "",
      headers: {
        "content-type": "application/json",
        "x-github-event": "ping",
        "x-github-delivery": "cold-start",
        "x-hub-signature-256": signBody(pipeline.webhookSecret, body),
      },
      requestContext: { http: { method: "POST", path: "/github/webhook" } },
      body,
      isBase64Encoded: false,
    };
    writeFileSync(
      path.join(dir, "measure.mjs"),
      `const t0 = performance.now();
const { handler } = await import("./index.mjs");
const t1 = performance.now();
const result = await handler(${JSON.stringify(event)}, { awsRequestId: "cold", functionName: "webhook", invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:webhook", getRemainingTimeInMillis: () => 5000 });
const t2 = performance.now();
process.stderr.write(JSON.stringify({ status: result.statusCode, load: t1 - t0, first: t2 - t1 }) + "\\n", () => process.exit(0));
`,
    );
    const env = {
      ...pipeline.environments.webhook.environment,
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      AWS_ENDPOINT_URL: pipeline.proxy.url,
      AWS_ACCESS_KEY_ID: CALLERS.simulation,
      AWS_SECRET_ACCESS_KEY: "simulation",
      AWS_REGION: pipeline.region,
      POWERTOOLS_LOG_LEVEL: "SILENT",
    };
    const samples: Array<{ load: number; first: number }> = [];
    for (let i = 0; i < runs; i++) {
      // Asynchronously: the child talks to the proxy served by this process's event loop.
      const run = await promisify(execFile)(process.execPath, [path.join(dir, "measure.mjs")], {
        cwd: dir,
        env,
        encoding: "utf8",
        timeout: 30_000,
      });
      const line = run.stderr
        .trim()
        .split("\n")
        .reverse()
        .find((l) => l.startsWith("{"));
      if (!line) throw new Error(`cold start run printed no measurement: ${run.stderr}${run.stdout}`);
      const parsed = JSON.parse(line) as { status: number; load: number; first: number };
      if (parsed.status !== 200) throw new Error(`cold start ping answered ${parsed.status}`);
      samples.push(parsed);
    }
    const median = (values: number[]) => percentiles(values).p50;
    const load = median(samples.map((s) => s.load));
    const first = median(samples.map((s) => s.first));
    return { moduleLoad: load, firstRequest: first, total: Math.round((load + first) * 10) / 10, runs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface BurstOptions {
  stack: string;
  jobs: number;
  /** Jobs of the paced phase (default 40) and their arrival rate per second (default 2). */
  pacedJobs?: number;
  pacedPerSecond?: number;
  /** Concurrent webhook requests (default 16). */
  concurrentRequests?: number;
  log?: (line: string) => void;
}

/** Waits until the launcher's cached live-instance counts have expired, so a phase starts from a fresh count. */
function outlastCapacityCache(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, CAPACITY_CACHE_TTL_MS + 500));
}

/** delivery → the CreateFleet call whose answer holds the job's instance, for the given deliveries. */
function deliveryToFleetLatencies(
  pipeline: Pipeline,
  deliveries: Delivery[],
  records: DeliveryRecord[],
  instances: Array<{ InstanceId?: string; Tags?: Array<{ Key?: string; Value?: string }> }>,
): number[] {
  const fleetAt = new Map<string, number>();
  for (const call of pipeline.fleetCalls()) for (const id of call.instanceIds ?? []) fleetAt.set(id, call.at);
  const receivedAt = new Map<number, number>();
  deliveries.forEach((d, i) => {
    receivedAt.set(JSON.parse(d.body).workflow_job.id as number, records[i].receivedAt);
  });
  const latencies: number[] = [];
  for (const instance of instances) {
    const jobId = Number(instance.Tags?.find((t) => t.Key === TAG.jobId)?.Value);
    const at = fleetAt.get(instance.InstanceId ?? "");
    const delivered = receivedAt.get(jobId);
    if (at !== undefined && delivered !== undefined) latencies.push(at - delivered);
  }
  return latencies;
}

/** Delivers at a steady rate (not waiting for answers before the next arrival), like GitHub outside a burst. */
async function sendPaced(pipeline: Pipeline, deliveries: Delivery[], perSecond: number): Promise<DeliveryRecord[]> {
  const started = performance.now();
  return Promise.all(
    deliveries.map(async (delivery, i) => {
      const due = started + (i * 1000) / perSecond;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      return pipeline.deliver(delivery);
    }),
  );
}

/** moto's FIFO SendMessage latency at `concurrent` requests in flight, on a queue of its own. */
async function measureEmulatorFloor(
  pipeline: Pipeline,
  concurrent: number,
  messages: number,
): Promise<BurstResult["emulatorFloor"]> {
  const sqs = new SQSClient({
    endpoint: pipeline.proxy.url,
    region: pipeline.region,
    credentials: { accessKeyId: "bench-floor", secretAccessKey: "bench" },
  });
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: "bench-floor.fifo",
      Attributes: { FifoQueue: "true", DeduplicationScope: "messageGroup", FifoThroughputLimit: "perMessageGroupId" },
    }),
  );
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrent }, async () => {
      while (next < messages) {
        const i = next++;
        const t0 = performance.now();
        await sqs.send(
          new SendMessageCommand({
            QueueUrl,
            MessageBody: "x".repeat(600),
            MessageGroupId: String(i),
            MessageDeduplicationId: `floor-${i}`,
          }),
        );
        latencies.push(performance.now() - t0);
      }
    }),
  );
  await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  sqs.destroy();
  return { sendMessageMs: percentiles(latencies), concurrent, messages };
}

export async function benchPipelineBurst(options: BurstOptions): Promise<BurstResult> {
  const log = options.log ?? (() => undefined);
  const concurrentRequests = options.concurrentRequests ?? 16;
  const pipeline = await startPipeline({ stack: options.stack, log: (line) => log(line) });
  try {
    // Warm-up (not measured): containers start, installation tokens are minted, moto warms its caches. Then wait
    // out the launcher's 15 s capacity cache so the measured burst starts from a fresh count.
    const warmJobs = Math.max(10, pipeline.deployed.eventSource.maximumConcurrency * 2);
    log(`warm-up: ${warmJobs} jobs`);
    await sendAll(pipeline, burstDeliveries(pipeline, warmJobs, 500_000), concurrentRequests);
    await pipeline.waitForIdle(180_000);
    await outlastCapacityCache();

    // Paced phase (steady state, before the burst fills moto with hundreds of instances): jobs arrive at a rate
    // the emulator sustains, so the latency measured is the pipeline's own.
    const pacedJobs = options.pacedJobs ?? 40;
    const pacedPerSecond = options.pacedPerSecond ?? 2;
    log(`paced: ${pacedJobs} jobs at ${pacedPerSecond}/s`);
    const pacedDeliveries = burstDeliveries(pipeline, pacedJobs, 2_000_000);
    const pacedRecords = await sendPaced(pipeline, pacedDeliveries, pacedPerSecond);
    await pipeline.waitForIdle(300_000);
    const pacedLatencies = deliveryToFleetLatencies(
      pipeline,
      pacedDeliveries,
      pacedRecords,
      (await pipeline.state()).instances,
    );
    await outlastCapacityCache();

    const githubBefore = { ...pipeline.github.calls };
    const since = Date.now();
    const batchesBefore = pipeline.launcherBatches.length;
    const launcherStats = { ...pipeline.functions.launcher.invocations };
    log(`measured burst: ${options.jobs} jobs, ${concurrentRequests} concurrent requests`);
    const deliveries = burstDeliveries(pipeline, options.jobs, 1_000_000);
    const sent = await sendAll(pipeline, deliveries, concurrentRequests);
    await pipeline.waitForIdle(300_000);
    const state = await pipeline.state();

    // delivery → CreateFleet: the fleet call whose answer holds the job's instance.
    const latencies = deliveryToFleetLatencies(pipeline, deliveries, sent.records, state.instances);

    const github = diff(pipeline.github.calls, githubBefore);
    const tokenMints = github["POST /app/installations/{installation_id}/access_tokens"] ?? 0;
    const jit =
      (github["POST /orgs/{org}/actions/runners/generate-jitconfig"] ?? 0) +
      (github["POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig"] ?? 0);
    const totalGitHub = Object.values(github).reduce((a, b) => a + b, 0);
    const ec2 = Object.fromEntries(
      Object.entries(pipeline.awsCalls("launcher", since)).filter(([k]) => k.startsWith("ec2:")),
    );
    const createFleet = ec2["ec2:CreateFleet"] ?? 0;
    const ec2Total = Object.values(ec2).reduce((a, b) => a + b, 0);
    // Launch batches: the distinct (pool, SQS batch) launches = the spot/on-demand first fleets of the burst.
    const measuredFleets = pipeline.fleetCalls().filter((c) => c.at >= since);
    const launchBatches = measuredFleets.length;
    const measuredBatches = pipeline.launcherBatches.slice(batchesBefore);
    const statuses: Record<string, number> = {};
    for (const r of sent.records) statuses[r.status] = (statuses[r.status] ?? 0) + 1;

    const queueResource = pipeline.snapshot.resources.find(
      (r) => r.type === "aws:sqs/queue:Queue" && r.inputs.name === pipeline.deployed.jobQueue.name,
    )!;
    const delaySeconds = Number(queueResource.inputs.delaySeconds ?? 0);
    log(`emulator floor: moto FIFO SendMessage at ${concurrentRequests} concurrent`);
    const emulatorFloor = await measureEmulatorFloor(pipeline, concurrentRequests, 200);

    const bundle = pipeline.snapshot.bundles[SIMULATED_FUNCTIONS.webhook.entry];
    log("cold start of the webhook bundle in fresh node processes");
    const coldStartMs = await measureColdStart(pipeline, 5);
    return {
      stack: options.stack,
      jobs: options.jobs,
      launched: latencies.length,
      webhook: {
        handlerMs: percentiles(sent.records.map((r) => r.handlerMs)),
        roundTripMs: percentiles(sent.roundTrips),
        requestsPerSecond: Math.round(options.jobs / sent.seconds),
        concurrentRequests,
        statuses,
      },
      deliveryToCreateFleetMs: { ...percentiles(latencies), jobs: latencies.length },
      github: {
        callsPerJob: round2(totalGitHub / options.jobs),
        jitConfigPerJob: round2(jit / options.jobs),
        tokenMints,
        byRoute: github,
        launcherContainers: pipeline.functions.launcher.containerCount,
      },
      ec2: {
        launchBatches,
        sqsBatches: measuredBatches.filter((b) => b.size > b.failures).length,
        callsPerLaunchBatch: round2(ec2Total / Math.max(1, launchBatches)),
        createFleetPerLaunchBatch: round2(createFleet / Math.max(1, launchBatches)),
        instancesPerCreateFleet: round2(
          measuredFleets.reduce((n, c) => n + (c.instanceIds?.length ?? 0), 0) / Math.max(1, createFleet),
        ),
        byAction: ec2,
        perLaunchBatch: Object.fromEntries(
          Object.entries(ec2).map(([k, n]) => [k, round2(n / Math.max(1, launchBatches))]),
        ),
      },
      launcher: {
        invocations: pipeline.functions.launcher.invocations.count - launcherStats.count,
        coldStarts: pipeline.functions.launcher.invocations.coldStarts - launcherStats.coldStarts,
        returnedMessages: measuredBatches.reduce((n, b) => n + b.failures, 0),
      },
      paced: {
        jobs: pacedJobs,
        perSecond: pacedPerSecond,
        launched: pacedLatencies.length,
        deliveryToCreateFleetMs: percentiles(pacedLatencies),
        handlerMs: percentiles(pacedRecords.map((r) => r.handlerMs)),
      },
      emulatorFloor,
      queue: {
        delaySeconds,
        maximumBatchingWindowInSeconds: pipeline.deployed.eventSource.maximumBatchingWindowInSeconds,
        zeroAddedDelay: delaySeconds === 0 && pipeline.deployed.eventSource.maximumBatchingWindowInSeconds === 0,
      },
      bundle: { bytes: Buffer.byteLength(bundle), gzipBytes: gzipSync(bundle, { level: 9 }).length },
      coldStartMs,
    };
  } finally {
    await pipeline.stop();
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
