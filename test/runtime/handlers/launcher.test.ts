/**
 * The launcher handler against moto (EC2 CreateFleet instant, SSM) and the GitHub stand-in: one job, batches, the
 * installation lookup, capacity, malformed messages, the FIFO rule and repository scope.
 */
import "./quiet.js";
import assert from "node:assert/strict";
import { CreateFleetCommand, type EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { GetParameterCommand, ListTagsForResourceCommand, SSMClient } from "@aws-sdk/client-ssm";
import { METRIC } from "../../../contract/metrics.js";
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
  queuedEvent,
  tag,
  type World,
  X64_AMI,
} from "../support/launcher-world.js";
import { getJob, type Ledger } from "../../../runtime/adapters/ledger.js";
import { createLedgerTable, dynamoClient } from "../support/ledger-table.js";
import { resetAppEnvironment, startAppEnvironment, storeAppKey } from "../github/fixture.js";

describe("launcher against moto and the GitHub stand-in", () => {
  let moto: MotoServer;
  let github: GitHubApi;
  let counts: Map<string, number>;
  let ec2: EC2Client;
  let ssm: SSMClient;
  let world: World;
  let handler: ReturnType<typeof launcherHandler>;
  let ledger: Ledger;

  before(async () => {
    moto = await startMoto();
    github = await startAppEnvironment({ "octo-org": 7 });
    process.env[ENV.stack] = STACK;
    process.env[ENV.runnerParameterPrefix] = PREFIX;
    process.env[ENV.runnerScope] = "org";
    process.env[ENV.githubOwner] = "octo-org";
    process.env[ENV.runnerGroupId] = "3";
    process.env[ENV.ledgerTable] = "jobs";
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
    ledger = await createLedgerTable(dynamoClient());
    counts.clear();
    handler = launcherHandler(ec2, ssm, github.url, ledger);
  });

  it("turns one job into one instance from the pool's template, tagged, with one SecureString named by instance id", async () => {
    const message = job("linux-x64");
    const response = await handler(await queuedEvent(ledger, [{ body: message }]), CONTEXT);
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
    const event = await queuedEvent(
      ledger,
      messages.map((body) => ({ body })),
    );
    const { result: response, metrics } = await captureMetrics(() => handler(event, CONTEXT));
    assert.deepEqual(response.batchItemFailures, []);
    // JobsLaunched is published per job with its pool dimension; the latencies go out with the stored metrics.
    const launched = metrics.filter((m) => "JobsLaunched" in m);
    assert.deepEqual(
      launched.map((m) => [m.JobsLaunched, m.pool]),
      messages.map(() => [1, "linux-x64"]),
    );
    const latency = metrics.find((m) => METRIC.launchLatency in m)?.[METRIC.launchLatency] as number[];
    assert.equal(latency.length, 4);
    assert.ok(
      latency.every((ms) => ms >= 1500),
      "latency counts from enqueuedAt",
    );
    assert.equal(counts.get("CreateFleetCommand"), 1);
    // The pool is counted before the launch and again after it (services/live-capacity.ts: the bound under
    // concurrent launchers); a cached count is no bound.
    assert.equal(counts.get("DescribeInstancesCommand"), 2);
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

    // A second batch counts again, before and after its launch.
    await handler(await queuedEvent(ledger, [{ body: job("linux-x64") }]), CONTEXT);
    assert.equal(counts.get("DescribeInstancesCommand"), 4);
    assert.equal(
      github.calls[ROUTES.createInstallationToken],
      1,
      "the installation token is reused across invocations",
    );
  });

  it("looks up the App installation once when messages come from an organization webhook (no installation id)", async () => {
    const messages = [job("linux-x64", { installationId: undefined }), job("linux-x64", { installationId: undefined })];
    const response = await handler(
      await queuedEvent(
        ledger,
        messages.map((body) => ({ body })),
      ),
      CONTEXT,
    );
    assert.deepEqual(response.batchItemFailures, []);
    assert.equal((await liveInstances()).length, 2);
    assert.equal(github.calls[ROUTES.orgInstallation], 1);
    assert.equal(github.calls[ROUTES.orgJitConfig], 2);
    await handler(await queuedEvent(ledger, [{ body: job("linux-x64", { installationId: undefined }) }]), CONTEXT);
    assert.equal(github.calls[ROUTES.orgInstallation], 1, "the installation id is cached across invocations");
    assert.equal(github.calls[ROUTES.createInstallationToken], 1);
  });

  it("acknowledges the message and backs the job off when the installation lookup fails, launching nothing", async () => {
    github.failNext(ROUTES.orgInstallation, 502);
    const message = job("linux-x64", { installationId: undefined });
    const response = await handler(await queuedEvent(ledger, [{ body: message }]), CONTEXT);
    assert.deepEqual(response.batchItemFailures, [], "the job waits in the ledger, not in the DLQ");
    const record = await getJob(ledger, message.jobId);
    assert.deepEqual([record?.state, record?.attempts], ["queued", 1]);
    assert.match(record?.lastError ?? "", /^github-retryable: looking up the GitHub App installation/);
    assert.ok(Date.parse(record?.nextAttemptAt ?? "") > Date.now());
    assert.equal((await liveInstances()).length, 0);
    assert.equal(github.calls[ROUTES.orgJitConfig], 0);
  });

  it("respects the pool's max runners, counting instances that already run; the rest wait in the ledger", async () => {
    await moto.reset();
    await storeAppKey();
    world = await buildWorld(ec2, { x64: 3, arm: 10 });
    ledger = await createLedgerTable(dynamoClient());
    handler = launcherHandler(ec2, ssm, github.url, ledger);
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
    const messages = [job("linux-x64"), job("linux-x64"), job("linux-x64"), job("linux-arm")];
    const event = await queuedEvent(
      ledger,
      messages.map((body) => ({ body })),
    );
    const response = await handler(event, CONTEXT);
    assert.deepEqual(response.batchItemFailures, [], "a capacity wait is acknowledged, never dead-lettered");
    const waiting = await getJob(ledger, messages[2].jobId);
    assert.deepEqual([waiting?.state, waiting?.attempts], ["queued", 0], "a capacity wait is no failed attempt");
    assert.ok(Date.parse(waiting?.nextAttemptAt ?? "") > Date.now(), waiting?.nextAttemptAt);
    const ours = (await liveInstances()).filter((i) => tag(i, TAG.stack) === STACK);
    assert.equal(ours.filter((i) => tag(i, TAG.pool) === "linux-x64").length, 3);
    assert.equal(counts.get("DescribeInstancesCommand"), 3, "one for both pools before, one per pool after");
    assert.equal(github.calls[ROUTES.orgJitConfig], 3, "no JIT config for the job over capacity");

    // a further job is refused on a fresh count, and nothing launched needs counting after
    const further = job("linux-x64");
    const more = await queuedEvent(ledger, [{ body: further }]);
    assert.deepEqual((await handler(more, CONTEXT)).batchItemFailures, []);
    assert.equal((await getJob(ledger, further.jobId))?.state, "queued");
    assert.equal(counts.get("DescribeInstancesCommand"), 4);
  });

  it("fails malformed messages (not dropped) and the later messages of their group, and launches the rest", async () => {
    const good = job("linux-x64");
    const sameGroupAfter = job("linux-x64");
    const other = job("linux-x64");
    const event = await queuedEvent(ledger, [
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

  it("acknowledges a failed launch (EC2 throttled) and backs it off, so its FIFO group goes on", async () => {
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
    const event = await queuedEvent(ledger, [
      { body: first, group: "repo-a" },
      { body: second, group: "repo-a" },
      { body: independent, group: "repo-b" },
    ]);
    const response = await handler(event, CONTEXT);
    // Only a message that can never succeed holds its group back (see the malformed-message test).
    assert.deepEqual(response.batchItemFailures, []);
    const record = await getJob(ledger, first.jobId);
    assert.deepEqual([record?.state, record?.attempts], ["queued", 1]);
    assert.match(record?.lastError ?? "", /Request limit exceeded/);
    const instances = await liveInstances();
    assert.deepEqual(
      instances.map((i) => tag(i, TAG.jobId)).sort(),
      [String(second.jobId), String(independent.jobId)].sort(),
    );
    assert.equal((await runnerParameters(ssm)).length, 2);
    assert.deepEqual(
      [...github.runners.values()].map((r) => r.name).sort(),
      instances.map((i) => tag(i, TAG.runnerName)).sort(),
      "no JIT runner is left behind for the failed launch",
    );
  });

  it("registers repo-scoped runners on the job's repository", async () => {
    process.env[ENV.runnerScope] = "repo";
    try {
      handler = launcherHandler(ec2, ssm, github.url, ledger);
      const response = await handler(
        await queuedEvent(ledger, [{ body: job("linux-x64", { repository: "octo-org/api" }) }]),
        CONTEXT,
      );
      assert.deepEqual(response.batchItemFailures, []);
      assert.equal(github.calls[ROUTES.repoJitConfig], 1);
      assert.equal([...github.runners.values()][0].scope, "repo:octo-org/api");
    } finally {
      process.env[ENV.runnerScope] = "org";
    }
  });
});
