/** The reconciler against moto (DynamoDB ledger, SQS FIFO job queue, EC2) and the GitHub stand-in. */
import { strict as assert } from "node:assert";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { decodeJobMessage } from "../../../contract/job.js";
import type { NewJobRecord } from "../../../contract/ledger.js";
import { METRIC } from "../../../contract/metrics.js";
import { TAG } from "../../../contract/names.js";
import { dueJobs, getJob, type Ledger, moveJob, recordJob } from "../../../runtime/adapters/ledger.js";
import { publishReconcileMetrics } from "../../../runtime/handlers/reconciler.js";
import { type ReconcileSettings, reconcileJobs } from "../../../runtime/services/reconcile-jobs.js";
import type { GitHubApi } from "../../../testkit/github/server.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import { resetAppEnvironment, startAppEnvironment, testGitHubApp } from "../github/fixture.js";
import { createLedgerTable, dynamoClient } from "../support/ledger-table.js";

const ORG = "acme";
const POOL = "linux-x64";
const silent = { info() {}, warn() {}, error() {} };
const minutes = (m: number) => m * 60_000;

describe("reconcileJobs (moto + GitHub stand-in)", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let github: GitHubApi;
  let ledger: Ledger;
  let queueUrl: string;

  before(async () => {
    moto = await startMoto({ region: "eu-west-1" });
    github = await startAppEnvironment({ [ORG]: 77 });
  });
  after(async () => {
    await github?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    await resetAppEnvironment(moto, github);
    ledger = await createLedgerTable(dynamoClient());
    const queue = await new SQSClient({}).send(
      new CreateQueueCommand({ QueueName: "jobs.fifo", Attributes: { FifoQueue: "true" } }),
    );
    queueUrl = queue.QueueUrl as string;
  });

  const settings = (maxRunners = 2): ReconcileSettings => ({
    stack: "dev",
    pools: [
      {
        name: POOL,
        labels: ["self-hosted", "linux"],
        instanceTypes: ["m7i.large"],
        architecture: "x64",
        maxRunners,
        spot: false,
      },
    ],
    scope: "org",
    owner: ORG,
    queueUrl,
    bootGraceMinutes: 10,
    pageSize: 25,
  });
  const run = (s: ReconcileSettings, at = new Date()) =>
    reconcileJobs(s, {
      ledger,
      ec2: new EC2Client({}),
      sqs: new SQSClient({}),
      github: testGitHubApp(github.url),
      now: () => at,
      log: silent,
    });
  const job = (jobId: number, overrides: Partial<NewJobRecord> = {}): NewJobRecord => ({
    jobId,
    runId: jobId * 10,
    runAttempt: 1,
    repository: `${ORG}/app`,
    owner: ORG,
    labels: ["self-hosted", "linux"],
    pool: POOL,
    state: "queued",
    queuedAt: new Date().toISOString(),
    ...overrides,
  });
  async function launch(runnerName: string): Promise<string> {
    const tags = { [TAG.stack]: "dev", [TAG.pool]: POOL, [TAG.runnerName]: runnerName, [TAG.repository]: `${ORG}/app` };
    const result = await new EC2Client({}).send(
      new RunInstancesCommand({
        ImageId: "ami-12345678",
        InstanceType: "m7i.large",
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          { ResourceType: "instance", Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        ],
      }),
    );
    return result.Instances?.[0].InstanceId as string;
  }
  async function queuedMessages() {
    const received = await new SQSClient({}).send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    return (received.Messages ?? []).map((m) => {
      const decoded = decodeJobMessage(m.Body ?? "");
      assert.ok(decoded.ok);
      return decoded.value;
    });
  }

  it("keeps a job waiting for capacity in the ledger and sends it to the launcher once the pool has room", async () => {
    const other = await launch(`${POOL}-99-abcdef`);
    await recordJob(ledger, job(1), new Date());
    const full = await run(settings(1));
    assert.deepEqual(full.capacityWaits, [{ jobId: 1, pool: POOL }]);
    assert.deepEqual(await queuedMessages(), []);

    await new EC2Client({}).send(new TerminateInstancesCommand({ InstanceIds: [other] }));
    const freed = await run(settings(1));
    assert.deepEqual(freed.enqueued, [1]);
    const [message] = await queuedMessages();
    assert.deepEqual([message.jobId, message.pool, message.recordVersion], [1, POOL, 0]);
  });

  it("notices a waiting job's approval (GitHub's job API reports it queued) and sends it to the launcher", async () => {
    github.createJob({ id: 5, owner: ORG, labels: ["self-hosted", "linux"], needsApproval: true, deliver: false });
    const start = new Date();
    await recordJob(ledger, job(5, { state: "waiting" }), start);
    assert.deepEqual(
      (await dueJobs(ledger, POOL, start, 25)).map((r) => r.jobId),
      [5],
      "a waiting job is on the due index at once",
    );

    const still = await run(settings(), start);
    assert.deepEqual([still.moved, still.enqueued, still.failures], [[], [], []]);
    assert.deepEqual(await queuedMessages(), []);
    assert.deepEqual(await dueJobs(ledger, POOL, start, 25), [], "checked: it leaves the page until the next poll");
    const nextPoll = new Date(start.getTime() + 61_000);
    assert.deepEqual(
      (await dueJobs(ledger, POOL, nextPoll, 25)).map((r) => r.jobId),
      [5],
    );

    github.approveJob(5);
    const approved = await run(settings(), nextPoll);
    assert.deepEqual(
      approved.moved.map((m) => [m.jobId, m.from, m.to]),
      [[5, "waiting", "queued"]],
    );
    assert.deepEqual(approved.enqueued, [5]);
    const record = await getJob(ledger, 5);
    assert.equal(record?.state, "queued");
    const [message] = await queuedMessages();
    assert.deepEqual([message.jobId, message.recordVersion], [5, record?.version]);
  });

  it("expires a job queued past GitHub's 24 hours and returns a stuck launching job to the queue", async () => {
    const dayAgo = new Date(Date.now() - minutes(24 * 60 + 1)).toISOString();
    await recordJob(ledger, job(2, { queuedAt: dayAgo }), new Date());
    const claimed = await recordJob(ledger, job(3), new Date(Date.now() - minutes(20)));
    await moveJob(
      ledger,
      3,
      "queued",
      claimed.record.version,
      { state: "launching" },
      new Date(Date.now() - minutes(20)),
    );

    const report = await run(settings());
    assert.deepEqual(report.moved.map((m) => [m.jobId, m.from, m.to]).sort(), [
      [2, "queued", "expired"],
      [3, "launching", "queued"],
    ]);
    assert.equal((await getJob(ledger, 3))?.attempts, 1);
    assert.deepEqual(report.enqueued, [3], "the returned job is sent to the launcher in the same run");
  });

  it("ends the idle runner of a job cancelled at GitHub before its runner took it", async () => {
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
    const runnerName = `${POOL}-5-abcdef`;
    await launch(runnerName);
    github.addRunner({ name: runnerName, scope: `org:${ORG}`, status: "online", busy: true });
    const created = await recordJob(ledger, job(5), new Date());
    await moveJob(ledger, 5, "queued", created.record.version, { state: "cancelled" }, new Date());
    const report = await run(settings());
    assert.deepEqual(report.idleRunnersEnded, []);
    assert.ok([...github.runners.values()].some((r) => r.name === runnerName));
  });

  /** Job `jobId` queued at GitHub and `launched` in the ledger on an instance whose runner is `status` at GitHub. */
  async function launchedOn(jobId: number, status: "online" | "offline", labels = ["self-hosted", "linux"]) {
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

  it("records a start it learns from GitHub's job API with GitHub's started_at, and publishes QueueToStartSeconds", async () => {
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
