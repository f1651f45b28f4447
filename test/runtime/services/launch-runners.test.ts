/**
 * The launch service's failure paths against moto and the GitHub stand-in, through the launcher handler: spot
 * capacity errors (which moto does not emulate, injected by wrapping the EC2 client's `send` for those tests
 * only), GitHub errors, parameter failures, fleet shortfalls; and warm runners launched with an extra tag.
 */
import "../handlers/quiet.js";
import assert from "node:assert/strict";
import { CreateFleetCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { ENV, TAG } from "../../../contract/names.js";
import { readSettings } from "../../../contract/settings.js";
import { launchEnvironment } from "../../../runtime/handlers/launcher.js";
import { launchRunners } from "../../../runtime/services/launch-runners.js";
import { makeRunnerName } from "../../../runtime/core/launch/runner.js";
import { type GitHubApi, ROUTES } from "../../../testkit/github/server.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import {
  ARM_AMI,
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
} from "../support/launcher-world.js";
import { getJob, type Ledger } from "../../../runtime/adapters/ledger.js";
import { createLedgerTable, dynamoClient } from "../support/ledger-table.js";
import { resetAppEnvironment, startAppEnvironment, testGitHubApp } from "../github/fixture.js";

describe("launch service against moto and the GitHub stand-in", () => {
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

  /** A failed launch is acknowledged and the job waits in the ledger: queued, one more attempt, backoff. */
  async function assertBackedOff(jobId: number, error: RegExp) {
    const record = await getJob(ledger, jobId);
    assert.equal(record?.state, "queued");
    assert.equal(record?.attempts, 1);
    assert.match(record?.lastError ?? "", error);
    assert.ok(Date.parse(record?.nextAttemptAt ?? "") > Date.now(), record?.nextAttemptAt);
    assert.deepEqual(record?.runners, []);
  }

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
      await queuedEvent(ledger, [{ body: job("linux-arm") }, { body: job("linux-arm") }, { body: job("linux-arm") }]),
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
    const messages = [job("linux-arm"), job("linux-arm")];
    const event = await queuedEvent(
      ledger,
      messages.map((body) => ({ body })),
    );
    const response = await handler(event, CONTEXT);
    assert.deepEqual(response.batchItemFailures, [], "acknowledged: the jobs wait in the ledger, not in the DLQ");
    for (const m of messages) await assertBackedOff(m.jobId, /InvalidLaunchTemplateId|gone/);
    assert.equal(counts.get("CreateFleetCommand") ?? 0, 0);
    assert.equal(github.runners.size, 0, "no JIT runner without an instance");
    assert.equal((await runnerParameters(ssm)).length, 0);
  });

  for (const status of [500, 502, 429]) {
    it(`backs off on GitHub ${status} (acknowledged) and leaves no parameter and no instance`, async () => {
      github.failNext(ROUTES.orgJitConfig, status, 1);
      const message = job("linux-x64");
      const event = await queuedEvent(ledger, [{ body: message }]);
      const { result: response, metrics } = await captureMetrics(() => handler(event, CONTEXT));
      assert.deepEqual(response.batchItemFailures, []);
      await assertBackedOff(message.jobId, /^github-retryable/);
      assert.deepEqual(
        metrics.filter((m) => "LaunchFailures" in m).map((m) => [m.pool, m.LaunchFailures]),
        [["linux-x64", 1]],
      );
      assert.equal((await liveInstances()).length, 0);
      assert.equal((await runnerParameters(ssm)).length, 0);
      assert.equal(counts.get("CreateFleetCommand") ?? 0, 0);
      assert.equal(github.runners.size, 0);
    });
  }

  it("backs off a job with a permanent GitHub error (a person may fix the App) and still launches the others", async () => {
    github.failNext(ROUTES.orgJitConfig, 422, 1);
    const failing = job("linux-x64");
    const event = await queuedEvent(ledger, [{ body: failing }]);
    const response = await handler(event, CONTEXT);
    assert.deepEqual(response.batchItemFailures, []);
    await assertBackedOff(failing.jobId, /^github-permanent/);
    const next = await queuedEvent(ledger, [{ body: job("linux-x64") }]);
    assert.deepEqual((await handler(next, CONTEXT)).batchItemFailures, []);
    assert.equal((await liveInstances()).length, 1);
  });

  it("terminates the instance and deletes its runner when its parameter cannot be written", async () => {
    let puts = 0;
    const send = ssm.send.bind(ssm) as (command: unknown) => Promise<unknown>;
    (ssm as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      if (command instanceof PutParameterCommand && ++puts === 2)
        throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
      return send(command);
    };
    const messages = [job("linux-x64"), job("linux-x64"), job("linux-x64")];
    const event = await queuedEvent(
      ledger,
      messages.map((body) => ({ body })),
    );
    const response = await handler(event, CONTEXT);
    assert.deepEqual(response.batchItemFailures, []);
    const states = await Promise.all(messages.map(async (m) => (await getJob(ledger, m.jobId))?.state));
    assert.deepEqual(states.sort(), ["launched", "launched", "queued"], "the failed one backs off");
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
    const [first, surplus] = [job("linux-x64"), job("linux-x64")];
    const event = await queuedEvent(ledger, [{ body: first }, { body: surplus }]);
    const response = await handler(event, CONTEXT);
    assert.deepEqual(response.batchItemFailures, []);
    assert.equal((await getJob(ledger, first.jobId))?.state, "launched");
    await assertBackedOff(surplus.jobId, /capacity/);
    const instances = await liveInstances();
    assert.equal(instances.length, 1);
    assert.equal(github.runners.size, 1);
    assert.equal([...github.runners.values()][0].name, tag(instances[0], TAG.runnerName));
  });

  it("starts idle warm runners through the launch service with the extra tags and without job tags", async () => {
    const env = launchEnvironment(readSettings("launcher", process.env), CONTEXT.invokedFunctionArn);
    const pool = world.pools.find((p) => p.name === "linux-x64");
    assert.ok(pool);
    const requests = [1, 2].map((i) => ({
      key: `warm-${i}`,
      runnerName: makeRunnerName(pool.name, "warm"),
      installationId: 7,
      target: { kind: "org" as const, org: "octo-org" },
    }));
    const log = { info() {}, warn() {}, error() {} };
    const github = testGitHubApp(process.env[ENV.githubApiUrl] as string);
    const result = await launchRunners(pool, requests, env, { ec2, ssm, github, log }, { [TAG.warm]: "true" });
    assert.equal(result.failed.length, 0);
    assert.equal(result.launched.length, 2);
    const instances = await liveInstances();
    assert.equal(instances.length, 2);
    for (const instance of instances) {
      assert.match(tag(instance, TAG.runnerName) ?? "", /^linux-x64-warm-[0-9a-f]{6}$/);
      assert.equal(tag(instance, TAG.warm), "true", "tagged warm by the fleet itself");
      assert.equal(tag(instance, TAG.jobId), undefined);
    }
    assert.equal(counts.get("CreateFleetCommand"), 1);
    assert.equal(counts.get("CreateTagsCommand"), 2, "each runner's own tags, one call per instance");
  });
});
