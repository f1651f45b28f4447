/**
 * The launcher's batch (services/launch-jobs.ts) against moto (DynamoDB ledger, SQS FIFO, EC2, SSM) and the GitHub
 * stand-in, fed with what the webhook's record path really queued: SQS hands a message out more than once (a
 * visibility timeout ran out, a second launcher took it), and a job can end before its message is processed.
 */
import "../handlers/quiet.js";
import { strict as assert } from "node:assert";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ENV, TAG } from "../../../contract/names.js";
import { getJob, type Ledger } from "../../../runtime/adapters/ledger.js";
import { LiveCapacity } from "../../../runtime/services/live-capacity.js";
import { recordDelivery } from "../../../runtime/services/record-job.js";
import { type GitHubApi, ROUTES } from "../../../testkit/github/server.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import { resetAppEnvironment, startAppEnvironment } from "../github/fixture.js";
import {
  again,
  createJobQueue,
  delivery,
  launchAll,
  launcherBatch,
  OWNER,
  receiveAll,
  recordDeps,
} from "../support/job-pipeline.js";
import { buildWorld, liveInstances, PREFIX, runnerParameters, STACK, tag } from "../support/launcher-world.js";
import { createLedgerTable, dynamoClient } from "../support/ledger-table.js";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";

describe("launch-jobs: duplicates and cancelled jobs (moto + GitHub stand-in)", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let github: GitHubApi;
  let ledger: Ledger;
  let sqs: SQSClient;
  let queueUrl: string;

  before(async () => {
    moto = await startMoto();
    github = await startAppEnvironment({ [OWNER]: 7 });
    Object.assign(process.env, {
      [ENV.stack]: STACK,
      [ENV.runnerParameterPrefix]: PREFIX,
      [ENV.runnerScope]: "org",
      [ENV.githubOwner]: OWNER,
      [ENV.runnerGroupId]: "3",
      [ENV.ledgerTable]: "jobs",
    });
  });
  after(async () => {
    await github?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    await resetAppEnvironment(moto, github);
    // buildWorld sets the pools (maxRunners 10); a test may lower one.
    await buildWorld(new EC2Client({}));
    ledger = await createLedgerTable(dynamoClient());
    sqs = new SQSClient({});
    queueUrl = await createJobQueue(sqs);
  });

  /** The webhook records a `queued` delivery of `jobId`; the one launch request it queued, as SQS hands it out. */
  async function queued(jobId: number) {
    const result = await recordDelivery(delivery("queued", jobId), `d-${jobId}`, recordDeps(ledger, sqs, queueUrl));
    assert.equal(result.enqueued, 1);
    const [message, ...more] = await receiveAll(sqs, queueUrl);
    assert.deepEqual(more, [], "one launch request per queued job");
    return message;
  }

  const instancesOf = async (jobId: number) =>
    (await liveInstances()).filter((i) => tag(i, TAG.jobId) === String(jobId));

  it("launches one instance for a message received twice in one batch", async () => {
    const message = await queued(101);
    const records = [message, again(message, "redelivered")];
    const outcomes = await launchAll(launcherBatch(records, ledger, github.url), records);

    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ["launched", "skipped"],
    );
    assert.equal((await instancesOf(101)).length, 1);
    assert.equal(github.calls[ROUTES.orgJitConfig], 1, "one runner registered");
    const record = await getJob(ledger, 101);
    assert.deepEqual([record?.state, record?.runners.length], ["launched", 1]);
  });

  it("launches one instance for a message received by two launchers at once and again later", async () => {
    const message = await queued(102);
    const first = [message];
    const second = [again(message, "second-launcher")];
    const [one, two] = await Promise.all([
      launchAll(launcherBatch(first, ledger, github.url), first),
      launchAll(launcherBatch(second, ledger, github.url), second),
    ]);
    // Both claim `queued → launching` at the same version; the ledger lets exactly one of them through.
    assert.deepEqual([...one, ...two].map((o) => o.kind).sort(), ["launched", "skipped"]);

    const late = [again(message, "after-visibility-timeout")];
    const [third] = await launchAll(launcherBatch(late, ledger, github.url), late);
    assert.equal(third.kind, "skipped");
    assert.match(third.kind === "skipped" ? third.reason : "", /the job is launched/);

    const instances = await instancesOf(102);
    assert.equal(instances.length, 1);
    assert.equal(github.calls[ROUTES.orgJitConfig], 1);
    const record = await getJob(ledger, 102);
    assert.deepEqual(
      record?.runners.map((r) => r.instanceId),
      [instances[0].InstanceId],
    );
  });

  it("skips (acknowledges) the message of a job cancelled before it was processed: no instance, no runner", async () => {
    const message = await queued(103);
    // Cancelled at GitHub while the message waited in the queue: `completed` without a runner.
    const cancel = await recordDelivery(
      delivery("completed", 103, { status: "completed" }),
      "d-cancel",
      recordDeps(ledger, sqs, queueUrl),
    );
    assert.equal(cancel.outcome, "cancelled");

    const [outcome] = await launchAll(launcherBatch([message], ledger, github.url), [message]);
    assert.equal(outcome.kind, "skipped", "resolved, not thrown: the message is acknowledged");
    assert.match(outcome.kind === "skipped" ? outcome.reason : "", /cancelled/);
    assert.deepEqual(await instancesOf(103), []);
    assert.equal(github.calls[ROUTES.orgJitConfig], 0);
    assert.equal(github.runners.size, 0);
    const record = await getJob(ledger, 103);
    assert.deepEqual([record?.state, record?.runners], ["cancelled", []]);
  });

  it("launches each job of a batch once when every message of the batch arrives twice", async () => {
    const messages = [await queued(104), await queued(105), await queued(106)];
    const records = [...messages, ...messages.map((m) => again(m, "dup"))];
    const outcomes = await launchAll(launcherBatch(records, ledger, github.url), records);
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ["launched", "launched", "launched", "skipped", "skipped", "skipped"],
    );
    for (const jobId of [104, 105, 106]) assert.equal((await instancesOf(jobId)).length, 1, `job ${jobId}`);
    assert.equal(github.calls[ROUTES.orgJitConfig], 3);
  });

  it("never leaves a pool above maxRunners when launchers run at once: the over-limit runners are withdrawn", async () => {
    const pools = JSON.parse(process.env[ENV.pools] as string) as { name: string; maxRunners: number }[];
    process.env[ENV.pools] = JSON.stringify(pools.map((p) => (p.name === "linux-x64" ? { ...p, maxRunners: 2 } : p)));
    const messages = [];
    for (const jobId of [111, 112, 113, 114, 115, 116]) messages.push(await queued(jobId));
    const batches = [messages.slice(0, 2), messages.slice(2, 4), messages.slice(4)];
    // Three launcher containers, each with a fresh count of the empty pool, launch at the same moment.
    const outcomes = (
      await Promise.all(batches.map((records) => launchAll(launcherBatch(records, ledger, github.url), records)))
    ).flat();

    const live = await liveInstances();
    assert.ok(live.length <= 2, `${live.length} live instances in a pool of at most 2`);
    const launched = outcomes.filter((o) => o.kind === "launched");
    assert.equal(launched.length, live.length, "every runner kept is recorded; none withdrawn is");
    const waiting = outcomes.filter((o) => o.kind === "capacity-wait");
    assert.equal(launched.length + waiting.length, 6, "the others wait for capacity, none is lost");
    for (const outcome of waiting) {
      const record = await getJob(ledger, outcome.message.jobId);
      assert.deepEqual([record?.state, record?.attempts], ["queued", 0], "a capacity wait is no failed attempt");
      assert.ok(record?.nextAttemptAt);
    }
    // Withdrawn runners are deregistered too: GitHub keeps only the kept ones.
    assert.equal(github.runners.size, launched.length);
  });

  it("registers no runner for a job cancelled between its claim and its launch", async () => {
    const message = await queued(121);
    // The job is cancelled at GitHub while the launcher counts the pool (after its claim, before registering).
    class CancellingCapacity extends LiveCapacity {
      override async counts(pools: string[]) {
        await recordDelivery(
          delivery("completed", 121, { status: "completed" }),
          "d-cancel",
          recordDeps(ledger, sqs, queueUrl),
        );
        return super.counts(pools);
      }
    }
    const batch = launcherBatch([message], ledger, github.url, (ec2, stack) => new CancellingCapacity(ec2, stack));
    const [outcome] = await launchAll(batch, [message]);
    assert.equal(outcome.kind, "skipped");
    assert.match(outcome.kind === "skipped" ? outcome.reason : "", /moved on to cancelled/);
    assert.equal(github.calls[ROUTES.orgJitConfig], 0, "no runner registered for a job that needs none");
    assert.deepEqual(await instancesOf(121), []);
    assert.deepEqual((await getJob(ledger, 121))?.state, "cancelled");
  });

  it("withdraws the runner of a job cancelled after its runner was registered, before the runner can boot", async () => {
    const message = await queued(122);
    // The cancellation reaches the ledger after the runner's registration and its instance, before its JIT config
    // is written (the launcher's count after the fleet): the runner must never come online, or it would take
    // another queued job of the pool (GitHub's rule) and leave that job's own runner idle in its place.
    class CancellingCapacity extends LiveCapacity {
      override async excess(pool: string, maxRunners: number, launched: readonly string[]) {
        await recordDelivery(
          delivery("completed", 122, { status: "completed" }),
          "d-cancel",
          recordDeps(ledger, sqs, queueUrl),
        );
        return super.excess(pool, maxRunners, launched);
      }
    }
    const batch = launcherBatch([message], ledger, github.url, (ec2, stack) => new CancellingCapacity(ec2, stack));
    const [outcome] = await launchAll(batch, [message]);
    assert.equal(outcome.kind, "skipped");
    assert.match(outcome.kind === "skipped" ? outcome.reason : "", /cancelled before its runner could boot/);
    assert.equal(github.calls[ROUTES.orgJitConfig], 1, "the runner was registered before the cancellation");
    assert.equal(github.runners.size, 0, "and deregistered again");
    assert.deepEqual(await instancesOf(122), [], "its instance is terminated");
    assert.deepEqual(await runnerParameters(new SSMClient({})), [], "no JIT config written: nothing can boot");
    const record = await getJob(ledger, 122);
    assert.equal(record?.state, "cancelled");
    assert.ok(
      record?.runners.every((r) => r.endedAt),
      "a runner listed on the job is recorded ended",
    );
  });
});
