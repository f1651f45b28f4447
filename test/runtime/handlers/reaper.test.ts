/**
 * The reaper against moto (EC2, SSM) and the GitHub stand-in: real instances with our tags, real runners.
 * moto stamps LaunchTime with the wall clock (whole seconds), so ages come from a short boot grace time and a
 * pause between launches, or from an injected `now`.
 */
import { strict as assert } from "node:assert";
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { GetParametersByPathCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { Context } from "aws-lambda";
import { ENV, TAG, runnerParameterName } from "../../../contract/names.js";
import { readSettings } from "../../../contract/settings.js";
import { type ReaperSettings, reap } from "../../../runtime/services/reap.js";
import { startMoto, type MotoServer } from "../../../testkit/moto.js";
import { ROUTES, type GitHubApi } from "../../../testkit/github/server.js";
import { resetAppEnvironment, startAppEnvironment, testGitHubApp } from "../github/fixture.js";
import { useEnv } from "../../support/env.js";
import { type Ledger, moveJob, recordJob } from "../../../runtime/adapters/ledger.js";
import { createLedgerTable, dynamoClient } from "../support/ledger-table.js";
import { runTaggedInstance } from "../support/tagged-instance.js";

const STACK = "dev";
const ORG = "acme";
const PREFIX = "/cirunners/dev/runners";
const silent = { info() {}, warn() {}, error() {} };
const CONTEXT = { functionName: "reaper", awsRequestId: "req-1" } as unknown as Context;

describe("reaper handler (moto + GitHub stand-in)", function () {
  useEnv({ POWERTOOLS_METRICS_DISABLED: "true", POWERTOOLS_LOG_LEVEL: "SILENT" });
  this.timeout(60_000);
  let moto: MotoServer;
  let github: GitHubApi;
  let reaper: typeof import("../../../runtime/handlers/reaper.js");
  let ledger: Ledger;

  before(async () => {
    moto = await startMoto({ region: "eu-west-1" });
    github = await startAppEnvironment({ [ORG]: 77 });
    reaper = await import("../../../runtime/handlers/reaper.js");
  });
  after(async () => {
    await github?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    await resetAppEnvironment(moto, github);
    ledger = await createLedgerTable(dynamoClient());
  });

  async function launch(runnerName: string, extraTags: Record<string, string> = {}): Promise<string> {
    const tags = {
      [TAG.stack]: STACK,
      [TAG.pool]: "linux-x64",
      [TAG.runnerName]: runnerName,
      [TAG.repository]: `${ORG}/app`,
      ...extraTags,
    };
    return runTaggedInstance(tags);
  }

  async function states(): Promise<Record<string, string>> {
    const result = await new EC2Client({}).send(new DescribeInstancesCommand({}));
    return Object.fromEntries(
      (result.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => [i.InstanceId!, i.State!.Name!]),
    );
  }

  async function putJitParameter(instanceId: string): Promise<void> {
    await new SSMClient({}).send(
      new PutParameterCommand({
        Name: runnerParameterName(PREFIX, instanceId),
        Type: "SecureString",
        Value: "jit-config",
      }),
    );
  }

  function settings(overrides: Partial<ReaperSettings> = {}): ReaperSettings {
    return {
      stack: STACK,
      parameterPrefix: PREFIX,
      bootGraceMinutes: 10,
      maxJobHours: 8,
      owner: ORG,
      scope: "org" as const,
      ...overrides,
    };
  }

  function dependencies(now: () => Date = () => new Date()) {
    return {
      ec2: new EC2Client({}),
      ssm: new SSMClient({}),
      github: testGitHubApp(github.url),
      ledger,
      now,
      log: silent,
    };
  }

  const runnerNames = () => [...github.runners.values()].map((r) => r.name).sort();

  it("terminates an orphan, removes a ghost and an offline runner, spares busy, idle and booting ones", async () => {
    const scope = `org:${ORG}`;
    const orphan = await launch("orphan-1"); // no runner on GitHub at all
    const offline = await launch("dead-1");
    github.addRunner({ name: "dead-1", scope, status: "offline" });
    const busy = await launch("busy-1");
    github.addRunner({ name: "busy-1", scope, status: "online", busy: true });
    const idle = await launch("idle-1");
    github.addRunner({ name: "idle-1", scope, status: "online" });
    const ghostInstance = await launch("ghost-1");
    github.addRunner({ name: "ghost-1", scope, status: "offline" });
    await new EC2Client({}).send(new TerminateInstancesCommand({ InstanceIds: [ghostInstance] })); // a spot interruption
    await putJitParameter(ghostInstance);
    github.addRunner({ name: "someone-elses-runner", scope, status: "offline" });
    // Another stack's orphan in the same account is not ours.
    const otherStack = await launch("other-1", { [TAG.stack]: "prod" });

    await new Promise((resolve) => setTimeout(resolve, 4200));
    const booting = await launch("boot-1");
    github.addRunner({ name: "boot-1", scope, status: "offline" }); // JIT-registered, not connected yet
    await putJitParameter(booting);

    const report = await reap(settings({ bootGraceMinutes: 3 / 60 }), dependencies());

    assert.deepEqual(
      report.terminated.sort((a, b) => a.instanceId.localeCompare(b.instanceId)),
      [
        { instanceId: orphan, reason: "never-registered" as const },
        { instanceId: offline, reason: "runner-offline" as const },
      ].sort((a, b) => a.instanceId.localeCompare(b.instanceId)),
    );
    const after = await states();
    assert.notEqual(after[orphan], "running");
    assert.notEqual(after[offline], "running");
    for (const spared of [busy, idle, booting, otherStack]) assert.equal(after[spared], "running", spared);
    assert.deepEqual(runnerNames(), ["boot-1", "busy-1", "idle-1", "someone-elses-runner"]);
    assert.deepEqual(report.deregistered.map((d) => [d.name, d.reason]).sort(), [
      ["dead-1", "offline-beyond-grace"],
      ["ghost-1", "instance-gone"],
    ]);
    assert.equal(github.calls[ROUTES.orgDeleteRunner], 2);

    const left = await new SSMClient({}).send(new GetParametersByPathCommand({ Path: PREFIX }));
    assert.deepEqual(
      left.Parameters?.map((p) => p.Name),
      [runnerParameterName(PREFIX, booting)],
    );
    assert.deepEqual(report.deletedParameters, [runnerParameterName(PREFIX, ghostInstance)]);
  });

  it("recycles idle runners past the max lifetime only when GitHub lets it remove them, never a busy one", async () => {
    const scope = `org:${ORG}`;
    const busy = await launch("busy-1");
    github.addRunner({ name: "busy-1", scope, status: "online", busy: true });
    const idle = await launch("idle-1");
    github.addRunner({ name: "idle-1", scope, status: "online" });
    const raced = await launch("raced-1");
    github.addRunner({ name: "raced-1", scope, status: "online" });

    // GitHub answers 422 for the first removal, as it does for a runner that has just taken a job.
    github.failNext(ROUTES.orgDeleteRunner, 422, 1, {
      message: 'Bad request - Runner "raced-1" is still running a job',
    });
    const inNineHours = () => new Date(Date.now() + 9 * 3_600_000);
    const report = await reap(settings({ maxJobHours: 8 }), {
      ...dependencies(inNineHours),
      github: dependencies().github,
    });

    // Removals run in decision order with bounded parallelism; whichever got the 422 keeps its instance.
    assert.equal(report.terminated.length, 1);
    assert.equal(report.keptBusy.length, 1);
    assert.equal(report.terminated[0].reason, "max-lifetime");
    const after = await states();
    assert.equal(after[busy], "running");
    const recycled = report.terminated[0].instanceId;
    assert.ok([idle, raced].includes(recycled));
    assert.notEqual(after[recycled], "running");
    assert.equal(after[report.keptBusy[0]], "running");
    assert.ok(runnerNames().includes("busy-1"));
  });

  it("does nothing when the runner list cannot be read (a busy runner could not be told from an orphan)", async () => {
    const orphan = await launch("orphan-1");
    github.failNext(ROUTES.orgListRunners, 502);
    await assert.rejects(
      reap(
        settings(),
        dependencies(() => new Date(Date.now() + 3_600_000)),
      ),
      (error: { status?: number }) => error.status === 502,
    );
    assert.equal((await states())[orphan], "running");
  });

  it("lists runners per repository named by our instances in repo scope", async () => {
    const orphanGhost = await launch("ghost-r", { [TAG.repository]: `${ORG}/service` });
    github.addRunner({ name: "ghost-r", scope: `repo:${ORG}/service`, status: "offline" });
    await new EC2Client({}).send(new TerminateInstancesCommand({ InstanceIds: [orphanGhost] }));
    const report = await reap(settings({ scope: "repo" }), dependencies());
    assert.deepEqual(
      report.deregistered.map((d) => [d.name, d.repository, d.reason]),
      [["ghost-r", `${ORG}/service`, "instance-gone"]],
    );
    assert.equal(github.calls[ROUTES.repoListRunners], 1);
    assert.equal(github.calls[ROUTES.repoDeleteRunner], 1);
    assert.equal(runnerNames().length, 0);
    // GitHub answers /users/{username}/installation only for user accounts; ORG is an organization.
    assert.equal(github.calls[ROUTES.userInstallation], 0, "the installation is looked up on the repository");
    assert.equal(github.calls[ROUTES.repoInstallation], 1);
  });

  it("runs as a Lambda handler from its environment, asking the ledger it names before ending a runner", async () => {
    Object.assign(process.env, {
      [ENV.stack]: STACK,
      [ENV.runnerParameterPrefix]: PREFIX,
      [ENV.bootGraceMinutes]: String(3 / 60),
      [ENV.maxJobHours]: "8",
      [ENV.githubOwner]: ORG,
      [ENV.runnerScope]: "org",
      [ENV.ledgerTable]: "jobs",
    });
    // Neither runner is on GitHub; the ledger (the table the environment names) has job 7 running on its runner.
    const orphan = await launch("linux-x64-6-aaaaaa");
    const runningJob = await launch("linux-x64-7-bbbbbb");
    const fields = { runId: 70, runAttempt: 1, repository: `${ORG}/app`, owner: ORG, labels: ["self-hosted"] };
    const queuedAt = new Date().toISOString();
    const { record } = await recordJob(ledger, { jobId: 7, ...fields, state: "queued", queuedAt }, new Date());
    await moveJob(ledger, 7, "queued", record.version, { state: "running", ranOn: "linux-x64-7-bbbbbb" }, new Date());
    await new Promise((resolve) => setTimeout(resolve, 4200)); // past the 3-second grace (moto's clock)
    const booting = await launch("linux-x64-8-cccccc");

    assert.deepEqual(await reaper.handler({}, CONTEXT), { terminated: 1, deregistered: 0, deletedParameters: 0 });
    const after = await states();
    assert.notEqual(after[orphan], "running");
    assert.equal(after[runningJob], "running");
    assert.equal(after[booting], "running", "inside the grace time");
  });

  it("names the variable that is missing or malformed", () => {
    const env = {
      [ENV.stack]: STACK,
      [ENV.runnerParameterPrefix]: PREFIX,
      [ENV.githubOwner]: ORG,
      [ENV.appId]: "1",
      [ENV.appPrivateKeyParameter]: "/k",
      [ENV.ledgerTable]: "jobs",
    };
    const read = (overrides: Record<string, string>) =>
      reaper.reaperSettings(readSettings("reaper", { ...env, ...overrides }));
    assert.equal(read({}).bootGraceMinutes, 10);
    assert.throws(() => read({ [ENV.stack]: "" }), new RegExp(ENV.stack));
    assert.throws(() => read({ [ENV.maxJobHours]: "-1" }), new RegExp(ENV.maxJobHours));
    assert.throws(() => read({ [ENV.runnerScope]: "enterprise" }), new RegExp(ENV.runnerScope));
  });
});
