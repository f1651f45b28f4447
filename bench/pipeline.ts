/**
 * Burst benchmark of the local pipeline (simulation/pipeline.ts): N queued jobs delivered to the webhook endpoint
 * at once (a bounded number of concurrent requests, as GitHub delivers), through the real webhook and launcher,
 * measured at the endpoint, the counting proxy and the GitHub stand-in. With `sqsEndpoint` (ElasticMQ, started by
 * bench/run.ts) SQS is served by it and everything else by moto. Not a test.
 */
import type { Pipeline } from "../simulation/pipeline";
import { startPipeline } from "../simulation/pipeline";
import {
  burstDeliveries,
  deliveryToFleetLatencies,
  diff,
  measureEmulatorFloor,
  outlastCapacityCache,
  type Percentiles,
  percentiles,
  round2,
  sendAll,
  sendPaced,
} from "./burst-measure";
import { CALLERS } from "../simulation/callers";
import { cpuBetween, sampleCpu } from "./cpu";
import { startTracked } from "./servers";

export interface BurstResult {
  stack: string;
  jobs: number;
  /** Jobs with a launch call of their own (the others ran on a runner already online). */
  launched: number;
  /** Instances launched for the burst's jobs (more than `launched`: relaunches and duplicates). */
  instances: number;
  /** What served SQS: "ElasticMQ" or "moto". */
  sqsEmulator: string;
  webhook: {
    handlerMs: Percentiles;
    roundTripMs: Percentiles;
    requestsPerSecond: number;
    concurrentRequests: number;
    statuses: Record<string, number>;
  };
  /** Per job: delivery (arrival at the endpoint) → its first CreateFleet call (burst-measure.ts). */
  deliveryToCreateFleetMs: Percentiles;
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
  /** The same pipeline at a steady arrival rate, before the burst: the latency the design adds at low load. */
  paced: {
    jobs: number;
    perSecond: number;
    launched: number;
    instances: number;
    deliveryToCreateFleetMs: Percentiles;
    handlerMs: Percentiles;
  };
  /** The SQS emulator's own FIFO SendMessage latency at the burst's concurrency, through the same proxy. */
  emulatorFloor: { sendMessageMs: Percentiles; concurrent: number; messages: number };
  queue: { delaySeconds: number; maximumBatchingWindowInSeconds: number; zeroAddedDelay: boolean };
  /** Webhook containers the simulated API Gateway could run at once; the moto servers (one, or one per service). */
  emulation: { webhookContainers: number; motoPerService: string[] };
  /** CPU of the measured burst (first delivery → idle), on this machine (bench/cpu.ts). */
  cpu: BurstCpu;
  /**
   * The webhook's and the launcher's emulator calls in the burst, by `service:action`: arrival at the proxy →
   * the emulator's answer complete (the emulators' share of the latency).
   */
  pipelineCallsMs: Record<string, Percentiles>;
}

export interface BurstCpu {
  cores: number;
  /** First delivery → pipeline idle. */
  wallSeconds: number;
  /** First delivery → last delivery answered (the 16 senders' pace). */
  arrivalSeconds: number;
  /** CPU seconds: the functions' own work (their container threads), the rest of this process (proxy, API
   * Gateway and GitHub stand-ins, event source, simulated instances), each emulator process, and work on the
   * machine that is not this benchmark's. */
  seconds: { webhook: number; launcher: number; simulation: number; emulators: Record<string, number>; other: number };
}

/**
 * Services with a moto server of their own in the burst: one moto process serves its calls one interpreter at a
 * time, so with one server for all, DynamoDB and SSM calls waited behind EC2's DescribeInstances (moto renders
 * each live instance, ~3 ms CPU apiece). SQS is on ElasticMQ.
 */
export const BENCH_MOTO_PER_SERVICE = ["dynamodb", "ec2", "ssm", "s3"];

/** Webhook requests in flight at once in the burst (GitHub delivers in parallel). */
export const DEFAULT_CONCURRENT_REQUESTS = 16;

export interface BurstOptions {
  stack: string;
  jobs: number;
  /** SQS served by this emulator (ElasticMQ) instead of moto; the caller starts and stops it. */
  sqsEndpoint?: string;
  /** Jobs of the paced phase (default 40) and their arrival rate per second (default 2). */
  pacedJobs?: number;
  pacedPerSecond?: number;
  /** Concurrent webhook requests (default 16). */
  concurrentRequests?: number;
  /**
   * Webhook containers (default: as many as concurrent requests, as Lambda scales a function without reserved
   * concurrency out to the requests in flight; the stack reserves none for the webhook).
   */
  webhookConcurrency?: number;
  /** Services with a moto server of their own (PipelineOptions.motoPerService; default BENCH_MOTO_PER_SERVICE). */
  motoPerService?: string[];
  log?: (line: string) => void;
}

export async function benchPipelineBurst(options: BurstOptions): Promise<BurstResult> {
  const log = options.log ?? (() => undefined);
  const { value: pipeline, stop } = await startTracked(
    startPipeline({
      stack: options.stack,
      sqsEndpoint: options.sqsEndpoint,
      webhookConcurrency: options.webhookConcurrency ?? options.concurrentRequests ?? DEFAULT_CONCURRENT_REQUESTS,
      motoPerService: options.motoPerService ?? BENCH_MOTO_PER_SERVICE,
      log: (line) => log(line),
    }),
  );
  try {
    return await measureBurst(pipeline, options, log);
  } finally {
    await stop();
  }
}

/** An emulator's process, as bench/cpu.ts names it. */
const isEmulator = (name: string) => name.startsWith("moto") || name === "elasticmq";

/** The measured phases on a running pipeline (warm-up, paced, burst, emulator floor). */
export async function measureBurst(
  pipeline: Pipeline,
  options: BurstOptions,
  log: (line: string) => void,
): Promise<BurstResult> {
  const concurrentRequests = options.concurrentRequests ?? DEFAULT_CONCURRENT_REQUESTS;
  // Warm-up (not measured): containers start, installation tokens are minted, the emulators warm up. Then wait
  // out the launcher's 15 s capacity cache so the measured phases start from a fresh count.
  const warmJobs = Math.max(10, pipeline.deployed.eventSource.maximumConcurrency * 2);
  log(`warm-up: ${warmJobs} jobs`);
  await sendAll(pipeline, burstDeliveries(pipeline, warmJobs, 500_000), concurrentRequests);
  await pipeline.waitForIdle(180_000);
  await outlastCapacityCache();

  // Paced phase (steady state, before the burst fills moto with hundreds of instances).
  const pacedJobs = options.pacedJobs ?? 40;
  const pacedPerSecond = options.pacedPerSecond ?? 2;
  log(`paced: ${pacedJobs} jobs at ${pacedPerSecond}/s`);
  const pacedDeliveries = burstDeliveries(pipeline, pacedJobs, 2_000_000);
  const pacedRecords = await sendPaced(pipeline, pacedDeliveries, pacedPerSecond);
  await pipeline.waitForIdle(300_000);
  const paced = deliveryToFleetLatencies(pipeline, pacedDeliveries, pacedRecords, (await pipeline.state()).instances);
  await outlastCapacityCache();

  const cpuBefore = sampleCpu();
  const functionCpuBefore = {
    webhook: pipeline.functions.webhook.invocations.cpuMs,
    launcher: pipeline.functions.launcher.invocations.cpuMs,
  };
  const githubBefore = { ...pipeline.github.calls };
  const since = Date.now();
  const batchesBefore = pipeline.launcherBatches.length;
  const launcherStats = { ...pipeline.functions.launcher.invocations };
  log(`measured burst: ${options.jobs} jobs, ${concurrentRequests} concurrent requests`);
  const deliveries = burstDeliveries(pipeline, options.jobs, 1_000_000);
  const sent = await sendAll(pipeline, deliveries, concurrentRequests);
  await pipeline.waitForIdle(600_000);
  const cpuUse = cpuBetween(cpuBefore, sampleCpu());
  const functionCpu = {
    webhook: (pipeline.functions.webhook.invocations.cpuMs - functionCpuBefore.webhook) / 1000,
    launcher: (pipeline.functions.launcher.invocations.cpuMs - functionCpuBefore.launcher) / 1000,
  };
  const state = await pipeline.state();
  const { latencies, instances } = deliveryToFleetLatencies(pipeline, deliveries, sent.records, state.instances);

  const burstEnded = Date.now();
  const pipelineCallers = new Set<string>([CALLERS.webhook, CALLERS.launcher]);
  const callMs = new Map<string, number[]>();
  for (const call of pipeline.proxy.calls) {
    if (!pipelineCallers.has(call.caller) || call.at < since || call.at > burstEnded || call.doneAt === undefined)
      continue;
    const key = `${call.service}:${call.action}`;
    callMs.set(key, [...(callMs.get(key) ?? []), call.doneAt - call.at]);
  }
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
  );
  const delaySeconds = Number(queueResource?.inputs.delaySeconds ?? 0);
  const sqsEmulator = options.sqsEndpoint ? "ElasticMQ" : "moto";
  log(`emulator floor: ${sqsEmulator} FIFO SendMessage at ${concurrentRequests} concurrent`);
  const emulatorFloor = await measureEmulatorFloor(pipeline, concurrentRequests, 200);
  return {
    stack: options.stack,
    jobs: options.jobs,
    launched: latencies.length,
    instances,
    sqsEmulator,
    webhook: {
      handlerMs: percentiles(sent.records.map((r) => r.handlerMs)),
      roundTripMs: percentiles(sent.roundTrips),
      requestsPerSecond: Math.round(options.jobs / sent.seconds),
      concurrentRequests,
      statuses,
    },
    deliveryToCreateFleetMs: percentiles(latencies),
    pipelineCallsMs: Object.fromEntries(
      [...callMs].sort((a, b) => b[1].length - a[1].length).map(([key, ms]) => [key, percentiles(ms)]),
    ),
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
      launched: paced.latencies.length,
      instances: paced.instances,
      deliveryToCreateFleetMs: percentiles(paced.latencies),
      handlerMs: percentiles(pacedRecords.map((r) => r.handlerMs)),
    },
    emulatorFloor,
    emulation: {
      webhookContainers: pipeline.functions.webhook.maxContainers,
      motoPerService: options.motoPerService ?? BENCH_MOTO_PER_SERVICE,
    },
    cpu: {
      cores: cpuUse.cores,
      wallSeconds: cpuUse.wallSeconds,
      arrivalSeconds: Math.round(sent.seconds * 10) / 10,
      seconds: {
        webhook: round2(functionCpu.webhook),
        launcher: round2(functionCpu.launcher),
        // This process less the functions' threads, and any other process it started (esbuild's service).
        simulation: round2(
          Object.entries(cpuUse.seconds)
            .filter(([name]) => name !== "other" && !isEmulator(name))
            .reduce((sum, [, seconds]) => sum + seconds, 0) -
            functionCpu.webhook -
            functionCpu.launcher,
        ),
        emulators: Object.fromEntries(
          Object.entries(cpuUse.seconds).filter(([name, seconds]) => isEmulator(name) && seconds > 0),
        ),
        other: cpuUse.seconds.other,
      },
    },
    queue: {
      delaySeconds,
      maximumBatchingWindowInSeconds: pipeline.deployed.eventSource.maximumBatchingWindowInSeconds,
      zeroAddedDelay: delaySeconds === 0 && pipeline.deployed.eventSource.maximumBatchingWindowInSeconds === 0,
    },
  };
}
