/**
 * The launcher handler against moto (EC2 CreateFleet instant, SSM) and the GitHub stand-in, launching: one job, a
 * batch for one pool, the installation lookup for organization webhooks, and repository scope.
 */
import "./quiet.js";
import assert from "node:assert/strict";
import { GetParameterCommand, ListTagsForResourceCommand } from "@aws-sdk/client-ssm";
import { METRIC } from "../../../contract/metrics.js";
import { ENV, TAG } from "../../../contract/names.js";
import { ROUTES } from "../../../testkit/github/server.js";
import {
  ACCOUNT,
  CONTEXT,
  captureMetrics,
  job,
  launcherHandler,
  liveInstances,
  PREFIX,
  runnerParameters,
  STACK,
  queuedEvent,
  tag,
  X64_AMI,
} from "../support/launcher-world.js";
import { useLauncherSuite } from "../support/launcher-suite.js";

describe("launcher against moto and the GitHub stand-in: launching", () => {
  const launcher = useLauncherSuite();

  it("turns one job into one instance from the pool's template, tagged, with one SecureString named by instance id", async () => {
    const { handler, ledger, world, ssm, github, counts } = launcher;
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
    const { handler, ledger, ssm, github, counts } = launcher;
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
    const { handler, ledger, github } = launcher;
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

  it("registers repo-scoped runners on the job's repository", async () => {
    const { ec2, ssm, github, ledger } = launcher;
    process.env[ENV.runnerScope] = "repo";
    try {
      const handler = launcherHandler(ec2, ssm, github.url, ledger);
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
