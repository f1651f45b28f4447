/**
 * The reconciler against moto and the GitHub stand-in, for jobs not yet on a runner: a capacity wait, a waiting job's
 * approval, a queued job past GitHub's 24 hours and a launch that got stuck.
 */
import { strict as assert } from "node:assert";
import { EC2Client, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { dueJobs, getJob, moveJob, recordJob } from "../../../runtime/adapters/ledger.js";
import { job, launch, minutes, ORG, POOL, useReconcileWorld } from "../support/reconcile-world.js";

describe("reconcileJobs (moto + GitHub stand-in): jobs waiting to launch", function () {
  this.timeout(60_000);
  const world = useReconcileWorld();
  const { settings, run, queuedMessages } = world;

  it("keeps a job waiting for capacity in the ledger and sends it to the launcher once the pool has room", async () => {
    const { ledger } = world;
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
    const { github, ledger } = world;
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
    const { ledger } = world;
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
});
