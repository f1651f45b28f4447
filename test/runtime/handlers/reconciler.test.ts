/**
 * The reconciler handler against moto (DynamoDB ledger, SQS FIFO, EC2) and the GitHub stand-in: the job metrics a
 * run publishes (the EMF documents Powertools writes), the run's stored metrics flushed even when the run fails,
 * and a container that reads its settings once and builds the ledger, queue and GitHub App from them.
 */
import "./quiet.js";
import { strict as assert } from "node:assert";
import { EC2Client } from "@aws-sdk/client-ec2";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import type { JobState } from "../../../contract/ledger.js";
import { ENV } from "../../../contract/names.js";
import { getJob, type Ledger, moveJob, recordJob } from "../../../runtime/adapters/ledger.js";
import { createReconcilerHandler, handler, RECONCILE_FAILURES } from "../../../runtime/handlers/reconciler.js";
import type { ReconcileSettings } from "../../../runtime/services/reconcile-jobs.js";
import type { GitHubApi } from "../../../testkit/github/server.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import { resetAppEnvironment, startAppEnvironment, testGitHubApp } from "../github/fixture.js";
import { captureMetrics } from "../support/launcher-world.js";
import { createLedgerTable, dynamoClient } from "../support/ledger-table.js";

const ORG = "acme";
const POOL = "linux-x64";
const LABELS = ["self-hosted", "linux", "x64"];
const CONTEXT = { functionName: "reconciler", awsRequestId: "req-1" } as unknown as Context;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

describe("reconciler handler (moto + GitHub stand-in)", function () {
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
    queueUrl = await createQueue("jobs.fifo");
  });

  async function createQueue(name: string): Promise<string> {
    const queue = await new SQSClient({}).send(
      new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: "true" } }),
    );
    return queue.QueueUrl as string;
  }
  async function jobIdsIn(url: string): Promise<number[]> {
    const { Messages = [] } = await new SQSClient({}).send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }),
    );
    return Messages.map((m) => JSON.parse(m.Body ?? "{}").jobId as number).sort();
  }

  const settings = (): ReconcileSettings => ({
    stack: "dev",
    pools: [
      { name: POOL, labels: LABELS, instanceTypes: ["m7i.large"], architecture: "x64", maxRunners: 5, spot: false },
    ],
    scope: "org",
    owner: ORG,
    queueUrl,
    bootGraceMinutes: 10,
    pageSize: 25,
  });
  const deps = (ec2 = new EC2Client({})) => ({
    ledger,
    ec2,
    sqs: new SQSClient({}),
    github: testGitHubApp(github.url),
  });

  async function record(jobId: number, state: JobState) {
    const fields = { runId: jobId * 10, runAttempt: 1, repository: `${ORG}/app`, owner: ORG, labels: LABELS };
    return recordJob(
      ledger,
      { jobId, ...fields, pool: POOL, state, queuedAt: minutesAgo(30).toISOString() },
      new Date(),
    );
  }

  /** A job whose runner was launched 20 minutes ago (past the 10-minute boot grace): the reconciler asks GitHub. */
  async function launched(jobId: number, runnerName: string): Promise<void> {
    const { record: queued } = await record(jobId, "queued");
    const claimed = await moveJob(ledger, jobId, "queued", queued.version, { state: "launching" }, new Date());
    const runner = { instanceId: `i-${jobId}`, runnerName, launchedAt: minutesAgo(20).toISOString() };
    const update = { state: "launched" as const, addRunner: runner };
    await moveJob(ledger, jobId, "launching", claimed.record?.version as number, update, new Date());
  }

  const emitted = (metrics: Record<string, unknown>[], name: string) =>
    metrics.filter((m) => name in m).map((m) => [m[name], m.pool]);

  it("publishes JobsStarted and JobsCompleted for what GitHub's job API reports, like the webhook would", async () => {
    // The webhook missed these deliveries: only GitHub's job API tells the reconciler that the jobs moved on.
    await launched(11, `${POOL}-11-aaaaaa`);
    github.addRunner({ name: `${POOL}-11-aaaaaa`, scope: `org:${ORG}` });
    github.createJob({ id: 11, owner: ORG, labels: LABELS, deliver: false, durationMs: 3_600_000 });
    await launched(12, `${POOL}-12-bbbbbb`);
    github.addRunner({ name: `${POOL}-12-bbbbbb`, scope: `org:${ORG}` });
    github.createJob({ id: 12, owner: ORG, labels: LABELS, deliver: false, durationMs: 3_600_000 });
    github.finishJob(12);
    // Started on a runner that is not ours (another job's was stolen from it): not one of our starts.
    await launched(13, `${POOL}-13-cccccc`);
    github.addRunner({ name: "build-laptop", scope: `org:${ORG}` });
    github.createJob({ id: 13, owner: ORG, labels: LABELS, deliver: false, durationMs: 3_600_000 });

    const reconcile = createReconcilerHandler(settings(), deps());
    const { result, metrics } = await captureMetrics(() => reconcile({}, CONTEXT));

    assert.deepEqual(result, { enqueued: 0, moved: 3, idleRunnersEnded: 0, failures: 0 });
    const states = await Promise.all([11, 12, 13].map(async (id) => (await getJob(ledger, id))?.state));
    assert.deepEqual(states, ["running", "done", "running"]);
    assert.deepEqual(emitted(metrics, "JobsStarted"), [[1, POOL]]);
    assert.deepEqual(emitted(metrics, "JobsCompleted"), [[1, POOL]]);
    assert.deepEqual(emitted(metrics, RECONCILE_FAILURES), [[0, undefined]], "the run's stored metrics are flushed");
  });

  it("flushes a failure when the run fails as a whole, and still fails the invocation", async () => {
    const ec2 = new EC2Client({});
    ec2.send = (async () => {
      throw Object.assign(new Error("Request limit exceeded."), { name: "RequestLimitExceeded" });
    }) as typeof ec2.send;
    const reconcile = createReconcilerHandler(settings(), deps(ec2));
    const { result, metrics } = await captureMetrics(() =>
      reconcile({}, CONTEXT).then(
        () => "resolved",
        (error: Error) => error.message,
      ),
    );
    assert.equal(result, "Request limit exceeded.");
    assert.deepEqual(emitted(metrics, RECONCILE_FAILURES), [[1, undefined]]);
  });

  it("reads its settings once per container and builds the ledger, queue and GitHub App from them", async () => {
    Object.assign(process.env, {
      [ENV.stack]: "dev",
      [ENV.pools]: JSON.stringify([{ ...settings().pools[0], launchTemplateId: "lt-0123456789abcdef0" }]),
      [ENV.subnetIds]: JSON.stringify(["subnet-0a1b2c3d"]),
      [ENV.runnerParameterPrefix]: "/cirunners/dev/runners",
      [ENV.githubOwner]: ORG,
      [ENV.runnerScope]: "org",
      [ENV.ledgerTable]: "jobs",
      [ENV.jobQueueUrl]: queueUrl,
      [ENV.bootGraceMinutes]: "10",
    });
    // Approved at GitHub while its delivery was lost: the reconciler asks GitHub and sends it to the launcher.
    const approved = async (jobId: number) => {
      await record(jobId, "waiting");
      github.createJob({ id: jobId, owner: ORG, labels: LABELS, needsApproval: true, deliver: false });
      github.approveJob(jobId);
    };
    await approved(21);
    const first = await captureMetrics(() => handler({}, CONTEXT));
    assert.deepEqual(first.result, { enqueued: 1, moved: 1, idleRunnersEnded: 0, failures: 0 });
    assert.deepEqual(emitted(first.metrics, "JobsQueued"), [[1, POOL]]);
    assert.deepEqual(await jobIdsIn(queueUrl), [21]);

    // A later invocation of the same container keeps the settings it started with.
    const elsewhere = await createQueue("elsewhere.fifo");
    Object.assign(process.env, { [ENV.jobQueueUrl]: elsewhere, [ENV.ledgerTable]: "no-such-table" });
    await approved(22);
    const second = await captureMetrics(() => handler({}, CONTEXT));
    // Job 21 is still queued (no launcher ran): due again, it is sent again with the same deduplication id.
    assert.deepEqual(second.result, { enqueued: 2, moved: 1, idleRunnersEnded: 0, failures: 0 });
    assert.ok((await jobIdsIn(queueUrl)).includes(22));
    assert.deepEqual(await jobIdsIn(elsewhere), []);
  });
});
