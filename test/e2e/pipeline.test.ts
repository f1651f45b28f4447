/**
 * End to end: the dev stack deployed into moto from the offline preview, the real webhook, launcher and (no reaper
 * here) simulated instances, through the local pipeline (simulation/pipeline.ts). One launcher container, so
 * the installation token count is deterministic.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { DescribeLaunchTemplateVersionsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ENV, TAG, runnerParameterName } from "../../contract/names.js";
import { ROUTES, type RouteKey } from "../../testkit/github/server.js";
import { workflowJobDelivery, type Delivery } from "../../simulation/deliveries.js";
import { startPipeline, type Pipeline, type PipelineState } from "../../simulation/pipeline.js";
import { parseReplayFile, replay } from "../../simulation/replay.js";

const REPLAY_SECRET = "e2e-replay-secret";
const X64 = ["self-hosted", "linux", "x64"];
const ARM = ["self-hosted", "linux", "arm64"];

describe("end to end: webhook → queue → launcher → instances (dev stack in moto)", function () {
  this.timeout(120_000);
  let pipeline: Pipeline;
  const statuses = new Map<string, number>();
  let whileBooting: PipelineState;
  let atEnd: PipelineState;
  /** GitHub calls made while the pipeline started (the runner-cache function filling the cache). */
  let startupCalls: Record<string, number>;

  function job(
    jobId: number,
    labels: string[],
    options: Parameters<typeof workflowJobDelivery>[2] = {},
    onGitHub = true,
  ): Delivery {
    const owner = pipeline.environments.launcher.environment[ENV.githubOwner];
    // The job exists on GitHub (the stand-in gives it to a runner that fits); its deliveries are made here. Jobs
    // made only to have their delivery refused or ignored do not: a queued x64 job on GitHub would take a runner
    // launched for another job (GitHub's rule), and that job is rightly launched again.
    if (onGitHub && !pipeline.github.jobs.has(jobId))
      pipeline.github.createJob({ id: jobId, owner, labels, durationMs: 100, deliver: false });
    return workflowJobDelivery({ jobId, labels, owner }, pipeline.webhookSecret, { name: `job ${jobId}`, ...options });
  }

  before(async () => {
    pipeline = await startPipeline({
      stack: "dev",
      webhookSecret: REPLAY_SECRET,
      launcherConcurrency: 1,
    });
    startupCalls = { ...pipeline.github.calls };
    const first = job(201, X64, { name: "first" });
    const deliveries: Delivery[] = [
      first,
      job(202, X64),
      job(203, ARM),
      { ...first, name: "duplicate" },
      job(204, X64, { name: "wrong signature", signature: "wrong" }, false),
      {
        ...job(205, X64, { name: "no signature" }, false),
        headers: Object.fromEntries(
          Object.entries(job(205, X64, {}, false).headers).filter(([h]) => h !== "X-Hub-Signature-256"),
        ),
      },
      job(206, ["self-hosted", "linux", "gpu"], { name: "labels no pool serves" }, false),
    ];
    pipeline.pauseInstanceBoots();
    for (const delivery of deliveries)
      statuses.set(delivery.name ?? "", (await pipeline.deliver({ ...delivery, name: delivery.name ?? "" })).status);
    await pipeline.waitForIdle(60_000);
    whileBooting = await pipeline.state();
    await pipeline.resumeInstanceBoots();
    await pipeline.waitForIdle(60_000);
    atEnd = await pipeline.state();
  });

  after(async () => {
    await pipeline?.stop();
  });

  it("answers 202 for recorded jobs, 200 for a duplicate and a job no pool serves, 401 for bad signatures", () => {
    assert.equal(statuses.get("first"), 202);
    assert.equal(statuses.get("job 202"), 202);
    assert.equal(statuses.get("job 203"), 202);
    // The ledger already holds the job: the duplicate changes nothing (200, reason no-change; any 2xx is delivered).
    assert.equal(statuses.get("duplicate"), 200);
    assert.equal(statuses.get("wrong signature"), 401);
    assert.equal(statuses.get("no signature"), 401);
    assert.equal(statuses.get("labels no pool serves"), 200);
  });

  it("turns the duplicate delivery into no second message", () => {
    const jobs = [...pipeline.messages.values()].map((m) => m.jobId).sort();
    assert.deepEqual(jobs, [201, 202, 203]);
  });

  it("starts one instance per job from its pool's launch template, with the job's tags", async () => {
    const instances = whileBooting.instances.filter((i) => i.State?.Name === "running");
    assert.equal(instances.length, 3);
    const tags = (i: (typeof instances)[number]) => Object.fromEntries((i.Tags ?? []).map((t) => [t.Key, t.Value]));
    const byJob = new Map(instances.map((i) => [Number(tags(i)[TAG.jobId]), i]));
    assert.deepEqual([...byJob.keys()].sort(), [201, 202, 203]);
    for (const [jobId, pool] of [
      [201, "linux-x64"],
      [202, "linux-x64"],
      [203, "linux-arm64"],
    ] as const) {
      const instance = byJob.get(jobId)!;
      const t = tags(instance);
      assert.equal(t[TAG.pool], pool);
      assert.equal(t[TAG.stack], "dev");
      assert.match(t[TAG.runnerName] ?? "", new RegExp(`^${pool}-${jobId}-[0-9a-f]{6}$`));
      const template = pipeline.deployed.launchTemplates.get(pool)!;
      assert.equal(instance.ImageId, template.imageId);
      assert.ok(
        [...pipeline.deployed.subnets.values()].includes(instance.SubnetId ?? ""),
        `instance in a private subnet of the stack (${instance.SubnetId})`,
      );
    }
  });

  it("deploys the launch templates with the stack's settings", async () => {
    const ec2 = new EC2Client({
      endpoint: pipeline.proxy.url,
      region: pipeline.region,
      credentials: { accessKeyId: "AKIASIMHARNESS", secretAccessKey: "x" },
    });
    for (const template of pipeline.deployed.launchTemplates.values()) {
      const versions = await ec2.send(
        new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: template.id, Versions: ["$Default"] }),
      );
      const data = versions.LaunchTemplateVersions?.[0]?.LaunchTemplateData;
      assert.equal(data?.InstanceInitiatedShutdownBehavior, "terminate");
      assert.equal(data?.MetadataOptions?.HttpTokens, "required");
      assert.equal(data?.MetadataOptions?.HttpPutResponseHopLimit, 1);
      assert.equal(data?.BlockDeviceMappings?.[0]?.Ebs?.VolumeType, "gp3");
      assert.equal(data?.BlockDeviceMappings?.[0]?.Ebs?.Encrypted, true);
      assert.equal(data?.NetworkInterfaces?.[0]?.AssociatePublicIpAddress, false);
    }
    ec2.destroy();
  });

  it("keeps one SecureString JIT parameter per launched instance until the instance consumes it", () => {
    const prefix = pipeline.environments.launcher.environment[ENV.runnerParameterPrefix];
    const running = whileBooting.instances
      .filter((i) => i.State?.Name === "running")
      .map((i) => runnerParameterName(prefix, i.InstanceId!));
    assert.deepEqual(whileBooting.runnerParameters.map((p) => p.Name).sort(), running.sort());
    for (const parameter of whileBooting.runnerParameters) assert.equal(parameter.Type, "SecureString");
    assert.equal(atEnd.runnerParameters.length, 0, "every instance read and deleted its parameter");
  });

  it("ends with no live instance, an empty job queue and an empty dead-letter queue", () => {
    assert.equal(atEnd.instances.filter((i) => i.State?.Name === "running" || i.State?.Name === "pending").length, 0);
    assert.deepEqual(atEnd.jobQueue, { visible: 0, inFlight: 0 });
    assert.deepEqual(atEnd.deadLetterQueue, { visible: 0, inFlight: 0 });
    assert.equal(pipeline.github.runners.size, 0, "ephemeral runners removed themselves");
    for (const instance of pipeline.instances.values())
      assert.ok(
        instance.states.some((state) => /from the cache, sha256 verified/.test(state)),
        `${instance.instanceId} fetched its runner from the cache its user data names: ${instance.states.join("; ")}`,
      );
  });

  it("mints one installation token, asks for one JIT config per job, and makes at most one fleet call per pool and batch", () => {
    const since = (route: RouteKey) => pipeline.github.calls[route] - startupCalls[route];
    assert.equal(since(ROUTES.createInstallationToken), 1);
    assert.equal(
      since(ROUTES.orgInstallation),
      1,
      "organization-webhook deliveries: the launcher looks the installation up once",
    );
    assert.equal(pipeline.github.calls[ROUTES.orgJitConfig], 3);
    const fleets = pipeline.fleetCalls().length;
    const batches = pipeline.launcherBatches.filter((b) => b.size > b.failures).length;
    assert.ok(
      fleets >= 2 && fleets <= batches * 2,
      `${fleets} CreateFleet calls for ${batches} launching batches over 2 pools`,
    );
    assert.equal(
      pipeline.awsCalls("webhook")["sqs:SendMessage"],
      3,
      "the ledger records the job once: the duplicate sends no message",
    );
  });

  it("replays an NDJSON file of deliveries and attributes messages and instances to each line", async () => {
    const text = readFileSync(path.join(__dirname, "fixtures", "deliveries.ndjson"), "utf8");
    const lines = parseReplayFile(text);
    const { outcomes, summary } = await replay(pipeline, lines);
    assert.deepEqual(
      outcomes.map(({ line, name, status, enqueued, instances }) => ({ line, name, status, enqueued, instances })),
      [
        { line: 1, name: "queued x64 job 7001", status: 202, enqueued: 1, instances: 1 },
        { line: 2, name: "redelivery of 7001", status: 200, enqueued: 0, instances: 0 },
        { line: 3, name: "arm64 job 7002, wrong signature", status: 401, enqueued: 0, instances: 0 },
        { line: 4, name: null, status: "invalid", enqueued: 0, instances: 0 },
        { line: 5, name: "ping", status: 200, enqueued: 0, instances: 0 },
      ],
    );
    assert.match(outcomes[3].error ?? "", /line 4: not valid JSON/);
    assert.equal(outcomes[0].delivery, "6f1c1a00-0000-4000-8000-000000007001");
    // The replayed job 7001 ran on GitHub's side too; the summary counts every job the stand-in had. The replay
    // adopts job 7002 on the stand-in although its only delivery carries a wrong signature: refused (401), it never
    // reaches the ledger, so no runner is launched for it and it counts as lost (truthfully: a forged or
    // misconfigured delivery is not GitHub's, and GitHub lists no failed delivery of it to redeliver).
    assert.deepEqual(summary.lostJobIds, [7002]);
    assert.equal(summary.duplicateRunners, 0);
    assert.ok(summary.jobsRun >= 1);
  });
});
