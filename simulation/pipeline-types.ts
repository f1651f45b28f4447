/** The simulated pipeline's options and handle (pipeline.ts builds it). */
import type { DeliveryRecord } from "./api-gateway";
import type { Caller } from "./callers";
import type { Delivery } from "./deliveries";
import type { DeployedStack } from "./deploy";
import type { FunctionEnvironments } from "./function-set";
import type { InstanceRecord } from "./instances";
import type { AwsCall, CountingProxy } from "./proxy";
import type { BatchRecord } from "./sqs-event-source";
import type { SimulationClock } from "./clock";
import type { FunctionSet } from "./function-set";
import type { Scheduler } from "./scheduler";
import type { StackSnapshot } from "./stack";
import type { PipelineState } from "./state";
import type { GitHubApi } from "../testkit/github/server";

export interface PipelineOptions {
  /** Stack whose config is deployed (default dev). */
  stack?: string;
  /** Webhook secret stored in the stack's Secrets Manager secret, and the deliveries signed with (default: random). */
  webhookSecret?: string;
  /** Launcher containers = parallel event source invocations (default: the mapping's maximum concurrency). */
  launcherConcurrency?: number;
  /** Webhook containers API Gateway may run at once (default 4). */
  webhookConcurrency?: number;
  /** Seconds until a message the launcher returned is visible again (default 2 s; see sqs-event-source.ts). */
  retryVisibilitySeconds?: number;
  /** The reaper's boot grace (default 3 s, instead of the stack's minutes). */
  bootGraceSeconds?: number;
  /**
   * An SQS emulator (e.g. ElasticMQ, bench/sqs-emulator.ts) that serves every SQS call instead of moto: the counting
   * proxy routes `AmazonSQS.*` requests there, so the queues are created there and call counts stay as they are.
   * The caller starts and stops it. Default: moto serves SQS.
   */
  sqsEndpoint?: string;
  /**
   * Services (SigV4 signing names, e.g. ["dynamodb", "ec2", "ssm", "s3"]) that get a moto server of their own (the
   * benchmark: one moto process serialises every service's calls on one interpreter); the proxy routes each
   * request by its service. Default: one moto server for everything.
   */
  motoPerService?: string[];
  /** Step-by-step output (default: none). */
  log?: (line: string) => void;
  /** Each line a function logs (default: dropped). */
  functionLog?: (role: string, line: string) => void;
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
  functions: FunctionSet;
  /** The functions' environments after rewriting, and what was rewritten. */
  environments: FunctionEnvironments;
  deliveries: DeliveryRecord[];
  instances: Map<string, InstanceRecord>;
  /** Messages the event source received, by message id (first receive). */
  messages: Map<string, { deliveryId?: string; jobId?: number; firstReceivedAt: number; receives: number }>;
  /** Launcher invocations: batch size and handler time. */
  launcherBatches: BatchRecord[];
  /** Sends one delivery through the HTTP endpoint, exactly as given. */
  deliver(delivery: Delivery): Promise<DeliveryRecord>;
  /** Launched instances wait before booting (their JIT parameters stay in place) until resumed. */
  pauseInstanceBoots(): void;
  /** Ends the pause; with `jobIds`, only those jobs' held instances boot now (the rest wait for a later call). */
  resumeInstanceBoots(jobIds?: number[]): Promise<void>;
  /** Jobs of these ids get an instance that never boots: its runner never comes online (for the reaper). */
  hangJobs(jobIds: number[]): void;
  /** Resolves when no delivery, message, invocation or running job is left (hung and paused instances aside). */
  waitForIdle(timeoutMs?: number): Promise<void>;
  /** Simulated time: the functions' `Date` follows it, moto's timestamps are mapped to it. */
  clock: SimulationClock;
  /** The stack's schedules on the clock: `scheduler.advance(ms)` moves time and fires what is due. */
  scheduler: Scheduler;
  /** While set, the webhook endpoint answers this status without invoking the function (an outage, throttling). */
  setWebhookOutage(status: number | undefined): void;
  /** One run of the REAL reaper handler. */
  runReaper(): Promise<{ terminated: number; deregistered: number; deletedParameters: number }>;
  /** Instances (all states), runner parameters and queue depths, read from moto. */
  state(): Promise<PipelineState>;
  /** AWS calls of one caller, as `service:action` → count. */
  awsCalls(caller: Caller, since?: number): Record<string, number>;
  /** CreateFleet calls (time and instance ids). */
  fleetCalls(): AwsCall[];
  stop(): Promise<void>;
}
