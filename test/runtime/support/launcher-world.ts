/**
 * A launcher world in moto and the GitHub stand-in: a VPC with two subnets, two pools with launch templates, job
 * messages and SQS events, and readers that inspect moto with their own clients. EC2 calls are counted with an SDK
 * middleware (the calls still go to moto).
 */
import {
  CreateLaunchTemplateCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Instance,
} from "@aws-sdk/client-ec2";
import { GetParametersByPathCommand, type SSMClient } from "@aws-sdk/client-ssm";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import type { JobMessage } from "../../../contract/job.js";
import { ENV } from "../../../contract/names.js";
import type { RuntimePool } from "../../../contract/pool.js";
import { readSettings } from "../../../contract/settings.js";
import { createLauncherHandler, launchEnvironment } from "../../../runtime/handlers/launcher.js";
import { type Ledger, recordJob } from "../../../runtime/adapters/ledger.js";
import { LiveCapacity } from "../../../runtime/services/live-capacity.js";
import { testGitHubApp } from "../github/fixture.js";

export const STACK = "test";
export const PREFIX = "/cirunners/test/runners";
export const ACCOUNT = "123456789012";
export const CONTEXT = {
  invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:launcher`,
  functionName: "launcher",
  awsRequestId: "req-1",
} as unknown as Context;
export const X64_AMI = "ami-0123456789abcdef0";
export const ARM_AMI = "ami-0fedcba9876543210";

export interface World {
  subnetIds: string[];
  pools: RuntimePool[];
}

export function countingEc2(counts: Map<string, number>): EC2Client {
  const client = new EC2Client({});
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counts.set(context.commandName as string, (counts.get(context.commandName as string) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "countCommands" },
  );
  return client;
}

export async function buildWorld(ec2: EC2Client, maxRunners = { x64: 10, arm: 10 }): Promise<World> {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.30.0.0/16" }));
  const subnetIds: string[] = [];
  for (const [i, az] of ["us-east-1a", "us-east-1b"].entries()) {
    const subnet = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: `10.30.${i}.0/24`, AvailabilityZone: az }),
    );
    subnetIds.push(subnet.Subnet!.SubnetId!);
  }
  const template = async (name: string, ami: string) =>
    (
      await ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: `${STACK}-${name}`,
          LaunchTemplateData: { ImageId: ami, InstanceInitiatedShutdownBehavior: "terminate" },
        }),
      )
    ).LaunchTemplate!.LaunchTemplateId!;
  const pools: RuntimePool[] = [
    {
      name: "linux-x64",
      labels: ["self-hosted", "linux", "x64"],
      instanceTypes: ["m7i.large", "m6i.large"],
      architecture: "x64",
      maxRunners: maxRunners.x64,
      spot: false,
      launchTemplateId: await template("linux-x64", X64_AMI),
    },
    {
      name: "linux-arm",
      labels: ["self-hosted", "linux", "arm64"],
      instanceTypes: ["m7g.large"],
      architecture: "arm64",
      maxRunners: maxRunners.arm,
      spot: true,
      launchTemplateId: await template("linux-arm", ARM_AMI),
    },
  ];
  process.env[ENV.pools] = JSON.stringify(pools);
  process.env[ENV.subnetIds] = JSON.stringify(subnetIds);
  return { subnetIds, pools };
}

let sequence = 0;
export function job(pool: string, overrides: Partial<JobMessage> = {}): JobMessage {
  sequence += 1;
  return {
    version: 1,
    deliveryId: `delivery-${sequence}`,
    recordVersion: 0,
    pool,
    jobId: 9000 + sequence,
    runId: 500 + sequence,
    runAttempt: 1,
    repository: "octo-org/app",
    owner: "octo-org",
    installationId: 7,
    labels: pool === "linux-arm" ? ["self-hosted", "linux", "arm64"] : ["self-hosted", "linux", "x64"],
    enqueuedAt: new Date(Date.now() - 1500).toISOString(),
    ...overrides,
  };
}

export function sqsEvent(items: Array<{ body: JobMessage | string; group?: string }>): SQSEvent {
  const records: SQSRecord[] = items.map((item, i) => ({
    messageId: `m-${sequence}-${i}`,
    receiptHandle: `rh-${i}`,
    body: typeof item.body === "string" ? item.body : JSON.stringify(item.body),
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(Date.now()),
      SenderId: "AIDA",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      MessageGroupId: item.group ?? (typeof item.body === "string" ? `g-${i}` : `job-${item.body.jobId}`),
      MessageDeduplicationId: `d-${i}`,
      SequenceNumber: String(i + 1),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:us-east-1:${ACCOUNT}:jobs.fifo`,
    awsRegion: "us-east-1",
  }));
  return { Records: records };
}

/**
 * The SQS event for `items`, after recording each job message's job as `queued` in the ledger (what the webhook
 * does before it sends one), so the launcher can claim it.
 */
export async function queuedEvent(
  ledger: Ledger,
  items: Array<{ body: JobMessage | string; group?: string }>,
): Promise<SQSEvent> {
  for (const { body } of items) {
    if (typeof body === "string") continue;
    const { version: _, deliveryId: __, recordVersion: ___, enqueuedAt, ...job } = body;
    await recordJob(ledger, { ...job, state: "queued", queuedAt: enqueuedAt }, new Date());
  }
  return sqsEvent(items);
}

/** Inspects moto with its own client, so the launcher's EC2 call counts stay untouched. */
export async function liveInstances(): Promise<Instance[]> {
  const out = await new EC2Client({}).send(
    new DescribeInstancesCommand({ Filters: [{ Name: "instance-state-name", Values: ["pending", "running"] }] }),
  );
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

export async function runnerParameters(ssm: SSMClient) {
  const out = await ssm.send(new GetParametersByPathCommand({ Path: PREFIX, WithDecryption: true }));
  return out.Parameters ?? [];
}

/** Runs fn while collecting the EMF metric documents Powertools writes to stdout. */
export async function captureMetrics<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; metrics: Array<Record<string, unknown>> }> {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = chunk.toString();
    if (text.includes('"_aws"')) {
      lines.push(...text.split("\n").filter((l) => l.includes('"_aws"')));
      return true;
    }
    return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    const result = await fn();
    return { result, metrics: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  } finally {
    process.stdout.write = original;
  }
}

export const tag = (instance: Instance, key: string) => instance.Tags?.find((t) => t.Key === key)?.Value;

/** The launcher handler of a fresh container, with settings read from the environment and the given clients. */
export function launcherHandler(ec2: EC2Client, ssm: SSMClient, githubUrl: string, ledger: Ledger) {
  const settings = readSettings("launcher", process.env);
  return createLauncherHandler({
    env: launchEnvironment(settings, CONTEXT.invokedFunctionArn),
    ledger,
    ec2,
    ssm,
    github: testGitHubApp(githubUrl),
    capacity: new LiveCapacity(ec2, settings[ENV.stack]),
  });
}
