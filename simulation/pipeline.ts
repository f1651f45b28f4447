/**
 * The runner pipeline, end to end, on this machine: moto for AWS, the GitHub API stand-in, the stack's AWS pieces
 * deployed into moto from the offline preview (deploy/), the runner cache filled by the REAL runner-cache function
 * (as the stack's deploy-time invocation does), the REAL webhook handler behind an API Gateway emulator, the REAL
 * launcher driven by an SQS event source, simulated instances that follow their user data, and the REAL reaper on
 * demand. Used by `npm run simulate`, the end-to-end test and the benchmark.
 *
 * Every AWS call of the functions, the event source and the instances goes through a counting proxy in front of
 * moto (callers.ts), so calls are counted per caller and action without touching the function code. With
 * `sqsEndpoint` (the benchmark's ElasticMQ) the proxy sends SQS calls there instead.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { SQSBatchResponse } from "aws-lambda";
import { ENV } from "../contract/names";
import { generateAppPrivateKey, startGitHubApi } from "../testkit/github/server";
import { ensureMotoInstalled, startMoto, startMotoPerService } from "../testkit/moto";
import { startApiGateway } from "./api-gateway";
import { CALLERS, type Caller, clientConfig, sleep } from "./callers";
import { SimulationClock } from "./clock";
import { deployStack } from "./deploy";
import { createFunctions } from "./function-set";
import { InstanceSimulator } from "./instances";
import { InstanceTriggers } from "./instance-triggers";
import { startCountingProxy } from "./proxy";
import { recordReceives } from "./received-messages";
import { startSqsEventSource } from "./sqs-event-source";
import { Scheduler } from "./scheduler";
import { functionResource, loadStack, recordedEnvironment, simulatedEntries, type StackSnapshot } from "./stack";
import { queueDepth, readState } from "./state";

export type { DeliveryRecord } from "./api-gateway";
export type { InstanceRecord } from "./instances";
export type { PipelineState } from "./state";
export type { Pipeline, PipelineOptions } from "./pipeline-types";
import type { Pipeline, PipelineOptions } from "./pipeline-types";

/** Installation id of the GitHub App on the stack's owner, in the stand-in. */
export const SIMULATION_INSTALLATION_ID = 4242;
/** The runner group the stand-in files runners under (the stack's group, `github.ActionsRunnerGroup`). */
export const SIMULATION_RUNNER_GROUP_ID = 2;
/** The id of the organization webhook in the stand-in (the stack's github.OrganizationWebhook). */
export const SIMULATION_HOOK_ID = 31337;

/** The webhook's API Gateway route key, e.g. "POST /github/webhook". */
function webhookRoute(snapshot: StackSnapshot): string {
  const route = snapshot.resources.find((r) => r.type === "aws:apigatewayv2/route:Route");
  const key = route?.inputs.routeKey;
  if (typeof key !== "string" || !/^[A-Z]+ \//.test(key))
    throw new Error(`stack ${snapshot.stack} declares no API Gateway route for the webhook`);
  return key;
}

/** Starts everything. On failure, whatever was started is stopped again before the error is thrown. */
export async function startPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
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
    return await assemble(options, cleanups, stopAll);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function assemble(
  options: PipelineOptions,
  cleanups: Array<() => Promise<void> | void>,
  stopAll: () => Promise<void>,
): Promise<Pipeline> {
  const stackName = options.stack ?? "dev";
  const log = options.log ?? (() => undefined);
  log(`offline preview of stack ${stackName} (the real Pulumi program under mocks) and function bundles…`);
  const snapshotPromise = loadStack(stackName, simulatedEntries());
  // The preview runs while moto starts; a failure is handled where the snapshot is awaited, and until then must not
  // count as an unhandled rejection (that would end the process before the cleanups below run).
  snapshotPromise.catch(() => undefined);
  const clock = new SimulationClock();
  ensureMotoInstalled(log);
  const perService = options.motoPerService ?? [];
  const moto = perService.length
    ? await startMotoPerService(perService)
    : { ...(await startMoto({ setEnv: false })), services: {} as Record<string, string> };
  cleanups.push(() => moto.stop());
  log(`moto listening on ${moto.endpoint}`);
  for (const [service, endpoint] of Object.entries(moto.services))
    log(`moto for ${service} alone listening on ${endpoint}`);

  // Instances boot when the launcher writes their JIT parameter: the proxy sees the write.
  const instanceTriggers = new InstanceTriggers();
  const proxy = await startCountingProxy(
    moto.endpoint,
    instanceTriggers.onCall,
    (realMs) => clock.toSimulated(realMs),
    options.sqsEndpoint,
    moto.services,
  );
  cleanups.push(() => proxy.stop());
  if (options.sqsEndpoint) log(`SQS calls go to ${options.sqsEndpoint} (the rest to moto), through the proxy`);

  const snapshot = await snapshotPromise;
  const region = snapshot.region;
  log(
    `stack ${stackName}: ${snapshot.resources.length} resources declared, preview took ${(snapshot.previewMs / 1000).toFixed(1)} s`,
  );
  const clientsOf = (caller: Caller) => {
    const config = clientConfig(proxy.url, region, caller);
    const clients = {
      ec2: new EC2Client(config),
      ssm: new SSMClient(config),
      secretsManager: new SecretsManagerClient(config),
      sqs: new SQSClient(config),
      s3: new S3Client({ ...config, forcePathStyle: true }),
      dynamodb: new DynamoDBClient(config),
    };
    cleanups.push(() => {
      for (const client of Object.values(clients)) client.destroy();
    });
    return clients;
  };
  const harness = clientsOf("simulation");

  // The GitHub side: the App's key pair, the stand-in with the stack owner's installation.
  const webhookSecret = options.webhookSecret ?? randomBytes(20).toString("hex");
  const appPrivateKeyPem = generateAppPrivateKey();
  log("deploying the stack's AWS pieces into moto:");
  const deployed = await deployStack(snapshot, harness, { webhookSecret, appPrivateKeyPem }, region);
  for (const step of deployed.steps) log(`  + ${step}`);

  const recorded = recordedEnvironment(functionResource(snapshot, "launcher"));
  const owner = recorded[ENV.githubOwner];
  const appId = Number(recorded[ENV.appId]);
  const github = await startGitHubApi({
    appId,
    appPrivateKey: appPrivateKeyPem,
    installations: { [owner]: SIMULATION_INSTALLATION_ID },
    now: () => clock.now(),
  });
  cleanups.push(() => github.stop());
  log(`GitHub API stand-in on ${github.url}: App ${appId}, installation ${SIMULATION_INSTALLATION_ID} on ${owner}`);

  const workDir = mkdtempSync(path.join(tmpdir(), "cirunners-simulation-"));
  cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));
  const { functions, environments } = createFunctions(
    {
      snapshot,
      deployed,
      proxyUrl: proxy.url,
      githubApiUrl: github.url,
      runnerGroupId: SIMULATION_RUNNER_GROUP_ID,
      bootGraceMinutes: (options.bootGraceSeconds ?? 3) / 60,
      hookId: SIMULATION_HOOK_ID,
      clock: clock.shared,
      concurrency: {
        webhook: options.webhookConcurrency ?? 4,
        launcher: options.launcherConcurrency ?? deployed.eventSource.maximumConcurrency,
        reaper: 1,
        "runner-cache": 1,
      },
      workDir,
      functionLog: options.functionLog ?? (() => undefined),
    },
    log,
  );
  for (const fn of Object.values(functions)) cleanups.push(() => fn.stop());

  // `pulumi up` invokes the runner-cache function once (the stack's deploy-time Invocation): the cache is full
  // before the first instance boots.
  const filled = await functions["runner-cache"].invoke<unknown>({ source: "pulumi-deploy" });
  log(`runner cache filled by the runner-cache function: ${JSON.stringify(filled.result)}`);

  const instances = new InstanceSimulator({
    instance: clientsOf("instance"),
    describe: harness.ec2,
    github,
    bootstrapOf: (pool) => deployed.launchTemplates.get(pool)?.bootstrap,
    log,
  });
  instanceTriggers.attach(instances);

  const apiGateway = await startApiGateway({
    routeKey: webhookRoute(snapshot),
    invoke: (event) => functions.webhook.invoke(event),
    log,
  });
  cleanups.push(() => apiGateway.stop());
  log(`webhook endpoint (API Gateway route ${webhookRoute(snapshot)}) on ${apiGateway.url}`);
  // The stack's organization webhook, in the stand-in: GitHub delivers every workflow_job event here.
  github.configureHook({
    id: SIMULATION_HOOK_ID,
    org: owner,
    url: apiGateway.url,
    secret: webhookSecret,
    active: true,
  });

  const messages: Pipeline["messages"] = new Map();
  const eventSource = startSqsEventSource({
    sqs: clientsOf("eventSource").sqs,
    queue: deployed.jobQueue,
    region,
    batchSize: deployed.eventSource.batchSize,
    maximumConcurrency: options.launcherConcurrency ?? deployed.eventSource.maximumConcurrency,
    retryVisibilitySeconds: options.retryVisibilitySeconds ?? 2,
    invoke: (event) => functions.launcher.invoke<SQSBatchResponse>(event),
    onReceive: recordReceives(messages),
    log,
  });
  cleanups.push(() => eventSource.stop());

  const where = {
    stackTag: environments.launcher.environment[ENV.stack],
    parameterPrefix: environments.launcher.environment[ENV.runnerParameterPrefix],
    jobQueueUrl: deployed.jobQueue.url,
    deadLetterQueueUrl: deployed.deadLetterQueue.url,
  };
  const busy = () => ({
    webhook: apiGateway.inFlight(),
    launcher: eventSource.inFlight(),
    instances: instances.inFlight(),
    deliveries: github.deliveriesInFlight(),
  });
  const waitForIdle = async (timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    let quiet = 0;
    while (Date.now() < deadline) {
      const depth = await queueDepth(harness.sqs, deployed.jobQueue.url);
      const idle = Object.values(busy()).every((n) => n === 0) && depth.visible === 0 && depth.inFlight === 0;
      quiet = idle ? quiet + 1 : 0;
      if (quiet >= 3) return;
      await sleep(100);
    }
    const depth = await queueDepth(harness.sqs, deployed.jobQueue.url);
    throw new Error(`pipeline not idle after ${timeoutMs} ms: ${JSON.stringify({ ...busy(), queue: depth })}`);
  };
  const scheduler = new Scheduler({
    clock,
    region,
    github,
    functions: { reconciler: functions.reconciler, redeliver: functions.redeliver, reaper: functions.reaper },
    settle: () => waitForIdle(120_000),
    log,
  });

  return {
    stack: stackName,
    region,
    snapshot,
    deployed,
    webhookUrl: apiGateway.url,
    webhookSecret,
    github,
    proxy,
    functions,
    environments,
    deliveries: apiGateway.records,
    instances: instances.records,
    messages,
    launcherBatches: eventSource.batches,
    deliver: (delivery) => apiGateway.deliver(delivery),
    pauseInstanceBoots: () => instances.pause(),
    resumeInstanceBoots: (jobIds) => instances.resume(jobIds),
    hangJobs: (jobIds) => instances.hang(jobIds),
    waitForIdle,
    clock,
    scheduler,
    setWebhookOutage: (status) => apiGateway.setOutage(status),
    async runReaper() {
      const run = await scheduler.fire("reaper");
      if (run?.error) throw new Error(run.error);
      return run?.result as { terminated: number; deregistered: number; deletedParameters: number };
    },
    state: () => readState(harness, where),
    awsCalls: (caller, since) => proxy.count({ caller: CALLERS[caller], since }),
    fleetCalls: () => proxy.calls.filter((c) => c.caller === CALLERS.launcher && c.action === "CreateFleet"),
    stop: stopAll,
  };
}
