/**
 * The launcher handler against moto (EC2 CreateFleet instant, SSM) and the GitHub stand-in: one job, batches, the
 * installation lookup, capacity, malformed messages, the FIFO rule and repository scope.
 */
import "./quiet.js";
import assert from "node:assert/strict";
import { CreateFleetCommand, type EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { GetParameterCommand, ListTagsForResourceCommand, SSMClient } from "@aws-sdk/client-ssm";
import { ENV, TAG } from "../../../contract/names.js";
import { type GitHubApi, ROUTES } from "../../../testkit/github/server.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import {
  ACCOUNT,
  buildWorld,
  CONTEXT,
  captureMetrics,
  countingEc2,
  job,
  launcherHandler,
  liveInstances,
  PREFIX,
  runnerParameters,
  STACK,
  sqsEvent,
  tag,
  type World,
  X64_AMI,
} from "../support/launcher-world.js";
import { resetAppEnvironment, startAppEnvironment, storeAppKey } from "../github/fixture.js";

describe("launcher against moto and the GitHub stand-in", () => {
  let moto: MotoServer;
  let github: GitHubApi;
  let counts: Map<string, number>;
  let ec2: EC2Client;
  let ssm: SSMClient;
  let world: World;
  let handler: ReturnType<typeof launcherHandler>;

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
  });
  beforeEach(async () => {
    await resetAppEnvironment(moto, github);
    counts = new Map();
    ec2 = countingEc2(counts);
    ssm = new SSMClient({});
    world = await buildWorld(ec2);
    counts.clear();
    handler = launcherHandler(ec2, ssm, github.url);
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

  it("respects the pool's max runners, counting instances that already run, and returns the rest", async () => {
    await moto.reset();
    await storeAppKey();
    world = await buildWorld(ec2, { x64: 3, arm: 10 });
    handler = launcherHandler(ec2, ssm, github.url);
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

  it("does not process a job that follows a failed one in its FIFO group (Powertools' skipGroupOnError)", async () => {
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
      handler = launcherHandler(ec2, ssm, github.url);
      const response = await handler(sqsEvent([{ body: job("linux-x64", { repository: "octo-org/api" }) }]), CONTEXT);
      assert.deepEqual(response.batchItemFailures, []);
      assert.equal(github.calls[ROUTES.repoJitConfig], 1);
      assert.equal([...github.runners.values()][0].scope, "repo:octo-org/api");
    } finally {
      process.env[ENV.runnerScope] = "org";
    }
  });
});
