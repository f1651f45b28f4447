import assert from "node:assert/strict";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LEDGER_RETENTION_MS, type NewJobRecord } from "../../../contract/ledger.js";
import {
  addRunner,
  deferJob,
  dueJobs,
  getJob,
  type Ledger,
  markRunnerEnded,
  moveJob,
  recordJob,
} from "../../../runtime/adapters/ledger.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import { createLedgerTable, dynamoClient } from "../support/ledger-table.js";

const NOW = new Date("2026-05-01T10:00:00Z");
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

function job(jobId: number, overrides: Partial<NewJobRecord> = {}): NewJobRecord {
  return {
    jobId,
    runId: 7,
    runAttempt: 1,
    repository: "acme/app",
    owner: "acme",
    labels: ["self-hosted", "linux"],
    pool: "linux",
    state: "queued",
    queuedAt: NOW.toISOString(),
    ...overrides,
  };
}

const runner = (instanceId: string) => ({
  instanceId,
  runnerName: `linux-1-${instanceId.slice(-6)}`,
  launchedAt: NOW.toISOString(),
});

describe("adapters/ledger against moto's DynamoDB", () => {
  let moto: MotoServer;
  let dynamodb: DynamoDBClient;
  let ledger: Ledger;

  before(async () => {
    moto = await startMoto();
    dynamodb = dynamoClient();
  });
  after(async () => moto.stop());
  beforeEach(async () => {
    await moto.reset();
    ledger = await createLedgerTable(dynamodb);
  });

  it("creates a job once: later deliveries get the existing record back", async () => {
    const first = await recordJob(ledger, job(1), NOW);
    assert.equal(first.created, true);
    assert.equal(first.record.version, 0);
    assert.equal(first.record.expiresAt, Math.ceil((NOW.getTime() + LEDGER_RETENTION_MS) / 1000));
    // Sequential: moto's server does not serialise concurrent conditional writes the way DynamoDB does.
    const results = [];
    for (const seconds of [5, 6, 7])
      results.push(await recordJob(ledger, job(1, { state: "waiting" }), later(seconds)));
    assert.deepEqual(
      results.map((r) => [r.created, r.record.state]),
      [
        [false, "queued"],
        [false, "queued"],
        [false, "queued"],
      ],
    );
    assert.deepEqual(await getJob(ledger, 1), first.record);
    assert.equal(await getJob(ledger, 2), undefined);
  });

  it("moves a record only from the state and version it was read at, bumping the version", async () => {
    const { record } = await recordJob(ledger, job(1), NOW);
    const claim = () => moveJob(ledger, 1, "queued", record.version, { state: "launching" }, later(1));
    assert.equal((await claim()).moved, true);
    const refused = await claim();
    assert.equal(refused.moved, false);
    assert.equal(refused.record?.state, "launching");
    assert.equal(refused.record?.version, 1);

    const launched = await moveJob(
      ledger,
      1,
      "launching",
      1,
      { state: "launched", addRunner: runner("i-0000000000000aaaa") },
      later(2),
    );
    assert.equal(launched.moved, true);
    assert.deepEqual(launched.record?.runners, [runner("i-0000000000000aaaa")]);
    assert.equal((await moveJob(ledger, 1, "launching", 1, { state: "queued" }, later(3))).moved, false);
    assert.equal((await moveJob(ledger, 99, "queued", 0, { state: "launching" }, later(3))).record, undefined);
  });

  it("refuses a move the lifecycle does not allow before writing anything", async () => {
    await recordJob(ledger, job(1, { state: "running" }), NOW);
    await assert.rejects(moveJob(ledger, 1, "running", 0, { state: "queued" }, NOW), /from running to queued/);
    assert.equal((await getJob(ledger, 1))?.version, 0);
  });

  it("sets and removes optional fields", async () => {
    await recordJob(ledger, job(1), NOW);
    await moveJob(ledger, 1, "queued", 0, { state: "launching" }, NOW);
    const failed = await moveJob(
      ledger,
      1,
      "launching",
      1,
      { state: "queued", attempts: 1, lastError: "EC2 said no", nextAttemptAt: later(30).toISOString() },
      NOW,
    );
    assert.equal(failed.record?.lastError, "EC2 said no");
    assert.equal(failed.record?.attempts, 1);
    await moveJob(ledger, 1, "queued", 2, { state: "launching" }, later(30));
    const cleared = await moveJob(
      ledger,
      1,
      "launching",
      3,
      { state: "launched", lastError: null, nextAttemptAt: null },
      later(31),
    );
    assert.equal(cleared.record?.lastError, undefined);
    assert.equal(cleared.record?.nextAttemptAt, undefined);
    assert.equal(cleared.record?.attempts, 1);
  });

  it("lists a pool's due jobs by due time; only waiting, queued, launching and launched records are listed", async () => {
    await recordJob(ledger, job(1), NOW);
    // A waiting job is due at once: the reconciler asks GitHub whether its approval came.
    await recordJob(ledger, job(2, { state: "waiting" }), NOW);
    await recordJob(ledger, job(3, { pool: "arm" }), NOW);
    await recordJob(ledger, job(4), later(-10));
    await recordJob(ledger, job(5, { state: "running" }), NOW);
    // A claimed job is leased to its launcher for 15 minutes: not due before then.
    assert.equal((await moveJob(ledger, 1, "queued", 0, { state: "launching" }, NOW)).moved, true);
    assert.deepEqual(
      (await dueJobs(ledger, "linux", later(1), 10)).map((r) => r.jobId),
      [4, 2],
    );
    assert.deepEqual(
      (await dueJobs(ledger, "linux", later(16 * 60), 10)).map((r) => r.jobId),
      [4, 2, 1],
    );
    await moveJob(ledger, 4, "queued", 0, { state: "cancelled" }, later(2));
    // Deferred (checked, still waiting): due again only at the new time; a stale version defers nothing.
    assert.equal(
      await deferJob(ledger, { jobId: 2, state: "waiting", version: 1 }, later(20 * 60).toISOString()),
      false,
    );
    assert.equal(
      await deferJob(ledger, { jobId: 2, state: "waiting", version: 0 }, later(20 * 60).toISOString()),
      true,
    );
    assert.equal((await getJob(ledger, 2))?.version, 0, "deferring bumps no version");
    assert.deepEqual(
      (await dueJobs(ledger, "linux", later(16 * 60), 10)).map((r) => r.jobId),
      [1],
    );
    assert.deepEqual(
      (await dueJobs(ledger, "linux", later(21 * 60), 10)).map((r) => r.jobId),
      [1, 2],
    );
    assert.deepEqual(
      (await dueJobs(ledger, "arm", later(1), 10)).map((r) => r.jobId),
      [3],
    );
  });

  it("pages through the due index and stops at the limit", async () => {
    for (let id = 1; id <= 12; id++) await recordJob(ledger, job(id), later(id));
    const all = await dueJobs(ledger, "linux", later(60), 100);
    assert.deepEqual(
      all.map((r) => r.jobId),
      [...Array(12).keys()].map((i) => i + 1),
    );
    assert.equal((await dueJobs(ledger, "linux", later(60), 5)).length, 5);
  });

  it("delays a queued job's due time to its next attempt", async () => {
    await recordJob(ledger, job(1), NOW);
    await moveJob(ledger, 1, "queued", 0, { state: "launching" }, NOW);
    await moveJob(ledger, 1, "launching", 1, { state: "queued", nextAttemptAt: later(120).toISOString() }, NOW);
    assert.deepEqual(await dueJobs(ledger, "linux", later(60), 10), []);
    assert.equal((await dueJobs(ledger, "linux", later(120), 10))[0]?.jobId, 1);
  });

  it("records a runner whatever the job's state, and marks it ended", async () => {
    await recordJob(ledger, job(1, { state: "cancelled" }), NOW);
    const withRunner = await addRunner(ledger, 1, runner("i-0000000000000bbbb"), NOW);
    assert.equal(withRunner?.runners.length, 1);
    assert.equal(withRunner?.version, 1);
    assert.equal(await addRunner(ledger, 2, runner("i-0000000000000cccc"), NOW), undefined);
    assert.equal(await markRunnerEnded(ledger, withRunner!, "i-0000000000000bbbb", later(60)), true);
    assert.equal((await getJob(ledger, 1))?.runners[0].endedAt, later(60).toISOString());
    assert.equal(await markRunnerEnded(ledger, withRunner!, "i-0000000000000dddd", later(60)), false);
  });
});
