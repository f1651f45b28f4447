/**
 * The launcher against moto (EC2 CreateFleet instant, SSM) and the GitHub stand-in. EC2/SSM calls are counted with
 * an SDK middleware (the calls still go to moto). Spot capacity errors, which moto does not emulate, are injected
 * by wrapping the EC2 client's `send` for those tests only; everything else runs against moto.
 */
import "./quiet.js";
import assert from "node:assert/strict";
import {
  CreateFleetCommand,
  CreateLaunchTemplateCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  type Instance,
} from "@aws-sdk/client-ec2";
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { ENV, TAG } from "../../../contract/names.js";
import type { RuntimePool } from "../../../contract/pool.js";
import type { JobMessage } from "../../../contract/job.js";
import { getInstallationOctokit, resetGitHubClients } from "../../../runtime/shared/github.js";
import { resetCapacityCache } from "../../../runtime/launcher/capacity.js";
import { createHandler } from "../../../runtime/handlers/launcher.js";
import { launchRunners, makeRunnerName } from "../../../runtime/launcher/launch.js";
import { readLauncherSettings } from "../../../runtime/launcher/settings.js";
import { startMoto, type MotoServer } from "../../../testkit/moto.js";
import { ROUTES, type GitHubApi } from "../../../testkit/github/server.js";
import { resetAppEnvironment, startAppEnvironment, storeAppKey } from "../github/fixture.js";

const STACK = "test";
const PREFIX = "/cirunners/test/runners";
const ACCOUNT = "123456789012";
const CONTEXT = {
  invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:launcher`,
  functionName: "launcher",
  awsRequestId: "req-1",
} as unknown as Context;
const X64_AMI = "ami-0123456789abcdef0";
const ARM_AMI = "ami-0fedcba9876543210";

interface World {
  subnetIds: string[];
  pools: RuntimePool[];
}

function countingEc2(counts: Map<string, number>): EC2Client {
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

async function buildWorld(ec2: EC2Client, maxRunners = { x64: 10, arm: 10 }): Promise<World> {
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
function job(pool: string, overrides: Partial<JobMessage> = {}): JobMessage {
  sequence += 1;
  return {
    version: 1,
    deliveryId: `delivery-${sequence}`,
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

function sqsEvent(items: Array<{ body: JobMessage | string; group?: string }>): SQSEvent {
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

/** Inspects moto with its own client, so the launcher's EC2 call counts stay untouched. */
async function liveInstances(): Promise<Instance[]> {
  const out = await new EC2Client({}).send(
    new DescribeInstancesCommand({ Filters: [{ Name: "instance-state-name", Values: ["pending", "running"] }] }),
  );
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

async function runnerParameters(ssm: SSMClient) {
  const out = await ssm.send(new GetParametersByPathCommand({ Path: PREFIX, WithDecryption: true }));
  return out.Parameters ?? [];
}

/** Runs fn while collecting the EMF metric documents Powertools writes to stdout. */
async function captureMetrics<T>(
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

const tag = (instance: Instance, key: string) => instance.Tags?.find((t) => t.Key === key)?.Value;

describe("launcher against moto and the GitHub stand-in", () => {
  let moto: MotoServer;
  let github: GitHubApi;
  let counts: Map<string, number>;
  let ec2: EC2Client;
  let ssm: SSMClient;
  let world: World;
  let handler: ReturnType<typeof createHandler>;

  before(async () => {
    moto = await startMoto();
    github = await startAppEnvironment({ "octo-org": 7 });
    process.env[ENV.stack] = STACK;
    process.env[ENV.runnerParameterPrefix] = PREFIX;
    process.env[ENV.runnerScope] = "org";
    process.env[ENV.githubOwner] = "octo-org";
    process.env[ENV.runnerGroupId] = "3";
  });
  after(async () => {
    await github?.stop();
    await moto?.stop();
    resetGitHubClients();
    resetCapacityCache();
  });
  beforeEach(async () => {
    await resetAppEnvironment(moto, github);
    resetCapacityCache();
    counts = new Map();
    ec2 = countingEc2(counts);
    ssm = new SSMClient({});
    world = await buildWorld(ec2);
    counts.clear();
    handler = createHandler(() => ({ ec2, ssm }));
  });

  it("turns one job into one instance from the pool's template, tagged, with one SecureString named by instance id", async () => {
    const message = job("linux-x64");
    const response = await handler(sqsEvent([{ body: message }]), CONTEXT);
    assert.deepEqual(response.batchItemFailures, []);

    const instances = await liveInstances();
    assert.equal(instances.length, 1);
    const [instance] = instances;
    assert.equal(instance.ImageId, X64_AMI, "started from the linux-x64 launch template");
    assert.ok(["m7i.large", "m6i.large"].includes(instance.InstanceType!));
    assert.ok(world.subnetIds.includes(instance.SubnetId!));
    assert.equal(tag(instance, TAG.stack), STACK);
    assert.equal(tag(instance, TAG.pool), "linux-x64");
    assert.equal(tag(instance, TAG.jobId), String(message.jobId));
    assert.equal(tag(instance, TAG.repository), "octo-org/app");
    const runnerName = tag(instance, TAG.runnerName)!;
    assert.match(runnerName, new RegExp(`^linux-x64-${message.jobId}-[0-9a-f]{6}$`));
    assert.equal(tag(instance, "Name"), runnerName);

    const parameter = (
      await ssm.send(new GetParameterCommand({ Name: `${PREFIX}/${instance.InstanceId}`, WithDecryption: true }))
    ).Parameter!;
    assert.equal(parameter.Type, "SecureString");
    const [runner] = github.runners.values();
    assert.equal(parameter.Value, runner.encodedJitConfig);
    assert.equal(runner.name, runnerName);
    assert.deepEqual(runner.labels, ["self-hosted", "linux", "x64"]);
    assert.equal(runner.runnerGroupId, 3);
    assert.equal(runner.workFolder, "_work");
    assert.equal(runner.scope, "org:octo-org");
    const tags =
      (
        await ssm.send(
          new ListTagsForResourceCommand({ ResourceType: "Parameter", ResourceId: `${PREFIX}/${instance.InstanceId}` }),
        )
      ).TagList ?? [];
    assert.equal(
      tags.find((t) => t.Key === TAG.instanceArn)?.Value,
      `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${instance.InstanceId}`,
    );
    assert.equal(counts.get("CreateFleetCommand"), 1);
    assert.equal(counts.get("CreateTagsCommand") ?? 0, 0, "a single-job fleet carries the job tags itself");
  });

  it("launches a batch of jobs for one pool with ONE CreateFleet, one DescribeInstances and one installation token", async () => {
    const messages = [job("linux-x64"), job("linux-x64"), job("linux-x64"), job("linux-x64")];
    const { result: response, metrics } = await captureMetrics(() =>
      handler(sqsEvent(messages.map((body) => ({ body }))), CONTEXT),
    );
    assert.deepEqual(response.batchItemFailures, []);
    const launchedMetric = metrics.find((m) => "JobsLaunched" in m)!;
    assert.deepEqual(launchedMetric.JobsLaunched, [1, 1, 1, 1]);
    assert.ok(
      (launchedMetric.LaunchLatency as number[]).every((ms) => ms >= 1500),
      "latency counts from enqueuedAt",
    );
    assert.equal(counts.get("CreateFleetCommand"), 1);
    assert.equal(counts.get("DescribeInstancesCommand"), 1);
    assert.equal(github.calls[ROUTES.createInstallationToken], 1);
    assert.equal(github.calls[ROUTES.orgJitConfig], 4);

    const instances = await liveInstances();
    assert.equal(instances.length, 4);
    assert.deepEqual(instances.map((i) => tag(i, TAG.jobId)).sort(), messages.map((m) => String(m.jobId)).sort());
    const parameters = await runnerParameters(ssm);
    assert.deepEqual(parameters.map((p) => p.Name).sort(), instances.map((i) => `${PREFIX}/${i.InstanceId}`).sort());
    // each instance's parameter holds the JIT config of the runner named in its tags
    for (const instance of instances) {
      const runner = [...github.runners.values()].find((r) => r.name === tag(instance, TAG.runnerName))!;
      assert.equal(
        parameters.find((p) => p.Name === `${PREFIX}/${instance.InstanceId}`)!.Value,
        runner.encodedJitConfig,
      );
    }

    // A second batch within the cache TTL counts from the cache (and its own launches): no DescribeInstances.
    await handler(sqsEvent([{ body: job("linux-x64") }]), CONTEXT);
    assert.equal(counts.get("DescribeInstancesCommand"), 1);
    assert.equal(
      github.calls[ROUTES.createInstallationToken],
      1,
      "the installation token is reused across invocations",
    );
  });

  it("looks up the App installation once when messages come from an organization webhook (no installation id)", async () => {
    const messages = [job("linux-x64", { installationId: undefined }), job("linux-x64", { installationId: undefined })];
    const response = await handler(sqsEvent(messages.map((body) => ({ body }))), CONTEXT);
    assert.deepEqual(response.batchItemFailures, []);
    assert.equal((await liveInstances()).length, 2);
    assert.equal(github.calls[ROUTES.orgInstallation], 1);
    assert.equal(github.calls[ROUTES.orgJitConfig], 2);
    await handler(sqsEvent([{ body: job("linux-x64", { installationId: undefined }) }]), CONTEXT);
    assert.equal(github.calls[ROUTES.orgInstallation], 1, "the installation id is cached across invocations");
    assert.equal(github.calls[ROUTES.createInstallationToken], 1);
  });

  it("returns the message when the installation lookup fails, and launches nothing", async () => {
    github.failNext(ROUTES.orgInstallation, 502);
    const message = job("linux-x64", { installationId: undefined });
    const response = await handler(sqsEvent([{ body: message }]), CONTEXT);
    assert.equal(response.batchItemFailures.length, 1);
    assert.equal((await liveInstances()).length, 0);
    assert.equal(github.calls[ROUTES.orgJitConfig], 0);
  });

  it("falls back to on-demand for the remainder when spot reports capacity errors", async () => {
    const fleetInputs: Array<{ lifecycle?: string; count?: number }> = [];
    const send = ec2.send.bind(ec2) as (command: unknown) => Promise<unknown>;
    // moto does not emulate capacity errors: spot fleets get one instance (from moto) plus a capacity error.
    (ec2 as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      if (command instanceof CreateFleetCommand) {
        const spec = command.input.TargetCapacitySpecification!;
        fleetInputs.push({ lifecycle: spec.DefaultTargetCapacityType, count: spec.TotalTargetCapacity });
        if (spec.DefaultTargetCapacityType === "spot") {
          const partial = new CreateFleetCommand({
            ...command.input,
            TargetCapacitySpecification: { ...spec, TotalTargetCapacity: 1, SpotTargetCapacity: 1 },
          });
          const output = (await send(partial)) as { Errors?: unknown[] };
          return {
            ...output,
            Errors: [
              {
                ErrorCode: "InsufficientInstanceCapacity",
                ErrorMessage: "There is no Spot capacity available that matches your request.",
                Lifecycle: "spot",
              },
            ],
          };
        }
      }
      return send(command);
    };
    const response = await handler(
      sqsEvent([{ body: job("linux-arm") }, { body: job("linux-arm") }, { body: job("linux-arm") }]),
      CONTEXT,
    );
    assert.deepEqual(response.batchItemFailures, []);
    assert.deepEqual(fleetInputs, [
      { lifecycle: "spot", count: 3 },
      { lifecycle: "on-demand", count: 2 },
    ]);
    const instances = await liveInstances();
    assert.equal(instances.length, 3);
    assert.ok(instances.every((i) => i.ImageId === ARM_AMI));
    assert.equal(instances.filter((i) => i.InstanceLifecycle === "spot").length, 1);
    assert.equal((await runnerParameters(ssm)).length, 3);
  });

  it("does not fall back to on-demand when spot fails for another reason, and deletes the JIT runners", async () => {
    const send = ec2.send.bind(ec2) as (command: unknown) => Promise<unknown>;
    (ec2 as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      if (command instanceof CreateFleetCommand)
        return { Instances: [], Errors: [{ ErrorCode: "InvalidLaunchTemplateId.NotFound", ErrorMessage: "gone" }] };
      return send(command);
    };
    const event = sqsEvent([{ body: job("linux-arm") }, { body: job("linux-arm") }]);
    const response = await handler(event, CONTEXT);
    assert.deepEqual(
      response.batchItemFailures.map((f) => f.itemIdentifier).sort(),
      event.Records.map((r) => r.messageId).sort(),
    );
    assert.equal(counts.get("CreateFleetCommand") ?? 0, 0);
    assert.equal(github.runners.size, 0, "no JIT runner without an instance");
    assert.equal((await runnerParameters(ssm)).length, 0);
  });

  for (const status of [500, 502, 429]) {
    it(`returns the message on GitHub ${status} and leaves no parameter and no instance`, async () => {
      github.failNext(ROUTES.orgJitConfig, status, 1);
      const event = sqsEvent([{ body: job("linux-x64") }]);
      const { result: response, metrics } = await captureMetrics(() => handler(event, CONTEXT));
      assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: event.Records[0].messageId }]);
      assert.deepEqual(
        metrics.map((m) => [m.Reason, m.LaunchFailures]),
        [["github-retryable", 1]],
      );
      assert.equal((await liveInstances()).length, 0);
      assert.equal((await runnerParameters(ssm)).length, 0);
      assert.equal(counts.get("CreateFleetCommand") ?? 0, 0);
      assert.equal(github.runners.size, 0);
    });
  }

  it("fails a job with a permanent GitHub error (it reaches the DLQ) and still launches the others", async () => {
    github.failNext(ROUTES.orgJitConfig, 422, 1);
    const event = sqsEvent([{ body: job("linux-x64") }]);
    const response = await handler(event, CONTEXT);
    assert.equal(response.batchItemFailures.length, 1);
    const next = sqsEvent([{ body: job("linux-x64") }]);
    assert.deepEqual((await handler(next, CONTEXT)).batchItemFailures, []);
    assert.equal((await liveInstances()).length, 1);
  });

  it("respects the pool's max runners, counting instances that already run, and returns the rest", async () => {
    await moto.reset();
    await storeAppKey();
    world = await buildWorld(ec2, { x64: 3, arm: 10 });
    handler = createHandler(() => ({ ec2, ssm }));
    // one runner of the pool already running, one of another stack (not ours)
    await ec2.send(
      new RunInstancesCommand({
        ImageId: X64_AMI,
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          {
            ResourceType: "instance",
            Tags: [
              { Key: TAG.stack, Value: STACK },
              { Key: TAG.pool, Value: "linux-x64" },
            ],
          },
        ],
      }),
    );
    await ec2.send(
      new RunInstancesCommand({
        ImageId: X64_AMI,
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          {
            ResourceType: "instance",
            Tags: [
              { Key: TAG.stack, Value: "other" },
              { Key: TAG.pool, Value: "linux-x64" },
            ],
          },
        ],
      }),
    );
    counts.clear();
    const event = sqsEvent([
      { body: job("linux-x64") },
      { body: job("linux-x64") },
      { body: job("linux-x64") },
      { body: job("linux-arm") },
    ]);
    const response = await handler(event, CONTEXT);
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: event.Records[2].messageId }]);
    const ours = (await liveInstances()).filter((i) => tag(i, TAG.stack) === STACK);
    assert.equal(ours.filter((i) => tag(i, TAG.pool) === "linux-x64").length, 3);
    assert.equal(counts.get("DescribeInstancesCommand"), 1, "one DescribeInstances for both pools");
    assert.equal(github.calls[ROUTES.orgJitConfig], 3, "no JIT config for the job over capacity");

    // the cache knows about the two own launches: a further job is refused without describing again
    const more = sqsEvent([{ body: job("linux-x64") }]);
    assert.equal((await handler(more, CONTEXT)).batchItemFailures.length, 1);
    assert.equal(counts.get("DescribeInstancesCommand"), 1);
  });

  it("fails malformed messages (not dropped) and the later messages of their group, and launches the rest", async () => {
    const good = job("linux-x64");
    const sameGroupAfter = job("linux-x64");
    const other = job("linux-x64");
    const event = sqsEvent([
      { body: "{not json", group: "g1" },
      { body: sameGroupAfter, group: "g1" },
      { body: JSON.stringify({ ...good, jobId: "x" }), group: "g2" },
      { body: job("no-such-pool"), group: "g3" },
      { body: other, group: "g4" },
    ]);
    const response = await handler(event, CONTEXT);
    assert.deepEqual(
      response.batchItemFailures.map((f) => f.itemIdentifier),
      event.Records.slice(0, 4).map((r) => r.messageId),
    );
    const instances = await liveInstances();
    assert.deepEqual(
      instances.map((i) => tag(i, TAG.jobId)),
      [String(other.jobId)],
    );
  });

  it("terminates the instance and deletes its runner when its parameter cannot be written", async () => {
    let puts = 0;
    const send = ssm.send.bind(ssm) as (command: unknown) => Promise<unknown>;
    (ssm as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      if (command instanceof PutParameterCommand && ++puts === 2)
        throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
      return send(command);
    };
    const event = sqsEvent([{ body: job("linux-x64") }, { body: job("linux-x64") }, { body: job("linux-x64") }]);
    const response = await handler(event, CONTEXT);
    assert.equal(response.batchItemFailures.length, 1);
    const instances = await liveInstances();
    const parameters = await runnerParameters(ssm);
    assert.equal(instances.length, 2);
    assert.deepEqual(parameters.map((p) => p.Name).sort(), instances.map((i) => `${PREFIX}/${i.InstanceId}`).sort());
    assert.deepEqual(
      [...github.runners.values()].map((r) => r.name).sort(),
      instances.map((i) => tag(i, TAG.runnerName)).sort(),
    );
    assert.equal(counts.get("TerminateInstancesCommand"), 1);
  });

  it("deletes surplus JIT runners when the fleet starts fewer instances than jobs", async () => {
    const send = ec2.send.bind(ec2) as (command: unknown) => Promise<unknown>;
    (ec2 as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      if (command instanceof CreateFleetCommand) {
        const spec = command.input.TargetCapacitySpecification!;
        const output = (await send(
          new CreateFleetCommand({
            ...command.input,
            TargetCapacitySpecification: { ...spec, TotalTargetCapacity: 1, OnDemandTargetCapacity: 1 },
          }),
        )) as object;
        return {
          ...output,
          Errors: [{ ErrorCode: "InsufficientInstanceCapacity", ErrorMessage: "no capacity", Lifecycle: "on-demand" }],
        };
      }
      return send(command);
    };
    const event = sqsEvent([{ body: job("linux-x64") }, { body: job("linux-x64") }]);
    const response = await handler(event, CONTEXT);
    assert.deepEqual(
      response.batchItemFailures,
      [{ itemIdentifier: event.Records[1].messageId }],
      "the later job is the surplus",
    );
    const instances = await liveInstances();
    assert.equal(instances.length, 1);
    assert.equal(github.runners.size, 1);
    assert.equal([...github.runners.values()][0].name, tag(instances[0], TAG.runnerName));
  });

  it("rolls back a launched job that follows a failed one in its FIFO group", async () => {
    const send = ec2.send.bind(ec2) as (command: unknown) => Promise<unknown>;
    const armTemplate = world.pools.find((p) => p.name === "linux-arm")!.launchTemplateId;
    (ec2 as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      if (
        command instanceof CreateFleetCommand &&
        command.input.LaunchTemplateConfigs?.[0].LaunchTemplateSpecification?.LaunchTemplateId === armTemplate
      ) {
        throw Object.assign(new Error("Request limit exceeded."), { name: "RequestLimitExceeded" });
      }
      return send(command);
    };
    const first = job("linux-arm");
    const second = job("linux-x64");
    const independent = job("linux-x64");
    const event = sqsEvent([
      { body: first, group: "repo-a" },
      { body: second, group: "repo-a" },
      { body: independent, group: "repo-b" },
    ]);
    const response = await handler(event, CONTEXT);
    assert.deepEqual(
      response.batchItemFailures.map((f) => f.itemIdentifier),
      [event.Records[0].messageId, event.Records[1].messageId],
    );
    const instances = await liveInstances();
    assert.deepEqual(
      instances.map((i) => tag(i, TAG.jobId)),
      [String(independent.jobId)],
    );
    assert.deepEqual(
      (await runnerParameters(ssm)).map((p) => p.Name),
      [`${PREFIX}/${instances[0].InstanceId}`],
    );
    assert.deepEqual(
      [...github.runners.values()].map((r) => r.name),
      [tag(instances[0], TAG.runnerName)],
    );
  });

  it("registers repo-scoped runners on the job's repository", async () => {
    process.env[ENV.runnerScope] = "repo";
    try {
      const response = await handler(sqsEvent([{ body: job("linux-x64", { repository: "octo-org/api" }) }]), CONTEXT);
      assert.deepEqual(response.batchItemFailures, []);
      assert.equal(github.calls[ROUTES.repoJitConfig], 1);
      assert.equal([...github.runners.values()][0].scope, "repo:octo-org/api");
    } finally {
      process.env[ENV.runnerScope] = "org";
    }
  });

  it("starts idle warm runners through the launch core without job tags", async () => {
    const settings = readLauncherSettings(process.env, CONTEXT.invokedFunctionArn);
    const pool = settings.pools.find((p) => p.name === "linux-x64")!;
    const requests = [1, 2].map((i) => ({
      key: `warm-${i}`,
      runnerName: makeRunnerName(pool.name, "warm"),
      installationId: 7,
      target: { scope: "org" as const, org: "octo-org" },
    }));
    const result = await launchRunners(pool, requests, settings, { ec2, ssm, octokit: getInstallationOctokit });
    assert.equal(result.failed.length, 0);
    assert.equal(result.launched.length, 2);
    const instances = await liveInstances();
    assert.equal(instances.length, 2);
    for (const instance of instances) {
      assert.match(tag(instance, TAG.runnerName)!, /^linux-x64-warm-[0-9a-f]{6}$/);
      assert.equal(tag(instance, TAG.jobId), undefined);
    }
    assert.equal(counts.get("CreateFleetCommand"), 1);
  });
});
