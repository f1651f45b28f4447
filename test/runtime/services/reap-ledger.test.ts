/**
 * The reaper consults the job ledger (issue 12, item 7) against moto (EC2, SSM, DynamoDB) and the GitHub stand-in:
 * an instance whose runner GitHub does not show, or shows offline, is still never ended while the ledger records
 * its job `running` on exactly that runner. Every DynamoDB call is recorded by its `X-Amz-Target`, so the test also
 * says which actions the reaper's role needs.
 */
import { strict as assert } from "node:assert";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { JobState } from "../../../contract/ledger.js";
import { TAG } from "../../../contract/names.js";
import { addRunner, type Ledger, ledgerOf, moveJob, recordJob } from "../../../runtime/adapters/ledger.js";
import { type ReaperSettings, reap } from "../../../runtime/services/reap.js";
import { type GitHubApi, ROUTES } from "../../../testkit/github/server.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import { resetAppEnvironment, startAppEnvironment, testGitHubApp } from "../github/fixture.js";
import { createLedgerTable, dynamoClient } from "../support/ledger-table.js";
import { runTaggedInstance } from "../support/tagged-instance.js";

const ORG = "acme";
const POOL = "linux-x64";
const silent = { info() {}, warn() {}, error() {} };
const SETTINGS: ReaperSettings = {
  stack: "dev",
  parameterPrefix: "/cirunners/dev/runners",
  bootGraceMinutes: 10,
  maxJobHours: 8,
  owner: ORG,
  scope: "org",
};
/** An hour from now: every instance launched by the test is past the 10-minute boot grace. */
const anHourLater = () => new Date(Date.now() + 3_600_000);

describe("reap: the ledger spares runners running a job (moto + GitHub stand-in)", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let github: GitHubApi;
  let targets: string[];

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
    targets = [];
  });

  /** A ledger whose client records the DynamoDB action of every request it sends. */
  async function recordingLedger(table?: string): Promise<Ledger> {
    const client = dynamoClient();
    client.middlewareStack.add(
      (next) => async (args) => {
        const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
        targets.push(String(headers["x-amz-target"]).replace(/^DynamoDB_\d+\./, ""));
        return next(args);
      },
      { step: "finalizeRequest", name: "recordTargets" },
    );
    return table ? ledgerOf(client, table) : createLedgerTable(client);
  }

  async function launch(runnerName: string): Promise<string> {
    const tags = { [TAG.stack]: "dev", [TAG.pool]: POOL, [TAG.runnerName]: runnerName };
    return runTaggedInstance(tags);
  }

  /** Job `jobId`'s record, moved to `state` (through the moves the contract allows), run on `ranOn` if given. */
  async function job(ledger: Ledger, jobId: number, state: JobState, ranOn?: string): Promise<void> {
    const fields = { runId: jobId * 10, runAttempt: 1, repository: `${ORG}/app`, owner: ORG, labels: ["self-hosted"] };
    const now = new Date();
    const { record } = await recordJob(
      ledger,
      { jobId, ...fields, pool: POOL, state: "queued", queuedAt: now.toISOString() },
      now,
    );
    if (state === "queued") return;
    let current = record;
    if (state === "launched") {
      const claimed = await moveJob(ledger, jobId, "queued", record.version, { state: "launching" }, now);
      current = claimed.record ?? record;
    }
    await moveJob(ledger, jobId, current.state, current.version, { state, ...(ranOn ? { ranOn } : {}) }, now);
  }

  async function running(): Promise<string[]> {
    const out = await new EC2Client({}).send(
      new DescribeInstancesCommand({ Filters: [{ Name: "instance-state-name", Values: ["pending", "running"] }] }),
    );
    return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId as string);
  }

  const run = (ledger: Ledger) => {
    targets.length = 0; // the test's own writes are not the reaper's
    return reap(SETTINGS, {
      ec2: new EC2Client({}),
      ssm: new SSMClient({}),
      github: testGitHubApp(github.url),
      ledger,
      now: anHourLater,
      log: silent,
    });
  };

  it("never ends an instance whose job the ledger records running on its runner, whatever GitHub shows", async () => {
    const ledger = await recordingLedger();
    // GitHub shows no runner of this name (not in the list, not found by name), yet the job runs on it.
    const unseen = await launch(`${POOL}-31-aaaaaa`);
    await job(ledger, 31, "running", `${POOL}-31-aaaaaa`);
    // GitHub shows this one offline (a network blip), yet the job runs on it.
    const offline = await launch(`${POOL}-32-bbbbbb`);
    github.addRunner({ name: `${POOL}-32-bbbbbb`, scope: `org:${ORG}`, status: "offline" });
    await job(ledger, 32, "running", `${POOL}-32-bbbbbb`);
    // The job runs, but on another runner (it took one launched for another job): this one is an orphan.
    const ranElsewhere = await launch(`${POOL}-33-cccccc`);
    await job(ledger, 33, "running", "build-laptop");
    // Launched, not running: an orphan too.
    const notRunning = await launch(`${POOL}-34-dddddd`);
    await job(ledger, 34, "launched");
    // A warm runner names no job: the ledger is not asked about it.
    const warm = await launch(`${POOL}-warm-eeeeee`);

    const report = await run(ledger);

    assert.deepEqual(
      report.terminated.map((t) => [t.instanceId, t.reason]).sort(),
      [
        [ranElsewhere, "never-registered"],
        [notRunning, "never-registered"],
        [warm, "never-registered"],
      ].sort(),
    );
    assert.deepEqual((await running()).sort(), [unseen, offline].sort());
    assert.deepEqual(report.deregistered, [], "the offline runner the job runs on stays registered");
    assert.equal(github.calls[ROUTES.orgDeleteRunner], 0);
    const spared = new Map(report.decision.spared.map((s) => [s.instanceId, s.reason]));
    assert.equal(spared.get(unseen), "running-in-ledger");
    assert.equal(spared.get(offline), "running-in-ledger");
    // One consistent GetItem per job an instance was about to be ended for; nothing else.
    assert.deepEqual(targets, ["GetItem", "GetItem", "GetItem", "GetItem"]);
  });

  it("follows a runner to the job it went to (taken, or handed over) before deciding it runs nothing", async () => {
    const ledger = await recordingLedger();
    const now = new Date();
    const entry = (runnerName: string, instanceId: string, extra: Record<string, number> = {}) => ({
      instanceId,
      runnerName,
      launchedAt: now.toISOString(),
      ...extra,
    });
    // Runner 41 was taken by job 42, which runs on it (GitHub shows it offline: a blip).
    const taken = await launch(`${POOL}-41-aaaaaa`);
    github.addRunner({ name: `${POOL}-41-aaaaaa`, scope: `org:${ORG}`, status: "offline" });
    await job(ledger, 41, "queued");
    await addRunner(ledger, 41, entry(`${POOL}-41-aaaaaa`, taken, { takenBy: 42 }), now);
    await job(ledger, 42, "running", `${POOL}-41-aaaaaa`);
    // Runner 43 was handed over to job 44 (the swap), and job 44 runs on it.
    const handed = await launch(`${POOL}-43-bbbbbb`);
    await job(ledger, 43, "running", "build-laptop");
    await addRunner(ledger, 43, entry(`${POOL}-43-bbbbbb`, handed, { transferredTo: 44 }), now);
    await job(ledger, 44, "running", `${POOL}-43-bbbbbb`);

    const report = await run(ledger);

    assert.deepEqual(report.terminated, []);
    assert.deepEqual((await running()).sort(), [taken, handed].sort());
    const spared = new Map(report.decision.spared.map((s) => [s.instanceId, s.reason]));
    assert.equal(spared.get(taken), "running-in-ledger");
    assert.equal(spared.get(handed), "running-in-ledger");
  });

  it("spares the instances it was about to end when the ledger cannot be read", async () => {
    const ledger = await recordingLedger("no-such-table");
    const orphan = await launch(`${POOL}-41-aaaaaa`);
    const warm = await launch(`${POOL}-warm-bbbbbb`);
    const report = await run(ledger);
    assert.deepEqual(
      report.terminated.map((t) => t.instanceId),
      [warm],
    );
    assert.ok((await running()).includes(orphan));
    assert.deepEqual(report.decision.spared.find((s) => s.instanceId === orphan)?.reason, "unverified");
    assert.deepEqual(targets, ["GetItem"]);
  });
});
