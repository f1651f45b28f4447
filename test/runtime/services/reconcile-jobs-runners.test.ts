/**
 * The reconciler against moto and the GitHub stand-in, for jobs launched on runners: a start it learns from GitHub,
 * a runner that never came online, an instance that is gone, and the idle runner of a job that ended without it.
 */
import { strict as assert } from "node:assert";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { METRIC } from "../../../contract/metrics.js";
import { getJob, moveJob, recordJob } from "../../../runtime/adapters/ledger.js";
import { publishReconcileMetrics } from "../../../runtime/handlers/reconciler.js";
import { job, launch, minutes, ORG, POOL, useReconcileWorld } from "../support/reconcile-world.js";

describe("reconcileJobs (moto + GitHub stand-in): jobs on runners", function () {
  this.timeout(60_000);
  const world = useReconcileWorld();
  const { settings, run, queuedMessages } = world;

  /** Job `jobId` queued at GitHub and `launched` in the ledger on an instance whose runner is `status` at GitHub. */
  async function launchedOn(jobId: number, status: "online" | "offline", labels = ["self-hosted", "linux"]) {
    const { github, ledger } = world;
    github.createJob({ id: jobId, owner: ORG, labels: ["self-hosted", "linux"], deliver: false });
    const runnerName = `${POOL}-${jobId}-abcdef`;
    const instanceId = await launch(runnerName);
    github.addRunner({ name: runnerName, scope: `org:${ORG}`, status, labels });
    const created = await recordJob(ledger, job(jobId), new Date());
    const launching = await moveJob(
      ledger,
      jobId,
      "queued",
      created.record.version,
      { state: "launching" },
      new Date(),
    );
    const runner = { instanceId, runnerName, launchedAt: new Date().toISOString() };
    const update = { state: "launched" as const, addRunner: runner };
    await moveJob(ledger, jobId, "launching", launching.record?.version as number, update, new Date());
    return { runnerName, instanceId };
  }
  const liveIds = async () =>
    (
      await new EC2Client({}).send(
        new DescribeInstancesCommand({ Filters: [{ Name: "instance-state-name", Values: ["pending", "running"] }] }),
      )
    ).Reservations?.flatMap((r) => r.Instances?.map((i) => i.InstanceId) ?? []) ?? [];

  it("ends the idle runner of a job cancelled at GitHub before its runner took it", async () => {
    const { github, ledger } = world;
    const runnerName = `${POOL}-4-abcdef`;
    const instanceId = await launch(runnerName);
    github.addRunner({ name: runnerName, scope: `org:${ORG}`, status: "online" });
    github.createJob({ id: 4, owner: ORG, labels: ["no-such-label"], deliver: false });
    github.cancelJob(4);
    const created = await recordJob(ledger, job(4), new Date());
    const launching = await moveJob(ledger, 4, "queued", created.record.version, { state: "launching" }, new Date());
    const runner = { instanceId, runnerName, launchedAt: new Date().toISOString() };
    await moveJob(
      ledger,
      4,
      "launching",
      launching.record?.version as number,
      { state: "launched", addRunner: runner },
      new Date(),
    );

    const report = await run(settings(), new Date(Date.now() + minutes(11)));
    assert.deepEqual(
      report.moved.map((m) => [m.jobId, m.to]),
      [[4, "cancelled"]],
    );
    assert.deepEqual(
      report.idleRunnersEnded.map((r) => r.instanceId),
      [instanceId],
    );
    assert.ok(![...github.runners.values()].some((r) => r.name === runnerName), "deregistered at GitHub");
    assert.ok((await getJob(ledger, 4))?.runners[0].endedAt);
  });

  it("never ends a runner of an ended job that another job is running on", async () => {
    const { github, ledger } = world;
    const runnerName = `${POOL}-5-abcdef`;
    await launch(runnerName);
    github.addRunner({ name: runnerName, scope: `org:${ORG}`, status: "online", busy: true });
    const created = await recordJob(ledger, job(5), new Date());
    await moveJob(ledger, 5, "queued", created.record.version, { state: "cancelled" }, new Date());
    const report = await run(settings());
    assert.deepEqual(report.idleRunnersEnded, []);
    assert.ok([...github.runners.values()].some((r) => r.name === runnerName));
  });

  it("records a start it learns from GitHub's job API with GitHub's started_at, and publishes QueueToStartSeconds", async () => {
    const { github, ledger } = world;
    const queuedAt = new Date(Date.now() - minutes(2));
    github.createJob({ id: 9, owner: ORG, labels: ["self-hosted", "linux"], durationMs: minutes(60), deliver: false });
    const runnerName = `${POOL}-9-abcdef`;
    const instanceId = await launch(runnerName);
    const created = await recordJob(ledger, job(9, { queuedAt: queuedAt.toISOString() }), queuedAt);
    const launching = await moveJob(ledger, 9, "queued", created.record.version, { state: "launching" }, queuedAt);
    const runner = { instanceId, runnerName, launchedAt: queuedAt.toISOString() };
    await moveJob(
      ledger,
      9,
      "launching",
      launching.record?.version as number,
      { state: "launched", addRunner: runner },
      queuedAt,
    );
    // The runner comes online and takes the job; its in_progress delivery is lost (deliver: false).
    github.addRunner({ name: runnerName, scope: `org:${ORG}`, status: "online" });
    const startedAt = github.jobs.get(9)?.startedAt as number;
    assert.ok(startedAt > queuedAt.getTime(), "the stand-in started the job");
    const githubStartedAt = new Date(startedAt).toISOString().replace(/\.\d{3}Z$/, "Z"); // GitHub's job API: whole seconds

    const report = await run(settings(), new Date(Date.now() + minutes(11)));
    assert.deepEqual(
      report.moved.map((m) => [m.jobId, m.from, m.to, m.ranOn]),
      [[9, "launched", "running", runnerName]],
    );
    const seconds = (Date.parse(githubStartedAt) - queuedAt.getTime()) / 1000;
    assert.equal(report.moved[0].queueToStartSeconds, seconds);
    assert.equal((await getJob(ledger, 9))?.startedAt, githubStartedAt);

    const published: Array<{ name: string; value: number }> = [];
    const single = {
      addDimension() {},
      addMetric: (name: string, _unit: string, value: number) => published.push({ name, value }),
    };
    publishReconcileMetrics(report, { singleMetric: () => single, addMetric() {} } as unknown as Metrics);
    assert.deepEqual(
      published.filter((p) => p.name === METRIC.queueToStartSeconds),
      [{ name: METRIC.queueToStartSeconds, value: seconds }],
    );
  });

  it("sends a launched job whose runner never came online back to the queue after the boot grace", async () => {
    const { github, ledger } = world;
    const { runnerName, instanceId } = await launchedOn(6, "offline");
    const booting = await run(settings(), new Date(Date.now() + minutes(5)));
    assert.deepEqual([booting.moved, booting.enqueued], [[], []], "inside the boot grace it is booting");

    const at = new Date(Date.now() + minutes(11));
    const report = await run(settings(), at);
    assert.deepEqual(
      report.moved.map((m) => [m.jobId, m.from, m.to]),
      [[6, "launched", "queued"]],
    );
    const record = await getJob(ledger, 6);
    assert.deepEqual([record?.state, record?.attempts], ["queued", 1]);
    assert.equal(record?.nextAttemptAt, new Date(at.getTime() + 30_000).toISOString(), "first retry after 30 s");
    assert.match(record?.lastError ?? "", /offline after the boot grace/);
    assert.ok(record?.runners[0].endedAt, "the dead runner is recorded ended");
    assert.ok(![...github.runners.values()].some((r) => r.name === runnerName), "deregistered at GitHub");
    assert.ok(!(await liveIds()).includes(instanceId), "its instance terminated");
    assert.deepEqual(report.enqueued, [], "relaunched when its backoff ends, not before");

    const retry = await run(settings(), new Date(at.getTime() + 31_000));
    assert.deepEqual(retry.enqueued, [6]);
    const [message] = await queuedMessages();
    assert.deepEqual([message.jobId, message.recordVersion], [6, (await getJob(ledger, 6))?.version]);
  });

  it("sends a launched job back to the queue when its instance is gone, and leaves an online idle runner", async () => {
    const { github, ledger } = world;
    const dead = await launchedOn(7, "online", ["other"]);
    await new EC2Client({}).send(new TerminateInstancesCommand({ InstanceIds: [dead.instanceId] }));
    // Online and idle, on a live instance: GitHub gives it the job (the stand-in here has labels it cannot take).
    await launchedOn(8, "online", ["self-hosted", "other"]);

    const report = await run(settings(), new Date(Date.now() + minutes(11)));
    assert.deepEqual(
      report.moved.map((m) => [m.jobId, m.from, m.to]),
      [[7, "launched", "queued"]],
    );
    assert.match((await getJob(ledger, 7))?.lastError ?? "", /instance of runner .* is gone/);
    assert.ok(![...github.runners.values()].some((r) => r.name === dead.runnerName));
    assert.equal((await getJob(ledger, 8))?.state, "launched");
  });
});
