/**
 * The runner pipeline, end to end, on this machine: moto for AWS, the GitHub API stand-in, the stack's AWS pieces
 * deployed into moto from the offline preview, the REAL webhook handler behind an HTTP endpoint (API Gateway HTTP
 * API payload 2.0), the REAL launcher driven from the job queue the way Lambda's SQS event source drives it,
 * simulated instances (read and delete their JIT parameter, runner online → busy → done, power off), and the REAL
 * reaper on demand. Used by `npm run simulate`, the end-to-end test and the benchmark.
 *
 * Every AWS call of the functions, the event source and the instances goes through a counting proxy in front of
 * moto (each caller signs with its own access key id), so calls are counted per caller and action without
 * touching the function code.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand, type Instance } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  SSMClient,
  type Parameter,
} from "@aws-sdk/client-ssm";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { ENV, TAG, runnerParameterName } from "../contract/names";
import type { JobMessage } from "../contract/job";
import { startGitHubApi, type GitHubApi } from "../testkit/github/server";
import { ensureMotoInstalled, startMoto, type MotoServer } from "../testkit/moto";
import { deployStack, functionEnvironment, type DeployedStack } from "./deploy";
import type { Delivery } from "./deliveries";
import { SimulatedFunction } from "./functions";
import { startCountingProxy, type AwsCall, type CountingProxy } from "./proxy";
import { functionResource, loadStack, SIMULATED_FUNCTIONS, type FunctionRole, type StackSnapshot } from "./stack";

/** Account id moto uses by default (and the mocks record). */
export const SIMULATION_ACCOUNT_ID = "123456789012";
/** Installation id of the GitHub App on the stack's owner, in the stand-in. */
export const SIMULATION_INSTALLATION_ID = 4242;
/** The runner group the stand-in files runners under (the stack's group, `github.ActionsRunnerGroup`). */
export const SIMULATION_RUNNER_GROUP_ID = 2;

/** Long-polling receivers of the launcher's event source (invocations run concurrently behind them). */
const EVENT_SOURCE_POLLERS = 2;

/** Response header naming the endpoint's record of a request (its index in `deliveries`). */
const RECORD_HEADER = "x-simulation-record";

/** Access key ids: the counting proxy tells the callers apart by them. */
export const CALLERS = {
  webhook: "AKIASIMWEBHOOK",
  launcher: "AKIASIMLAUNCHER",
  reaper: "AKIASIMREAPER",
  eventSource: "AKIASIMEVENTSOURCE",
  instance: "AKIASIMINSTANCE",
  simulation: "AKIASIMHARNESS",
} as const;

export interface PipelineOptions {
  /** Stack whose config is deployed (default dev). */
  stack?: string;
  /** Webhook secret stored in the secret parameter (default: random). */
  webhookSecret?: string;
  /** Launcher containers = parallel event source pollers (default: the mapping's maximum concurrency). */
  launcherConcurrency?: number;
  /** Webhook containers API Gateway may run at once (default 4). */
  webhookConcurrency?: number;
  /**
   * Seconds until a message the launcher returned (a batch item failure) is visible again (default 2 s). The
   * queue's own visibility timeout (minutes) still applies while a batch is being processed; only the failures
   * are made visible sooner, so retries and the way to the dead-letter queue take seconds.
   */
  retryVisibilitySeconds?: number;
  /** The reaper's boot grace (default 3 s, instead of the stack's minutes). */
  bootGraceSeconds?: number;
  /** How long a simulated job keeps its runner busy (default 500 ms). */
  jobMilliseconds?: number;
  /** Step-by-step output (default: none). */
  log?: (line: string) => void;
  /** Each line a function logs (default: dropped). */
  functionLog?: (role: string, line: string) => void;
}

export interface DeliveryRecord {
  name?: string;
  deliveryId?: string;
  status: number;
  responseBody: string;
  /** Epoch ms the request arrived / was answered. */
  receivedAt: number;
  answeredAt: number;
  /** Time inside the webhook handler. */
  handlerMs: number;
}

export interface InstanceRecord {
  instanceId: string;
  jobId?: number;
  pool?: string;
  runnerName?: string;
  /** What happened to it, in order. */
  states: string[];
  launchedAt: number;
  finishedAt?: number;
}

export interface PipelineState {
  instances: Instance[];
  runnerParameters: Parameter[];
  jobQueue: { visible: number; inFlight: number };
  deadLetterQueue: { visible: number; inFlight: number };
}

export interface Pipeline {
  stack: string;
  region: string;
  snapshot: StackSnapshot;
  deployed: DeployedStack;
  /** POST deliveries here (API Gateway's route). */
  webhookUrl: string;
  webhookSecret: string;
  github: GitHubApi;
  proxy: CountingProxy;
  functions: Record<FunctionRole, SimulatedFunction>;
  /** The functions' environments after rewriting, and what was rewritten. */
  environments: Record<
    FunctionRole,
    { environment: Record<string, string>; rewritten: Array<{ variable: string; from: string; to: string }> }
  >;
  deliveries: DeliveryRecord[];
  instances: Map<string, InstanceRecord>;
  /** Messages the event source received, by message id (first receive). */
  messages: Map<string, { deliveryId?: string; jobId?: number; firstReceivedAt: number; receives: number }>;
  /** Launcher invocations: batch size and handler time. */
  launcherBatches: Array<{ size: number; failures: number; handlerMs: number; at: number }>;
  /** Sends one delivery through the HTTP endpoint, exactly as given. */
  deliver(delivery: Delivery): Promise<DeliveryRecord>;
  /** Launched instances wait before booting (their JIT parameters stay in place) until resumed. */
  pauseInstanceBoots(): void;
  resumeInstanceBoots(): void;
  /** Jobs of these ids get an instance that never boots: its runner never comes online (for the reaper). */
  hangJobs(jobIds: number[]): void;
  /** Resolves when no delivery, message, invocation or running job is left (hung and paused instances aside). */
  waitForIdle(timeoutMs?: number): Promise<void>;
  /** One run of the REAL reaper handler. */
  runReaper(): Promise<{ terminated: number; deregistered: number; deletedParameters: number }>;
  /** Instances (all states), runner parameters and queue depths, read from moto. */
  state(): Promise<PipelineState>;
  /** AWS calls of one caller, as `service:action` → count. */
  awsCalls(caller: keyof typeof CALLERS, since?: number): Record<string, number>;
  /** CreateFleet calls (time and instance ids). */
  fleetCalls(): AwsCall[];
  stop(): Promise<void>;
}

function clientConfig(endpoint: string, region: string, accessKeyId: string) {
  return { endpoint, region, credentials: { accessKeyId, secretAccessKey: "simulation" }, maxAttempts: 3 };
}

/** API Gateway HTTP API (payload format 2.0) event for a request: raw body, lower-cased headers. */
export function httpApiEvent(req: IncomingMessage, body: Buffer, routeKey: string): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1];
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  const url = new URL(req.url ?? "/", "http://localhost");
  const now = new Date();
  const requestId = randomBytes(8).toString("hex");
  return {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ""),
    headers,
    requestContext: {
      accountId: SIMULATION_ACCOUNT_ID,
      apiId: "simulation",
      domainName: headers.host ?? "127.0.0.1",
      domainPrefix: "simulation",
      http: {
        method: req.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey,
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body: body.toString("utf8"),
    isBase64Encoded: false,
  };
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tag(instance: Instance, key: string): string | undefined {
  return instance.Tags?.find((t) => t.Key === key)?.Value;
}

/** Starts everything. On failure, whatever was started is stopped again before the error is thrown. */
export async function startPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const stackName = options.stack ?? "dev";
  const log = options.log ?? (() => undefined);
  const cleanups: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // keep stopping the rest
      }
    }
  };
  try {
    return await start();
  } catch (error) {
    await stopAll();
    throw error;
  }

  async function start(): Promise<Pipeline> {
    const entries = Object.values(SIMULATED_FUNCTIONS).map((f) => f.entry);
    log(`offline preview of stack ${stackName} (the real Pulumi program under mocks) and function bundles…`);
    const snapshotPromise = loadStack(stackName, entries);
    ensureMotoInstalled(log);
    const moto: MotoServer = await startMoto({ setEnv: false });
    cleanups.push(() => moto.stop());
    log(`moto listening on ${moto.endpoint}`);

    // Instance boots are triggered by the launcher writing the instance's JIT parameter (seen at the proxy).
    const bootQueue: string[] = [];
    let onParameterWritten: (name: string) => void = (name) => bootQueue.push(name);
    const proxy = await startCountingProxy(moto.endpoint, (call, body) => {
      if (call.caller === CALLERS.launcher && call.action === "PutParameter" && call.status === 200) {
        try {
          onParameterWritten(String((JSON.parse(body) as { Name?: string }).Name));
        } catch {
          // not JSON: not ours
        }
      }
    });
    cleanups.push(() => proxy.stop());

    const snapshot = await snapshotPromise;
    const region = snapshot.region;
    log(
      `stack ${stackName}: ${snapshot.resources.length} resources declared, preview took ${(snapshot.previewMs / 1000).toFixed(1)} s`,
    );

    const client = (caller: string) => clientConfig(proxy.url, region, caller);
    const harness = {
      ec2: new EC2Client(client(CALLERS.simulation)),
      ssm: new SSMClient(client(CALLERS.simulation)),
      sqs: new SQSClient(client(CALLERS.simulation)),
      s3: new S3Client({ ...client(CALLERS.simulation), forcePathStyle: true }),
    };
    const instanceClients = {
      ec2: new EC2Client(client(CALLERS.instance)),
      ssm: new SSMClient(client(CALLERS.instance)),
    };
    const eventSourceSqs = new SQSClient(client(CALLERS.eventSource));
    cleanups.push(() => {
      for (const c of [...Object.values(harness), ...Object.values(instanceClients), eventSourceSqs]) c.destroy();
    });

    // The GitHub side: the App's key pair, the stand-in with the stack owner's installation.
    const launcherResource = functionResource(snapshot, "launcher");
    const launcherRecorded = (launcherResource.inputs.environment as { variables: Record<string, string> }).variables;
    const owner = launcherRecorded[ENV.githubOwner];
    const appId = Number(launcherRecorded[ENV.appId]);
    const appPrivateKeyPem = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .privateKey.export({ type: "pkcs1", format: "pem" })
      .toString();
    const github = await startGitHubApi({
      appId,
      appPrivateKey: appPrivateKeyPem,
      installations: { [owner]: SIMULATION_INSTALLATION_ID },
    });
    cleanups.push(() => github.stop());
    log(`GitHub API stand-in on ${github.url}: App ${appId}, installation ${SIMULATION_INSTALLATION_ID} on ${owner}`);

    const webhookSecret = options.webhookSecret ?? randomBytes(20).toString("hex");
    log("deploying the stack's AWS pieces into moto:");
    const deployed = await deployStack(snapshot, harness, { webhookSecret, appPrivateKeyPem }, region);
    for (const step of deployed.steps) log(`  + ${step}`);

    const bootGraceSeconds = options.bootGraceSeconds ?? 3;
    const rewriteContext = {
      deployed,
      githubApiUrl: github.url,
      runnerGroupId: SIMULATION_RUNNER_GROUP_ID,
      bootGraceMinutes: bootGraceSeconds / 60,
    };
    const workDir = mkdtempSync(path.join(tmpdir(), "cirunners-simulation-"));
    cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));
    const environments = {} as Pipeline["environments"];
    const functions = {} as Record<FunctionRole, SimulatedFunction>;
    const concurrency: Record<FunctionRole, number> = {
      webhook: options.webhookConcurrency ?? 4,
      launcher: options.launcherConcurrency ?? deployed.eventSource.maximumConcurrency,
      reaper: 1,
    };
    for (const role of Object.keys(SIMULATED_FUNCTIONS) as FunctionRole[]) {
      const resource = functionResource(snapshot, role);
      const env = functionEnvironment(snapshot, role, rewriteContext);
      environments[role] = env;
      for (const change of env.rewritten)
        log(`  ~ ${role}: ${change.variable} ${abbreviate(change.from)} → ${abbreviate(change.to)}`);
      const functionName = String(resource.inputs.name ?? resource.name);
      functions[role] = new SimulatedFunction({
        role,
        functionName,
        functionArn: `arn:aws:lambda:${region}:${SIMULATION_ACCOUNT_ID}:function:${functionName}`,
        code: snapshot.bundles[SIMULATED_FUNCTIONS[role].entry],
        environment: {
          ...env.environment,
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          TZ: "UTC",
          AWS_ENDPOINT_URL: proxy.url,
          AWS_ACCESS_KEY_ID: CALLERS[role],
          AWS_SECRET_ACCESS_KEY: "simulation",
          AWS_REGION: region,
          AWS_DEFAULT_REGION: region,
          AWS_LAMBDA_FUNCTION_NAME: functionName,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(resource.inputs.memorySize ?? 128),
          AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        },
        memorySize: Number(resource.inputs.memorySize ?? 128),
        timeoutSeconds: Number(resource.inputs.timeout ?? 30),
        maxContainers: concurrency[role],
        workDir,
        onLog: options.functionLog ?? (() => undefined),
      });
      cleanups.push(() => functions[role].stop());
    }

    const parameterPrefix = environments.launcher.environment[ENV.runnerParameterPrefix];
    const stackTag = environments.launcher.environment[ENV.stack];
    const jobMilliseconds = options.jobMilliseconds ?? 500;
    const hung = new Set<number>();
    const instances = new Map<string, InstanceRecord>();
    const messages: Pipeline["messages"] = new Map();
    const launcherBatches: Pipeline["launcherBatches"] = [];
    const deliveries: DeliveryRecord[] = [];
    const busy = { webhook: 0, launcher: 0, instances: 0 };
    let running = true;

    // ---- webhook: API Gateway HTTP API → the webhook function ----------------------------------------------
    const route = resourcesRoute(snapshot);
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", async () => {
        busy.webhook += 1;
        const receivedAt = Date.now();
        const url = new URL(req.url ?? "/", "http://localhost");
        const deliveryId =
          typeof req.headers["x-github-delivery"] === "string" ? req.headers["x-github-delivery"] : undefined;
        let status = 500;
        let responseBody = "";
        let handlerMs = 0;
        try {
          if (`${req.method} ${url.pathname}` !== route) {
            status = 404;
            responseBody = JSON.stringify({ message: "Not Found" });
            res.setHeader("content-type", "application/json");
          } else {
            const event = httpApiEvent(req, Buffer.concat(chunks), route);
            const invocation = await functions.webhook.invoke<APIGatewayProxyStructuredResultV2>(event);
            handlerMs = invocation.handlerMs;
            const result = invocation.result;
            status = result.statusCode ?? 200;
            responseBody = result.isBase64Encoded
              ? Buffer.from(result.body ?? "", "base64").toString("utf8")
              : (result.body ?? "");
            for (const [header, value] of Object.entries(result.headers ?? {})) res.setHeader(header, String(value));
          }
        } catch (error) {
          // A function error: API Gateway answers 500 Internal Server Error.
          status = 500;
          responseBody = JSON.stringify({ message: "Internal Server Error" });
          res.setHeader("content-type", "application/json");
          log(`  ! webhook function error: ${(error as Error).message}`);
        }
        // The record is keyed by a response header (the request stays exactly as the sender made it).
        const record: DeliveryRecord = {
          deliveryId,
          status,
          responseBody,
          receivedAt,
          answeredAt: Date.now(),
          handlerMs,
        };
        const recordId = String(deliveries.push(record) - 1);
        res.setHeader(RECORD_HEADER, recordId);
        res.writeHead(status);
        res.end(responseBody);
        busy.webhook -= 1;
      });
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const address = server.address() as { port: number };
    const webhookUrl = `http://127.0.0.1:${address.port}${route.split(" ")[1]}`;
    log(`webhook endpoint (API Gateway route ${route}) on ${webhookUrl}`);

    // ---- instances --------------------------------------------------------------------------------------------
    async function describe(instanceId: string): Promise<Instance | undefined> {
      const out = await harness.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      return out.Reservations?.[0]?.Instances?.[0];
    }

    async function boot(parameterName: string): Promise<void> {
      const instanceId = parameterName.slice(parameterName.lastIndexOf("/") + 1);
      if (!parameterName.startsWith(`${parameterPrefix.replace(/\/+$/, "")}/`) || !instanceId.startsWith("i-")) return;
      busy.instances += 1;
      try {
        const instance = await describe(instanceId);
        const jobId = Number(instance && tag(instance, TAG.jobId)) || undefined;
        const record: InstanceRecord = {
          instanceId,
          jobId,
          pool: instance && tag(instance, TAG.pool),
          runnerName: instance && tag(instance, TAG.runnerName),
          states: [instance?.State?.Name ?? "unknown"],
          launchedAt: instance?.LaunchTime ? new Date(instance.LaunchTime).getTime() : Date.now(),
        };
        instances.set(instanceId, record);
        if (instance?.State?.Name !== "running") return;
        if (jobId !== undefined && hung.has(jobId)) {
          record.states.push("hung: never boots, its runner never comes online");
          log(`  ${instanceId} (job ${jobId}) hangs while booting: its runner stays offline`);
          return;
        }
        // Bootstrap: read the JIT config and delete it (the instance role may do both, for its own name only).
        const name = runnerParameterName(parameterPrefix, instanceId);
        const parameter = await instanceClients.ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
        await instanceClients.ssm.send(new DeleteParameterCommand({ Name: name }));
        record.states.push("read and deleted its JIT config");
        const jit = JSON.parse(Buffer.from(parameter.Parameter?.Value ?? "", "base64").toString("utf8")) as {
          id?: number;
        };
        const runnerId = jit.id ?? [...github.runners.values()].find((r) => r.name === record.runnerName)?.id;
        if (runnerId === undefined || !github.runners.has(runnerId))
          throw new Error(`instance ${instanceId}: its JIT config names no runner the stand-in knows`);
        github.setRunnerStatus(runnerId, { status: "online" });
        record.states.push("runner online");
        github.setRunnerStatus(runnerId, { busy: true });
        record.states.push("runner busy");
        log(
          `  ${instanceId} (${record.pool}, job ${jobId}): JIT config read and deleted, runner ${record.runnerName} online, running the job`,
        );
        await sleep(jobMilliseconds);
        // The job is done: the ephemeral runner removes itself, the bootstrap powers off (shutdown = terminate).
        github.runners.delete(runnerId);
        await instanceClients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
        record.states.push("job completed, runner removed, powered off (terminated)");
        record.finishedAt = Date.now();
        log(`  ${instanceId} (job ${jobId}): job completed, runner removed, instance powered off`);
      } catch (error) {
        log(`  ! instance ${instanceId}: ${(error as Error).message}`);
      } finally {
        busy.instances -= 1;
      }
    }
    let bootsPaused = false;
    onParameterWritten = (name) => (bootsPaused ? bootQueue.push(name) : void boot(name));
    for (const name of bootQueue.splice(0)) void boot(name);

    // ---- the launcher's SQS event source ------------------------------------------------------------------------
    const retryVisibility = options.retryVisibilitySeconds ?? 2;
    // Like Lambda's SQS event source: a few pollers receive batches and invoke the function concurrently, up to the
    // mapping's maximum concurrency (a poller waits for a free slot before it receives more).
    let invocationsInFlight = 0;
    const slotFreed: Array<() => void> = [];
    const freeSlot = () => slotFreed.shift()?.();

    async function handleBatch(received: Message[]): Promise<void> {
      try {
        for (const m of received) {
          const seen = messages.get(m.MessageId!);
          if (seen) seen.receives += 1;
          else {
            let body: Partial<JobMessage> = {};
            try {
              body = JSON.parse(m.Body ?? "{}") as Partial<JobMessage>;
            } catch {
              // a malformed message: the launcher reports it
            }
            messages.set(m.MessageId!, {
              deliveryId: body.deliveryId,
              jobId: body.jobId,
              firstReceivedAt: Date.now(),
              receives: 1,
            });
          }
        }
        let failed = new Set(received.map((m) => m.MessageId!));
        let handlerMs = 0;
        try {
          const invocation = await functions.launcher.invoke<SQSBatchResponse>(
            sqsEvent(received, deployed.jobQueue.arn, region),
          );
          handlerMs = invocation.handlerMs;
          failed = new Set((invocation.result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch (error) {
          log(`  ! launcher invocation failed, the whole batch comes back: ${(error as Error).message}`);
        }
        launcherBatches.push({ size: received.length, failures: failed.size, handlerMs, at: Date.now() });
        const done = received.filter((m) => !failed.has(m.MessageId!));
        log(
          `  launcher: batch of ${received.length} → ${done.length} launched, ${failed.size} returned to the queue (${handlerMs.toFixed(0)} ms)`,
        );
        if (done.length > 0) {
          await eventSourceSqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: deployed.jobQueue.url,
              Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
            }),
          );
        }
        const returned = received.filter((m) => failed.has(m.MessageId!));
        if (returned.length > 0) {
          // The failures stay on the queue; the simulation shortens their wait (the queue's timeout is minutes).
          await eventSourceSqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: deployed.jobQueue.url,
              Entries: returned.map((m, i) => ({
                Id: String(i),
                ReceiptHandle: m.ReceiptHandle!,
                VisibilityTimeout: retryVisibility,
              })),
            }),
          );
        }
      } catch (error) {
        log(`  ! event source: ${(error as Error).message}`);
      } finally {
        invocationsInFlight -= 1;
        busy.launcher -= 1;
        freeSlot();
      }
    }

    async function poll(): Promise<void> {
      while (running) {
        while (running && invocationsInFlight >= concurrency.launcher)
          await new Promise<void>((resolve) => slotFreed.push(resolve));
        if (!running) return;
        invocationsInFlight += 1;
        let received: Message[] = [];
        try {
          const out = await eventSourceSqs.send(
            new ReceiveMessageCommand({
              QueueUrl: deployed.jobQueue.url,
              MaxNumberOfMessages: Math.min(10, deployed.eventSource.batchSize),
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
          invocationsInFlight -= 1;
          freeSlot();
          continue;
        }
        busy.launcher += 1;
        void handleBatch(received);
      }
    }
    const pollers = Array.from({ length: EVENT_SOURCE_POLLERS }, () => poll());
    cleanups.push(async () => {
      running = false;
      for (const wake of slotFreed.splice(0)) wake();
      await Promise.allSettled(pollers);
      const deadline = Date.now() + 10_000;
      while (invocationsInFlight > 0 && Date.now() < deadline) await sleep(50);
    });
    log(
      `launcher event source: ${EVENT_SOURCE_POLLERS} pollers, up to ${concurrency.launcher} concurrent invocations, batch size ${deployed.eventSource.batchSize}; returned messages visible again after ${retryVisibility} s`,
    );

    async function queueDepth(url: string) {
      const out = await harness.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return {
        visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    }

    const pipeline: Pipeline = {
      stack: stackName,
      region,
      snapshot,
      deployed,
      webhookUrl,
      webhookSecret,
      github,
      proxy,
      functions,
      environments,
      deliveries,
      instances,
      messages,
      launcherBatches,
      async deliver(delivery) {
        const response = await fetch(webhookUrl, { method: "POST", headers: delivery.headers, body: delivery.body });
        await response.text();
        const record = deliveries[Number(response.headers.get(RECORD_HEADER))];
        if (!record) throw new Error(`the webhook endpoint answered ${response.status} without a delivery record`);
        record.name = delivery.name;
        return record;
      },
      pauseInstanceBoots() {
        bootsPaused = true;
      },
      resumeInstanceBoots() {
        bootsPaused = false;
        for (const name of bootQueue.splice(0)) void boot(name);
      },
      hangJobs(jobIds) {
        for (const id of jobIds) hung.add(id);
      },
      async waitForIdle(timeoutMs = 60_000) {
        const deadline = Date.now() + timeoutMs;
        let quiet = 0;
        while (Date.now() < deadline) {
          const depth = await queueDepth(deployed.jobQueue.url);
          const idle =
            busy.webhook === 0 &&
            busy.launcher === 0 &&
            busy.instances === 0 &&
            depth.visible === 0 &&
            depth.inFlight === 0;
          quiet = idle ? quiet + 1 : 0;
          if (quiet >= 3) return;
          await sleep(100);
        }
        const depth = await queueDepth(deployed.jobQueue.url);
        throw new Error(`pipeline not idle after ${timeoutMs} ms: ${JSON.stringify({ ...busy, queue: depth })}`);
      },
      async runReaper() {
        const invocation = await functions.reaper.invoke<{
          terminated: number;
          deregistered: number;
          deletedParameters: number;
        }>({
          version: "0",
          id: randomUUID(),
          "detail-type": "Scheduled Event",
          source: "aws.scheduler",
          account: SIMULATION_ACCOUNT_ID,
          time: new Date().toISOString(),
          region,
          resources: [],
          detail: {},
        });
        return invocation.result;
      },
      async state() {
        const described: Instance[] = [];
        let instancesToken: string | undefined;
        do {
          const page = await harness.ec2.send(
            new DescribeInstancesCommand({
              Filters: [{ Name: `tag:${TAG.stack}`, Values: [stackTag] }],
              MaxResults: 1000,
              NextToken: instancesToken,
            }),
          );
          described.push(...(page.Reservations ?? []).flatMap((r) => r.Instances ?? []));
          instancesToken = page.NextToken;
        } while (instancesToken);
        const parameters: Parameter[] = [];
        let nextToken: string | undefined;
        do {
          const page = await harness.ssm.send(
            new GetParametersByPathCommand({ Path: parameterPrefix, Recursive: true, NextToken: nextToken }),
          );
          parameters.push(...(page.Parameters ?? []));
          nextToken = page.NextToken;
        } while (nextToken);
        return {
          instances: described,
          runnerParameters: parameters,
          jobQueue: await queueDepth(deployed.jobQueue.url),
          deadLetterQueue: await queueDepth(deployed.deadLetterQueue.url),
        };
      },
      awsCalls(caller, since) {
        return proxy.count({ caller: CALLERS[caller], since });
      },
      fleetCalls() {
        return proxy.calls.filter((c) => c.caller === CALLERS.launcher && c.action === "CreateFleet");
      },
      stop: stopAll,
    };
    return pipeline;
  }
}

/** The webhook's API Gateway route key, e.g. "POST /github/webhook". */
function resourcesRoute(snapshot: StackSnapshot): string {
  const route = snapshot.resources.find((r) => r.type === "aws:apigatewayv2/route:Route");
  const key = route?.inputs.routeKey;
  if (typeof key !== "string" || !/^[A-Z]+ \//.test(key))
    throw new Error(`stack ${snapshot.stack} declares no API Gateway route for the webhook`);
  return key;
}

function abbreviate(value: string): string {
  return value.length > 90 ? `${value.slice(0, 87)}...` : value;
}

/** Counts by key, summed over keys matching `predicate`. */
export function sumCalls(counts: Record<string, number>, predicate: (key: string) => boolean): number {
  return Object.entries(counts).reduce((sum, [key, n]) => (predicate(key) ? sum + n : sum), 0);
}
