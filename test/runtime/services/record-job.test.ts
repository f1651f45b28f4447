/**
 * The webhook's record path (services/record-job.ts) against moto (DynamoDB ledger, SQS FIFO job queue) with the
 * launcher's batch behind it: a just-in-time runner is not bound to its job, so job A can start on the runner
 * launched for job B. B must then be launched again, once, however often and however concurrently A's `in_progress`
 * arrives.
 */
import "../handlers/quiet.js";
import { strict as assert } from "node:assert";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ENV, TAG } from "../../../contract/names.js";
import { getJob, type Ledger, moveJob } from "../../../runtime/adapters/ledger.js";
import { handOverSpareRunner } from "../../../runtime/services/hand-over.js";
import { recordDelivery } from "../../../runtime/services/record-job.js";
import { type GitHubApi, ROUTES } from "../../../testkit/github/server.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import { resetAppEnvironment, startAppEnvironment } from "../github/fixture.js";
import {
  createJobQueue,
  delivery,
  launchAll,
  launcherBatch,
  OWNER,
  POOLS,
  receiveAll,
  recordDeps,
} from "../support/job-pipeline.js";
import { buildWorld, liveInstances, PREFIX, STACK, tag } from "../support/launcher-world.js";
import { createLedgerTable, dynamoClient } from "../support/ledger-table.js";

const VICTIM = 201;
const THIEF = 202;

describe("record-job: a runner taken by another job (moto + GitHub stand-in)", function () {
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
    await buildWorld(new EC2Client({}));
    ledger = await createLedgerTable(dynamoClient());
    sqs = new SQSClient({});
    queueUrl = await createJobQueue(sqs);
  });

  const record = (d: ReturnType<typeof delivery>, id: string) =>
    recordDelivery(d, id, recordDeps(ledger, sqs, queueUrl));
  const instancesOf = async (jobId: number) =>
    (await liveInstances()).filter((i) => tag(i, TAG.jobId) === String(jobId));

  /** Both jobs queued; the victim's runner launched; the thief's launch request still in the queue. */
  async function victimLaunched() {
    await record(delivery("queued", VICTIM), "d-victim");
    const [victimMessage] = await receiveAll(sqs, queueUrl);
    const [launched] = await launchAll(launcherBatch([victimMessage], ledger, github.url), [victimMessage]);
    assert.equal(launched.kind, "launched");
    await record(delivery("queued", THIEF), "d-thief");
    const [thiefMessage] = await receiveAll(sqs, queueUrl);
    const victim = await getJob(ledger, VICTIM);
    assert.equal(victim?.state, "launched");
    return { runnerName: victim?.runners[0].runnerName as string, thiefMessage };
  }

  const startedOn = (runnerName: string) =>
    delivery("in_progress", THIEF, { runnerName, startedAt: new Date().toISOString() });

  it("queues the victim again with one more attempt and requests its launch once (id jobId-version)", async () => {
    const { runnerName } = await victimLaunched();

    const result = await record(startedOn(runnerName), "d-started");
    assert.equal(result.outcome, "started");
    assert.deepEqual(result.compensated, { jobId: VICTIM, pool: "linux-x64" });
    assert.equal(result.enqueued, 1, "the thief itself needs no launch");

    const thief = await getJob(ledger, THIEF);
    assert.deepEqual([thief?.state, thief?.ranOn], ["running", runnerName]);
    const victim = await getJob(ledger, VICTIM);
    assert.deepEqual([victim?.state, victim?.attempts], ["queued", 1]);
    assert.equal(victim?.lastError, `runner ${runnerName} was taken by job ${THIEF}`);

    const [message, ...more] = await receiveAll(sqs, queueUrl);
    assert.deepEqual(more, []);
    assert.deepEqual([message.message.jobId, message.message.recordVersion], [VICTIM, victim?.version]);
    assert.equal(message.deduplicationId, `${VICTIM}-${victim?.version}`);
    assert.equal(message.groupId, String(VICTIM));
  });

  it("compensates once when the thief's in_progress arrives twice and is redelivered later", async () => {
    const { runnerName } = await victimLaunched();
    // One after the other: DynamoDB serialises conditional writes to one item, but moto's server handles requests
    // on threads without a lock, so two writes sent at once can both pass their condition there: against moto such
    // a test fails at random for a race the real table does not have.
    const first = await record(startedOn(runnerName), "d-started");
    const retried = await record(startedOn(runnerName), "d-started-retry");
    const redelivered = await record(startedOn(runnerName), "d-started");
    const results = [first, retried, redelivered];

    // The thief's `queued → running` is one conditional write: only its winner compensates.
    assert.equal(results.filter((r) => r.compensated).length, 1);
    assert.equal(
      results.reduce((sum, r) => sum + r.enqueued, 0),
      1,
    );
    assert.deepEqual(results.map((r) => r.outcome ?? "nothing").sort(), ["nothing", "nothing", "started"]);
    const victim = await getJob(ledger, VICTIM);
    assert.deepEqual([victim?.state, victim?.attempts], ["queued", 1]);
    const messages = await receiveAll(sqs, queueUrl);
    assert.deepEqual(
      messages.map((m) => m.deduplicationId),
      [`${VICTIM}-${victim?.version}`],
    );
  });

  it("gives the victim a runner of its own and the thief, already running, none", async () => {
    // The victim is still queued at GitHub: a relaunch asks GitHub first.
    github.createJob({
      id: VICTIM,
      owner: OWNER,
      repository: "app",
      labels: ["self-hosted", "linux", "x64"],
      deliver: false,
    });
    const { runnerName, thiefMessage } = await victimLaunched();
    await record(startedOn(runnerName), "d-started");
    const [relaunch] = await receiveAll(sqs, queueUrl);

    const records = [thiefMessage, relaunch];
    const outcomes = await launchAll(launcherBatch(records, ledger, github.url), records);
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ["skipped", "launched"],
    );
    assert.deepEqual(await instancesOf(THIEF), []);
    assert.equal((await instancesOf(VICTIM)).length, 2, "the taken runner's instance and the new one");
    const victim = await getJob(ledger, VICTIM);
    assert.equal(victim?.state, "launched");
    assert.equal(victim?.runners.length, 2);
    assert.notEqual(victim?.runners[1].runnerName, runnerName);
  });

  /** Both jobs launched: each has a runner of its own in the same pool. */
  async function bothLaunched() {
    await record(delivery("queued", VICTIM), "d-victim");
    await record(delivery("queued", THIEF), "d-thief");
    const messages = await receiveAll(sqs, queueUrl);
    const outcomes = await launchAll(launcherBatch(messages, ledger, github.url), messages);
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ["launched", "launched"],
    );
    const victim = await getJob(ledger, VICTIM);
    const thief = await getJob(ledger, THIEF);
    return {
      victimRunner: victim?.runners[0].runnerName as string,
      thiefRunner: thief?.runners[0].runnerName as string,
    };
  }

  it("hands the thief's own runner to the victim instead of launching: the victim keeps launched", async () => {
    const { victimRunner, thiefRunner } = await bothLaunched();

    const result = await record(startedOn(victimRunner), "d-started");
    assert.equal(result.outcome, "started");
    assert.equal(result.enqueued, 0, "nothing is launched: the thief's runner serves the victim");
    assert.equal(result.compensated, undefined);
    assert.deepEqual(result.swapped, { jobId: VICTIM, pool: "linux-x64" });
    assert.deepEqual(await receiveAll(sqs, queueUrl), []);

    const victim = await getJob(ledger, VICTIM);
    assert.deepEqual([victim?.state, victim?.attempts], ["launched", 0]);
    assert.deepEqual(
      victim?.runners.map((r) => [r.runnerName, r.takenBy]),
      [
        [victimRunner, THIEF],
        [thiefRunner, undefined],
      ],
    );
    const thief = await getJob(ledger, THIEF);
    assert.deepEqual([thief?.state, thief?.ranOn, thief?.runners[0].transferredTo], ["running", victimRunner, VICTIM]);

    // The victim's in_progress on the thief's runner, and the thief's redelivered one, change nothing more.
    const late = await record(
      delivery("in_progress", VICTIM, { runnerName: thiefRunner, startedAt: new Date().toISOString() }),
      "d-victim-started",
    );
    assert.deepEqual(
      [late.outcome, late.enqueued, late.compensated, late.swapped],
      ["started", 0, undefined, undefined],
    );
    const again = await record(startedOn(victimRunner), "d-started");
    assert.deepEqual([again.enqueued, again.swapped], [0, undefined]);
    assert.deepEqual(await receiveAll(sqs, queueUrl), []);
    assert.equal((await instancesOf(VICTIM)).length + (await instancesOf(THIEF)).length, 2, "two jobs, two runners");
  });

  it("follows a runner handed on: a third job taking it makes that job's runner serve the holder", async () => {
    const { victimRunner, thiefRunner } = await bothLaunched();
    await record(startedOn(victimRunner), "d-started");
    const THIRD = 203;
    await record(delivery("queued", THIRD), "d-third");
    const messages = await receiveAll(sqs, queueUrl);
    await launchAll(launcherBatch(messages, ledger, github.url), messages);
    const thirdRunner = (await getJob(ledger, THIRD))?.runners[0].runnerName as string;

    // The third job starts on the thief's runner, which now serves the victim.
    const result = await record(
      delivery("in_progress", THIRD, { runnerName: thiefRunner, startedAt: new Date().toISOString() }),
      "d-third-started",
    );
    assert.deepEqual([result.enqueued, result.swapped?.jobId], [0, VICTIM]);
    const victim = await getJob(ledger, VICTIM);
    assert.equal(victim?.state, "launched");
    assert.deepEqual(
      victim?.runners.map((r) => [r.runnerName, r.takenBy]),
      [
        [victimRunner, THIEF],
        [thiefRunner, THIRD],
        [thirdRunner, undefined],
      ],
    );
    assert.equal((await getJob(ledger, THIRD))?.runners[0].transferredTo, VICTIM);
  });

  it("hands the runner of a thief that was still being launched to the victim queued again: one runner each", async () => {
    const { runnerName } = await victimLaunched();
    // The thief's launcher has claimed it and is starting its runner when the thief starts on the victim's runner.
    const thief = await getJob(ledger, THIEF);
    await moveJob(ledger, THIEF, "queued", thief?.version as number, { state: "launching" }, new Date());
    const result = await record(startedOn(runnerName), "d-started");
    assert.deepEqual([result.compensated?.jobId, result.enqueued], [VICTIM, 1], "no runner to swap yet: requeued");
    const [relaunch] = await receiveAll(sqs, queueUrl);

    // The thief's runner is started: its launcher finds the thief running and hands the runner to the victim.
    const spare = {
      instanceId: "i-0123456789abcdef0",
      runnerName: `linux-x64-${THIEF}-cccccc`,
      launchedAt: new Date().toISOString(),
    };
    const handed = await handOverSpareRunner(ledger, await getJob(ledger, THIEF), spare, POOLS, new Date());
    assert.equal(handed, true);
    const victim = await getJob(ledger, VICTIM);
    assert.equal(victim?.state, "launched");
    assert.deepEqual(victim?.runners.at(-1)?.runnerName, spare.runnerName);
    assert.equal((await getJob(ledger, THIEF))?.runners.at(-1)?.transferredTo, VICTIM);

    // The victim's relaunch request launches nothing.
    const [outcome] = await launchAll(launcherBatch([relaunch], ledger, github.url), [relaunch]);
    assert.equal(outcome.kind, "skipped");
    assert.equal((await instancesOf(VICTIM)).length, 1, "only the taken runner's instance");
  });

  it("registers no runner for a relaunch GitHub no longer queues (its deliveries lag): the claim follows GitHub", async () => {
    github.createJob({
      id: VICTIM,
      owner: OWNER,
      repository: "app",
      labels: ["self-hosted", "linux", "x64"],
      deliver: false,
    });
    const { runnerName } = await victimLaunched();
    await record(startedOn(runnerName), "d-started");
    const [relaunch] = await receiveAll(sqs, queueUrl);
    github.cancelJob(VICTIM); // its `completed` delivery has not reached the webhook yet
    const calls = github.calls[ROUTES.orgJitConfig];

    const [outcome] = await launchAll(launcherBatch([relaunch], ledger, github.url), [relaunch]);
    assert.equal(outcome.kind, "skipped");
    assert.equal(github.calls[ROUTES.orgJitConfig], calls, "no runner registered");
    assert.equal((await getJob(ledger, VICTIM))?.state, "cancelled");
    assert.equal((await instancesOf(VICTIM)).length, 1, "only the taken runner's instance");
  });
});
