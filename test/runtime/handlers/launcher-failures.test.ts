/**
 * The launcher handler against moto (EC2 CreateFleet instant, SSM) and the GitHub stand-in, when a job cannot launch
 * now: the installation lookup fails, the pool is full, a message is malformed, EC2 throttles. The FIFO rule: only a
 * message that can never succeed holds its group back.
 */
import "./quiet.js";
import assert from "node:assert/strict";
import { CreateFleetCommand } from "@aws-sdk/client-ec2";
import { TAG } from "../../../contract/names.js";
import { ROUTES } from "../../../testkit/github/server.js";
import {
  buildWorld,
  CONTEXT,
  job,
  launcherHandler,
  liveInstances,
  runnerParameters,
  STACK,
  queuedEvent,
  tag,
  X64_AMI,
} from "../support/launcher-world.js";
import { getJob } from "../../../runtime/adapters/ledger.js";
import { createLedgerTable, dynamoClient } from "../support/ledger-table.js";
import { storeAppKey } from "../github/fixture.js";
import { useLauncherSuite } from "../support/launcher-suite.js";
import { runTaggedInstance } from "../support/tagged-instance.js";

describe("launcher against moto and the GitHub stand-in: jobs it cannot launch now", () => {
  const launcher = useLauncherSuite();

  it("acknowledges the message and backs the job off when the installation lookup fails, launching nothing", async () => {
    const { handler, ledger, github } = launcher;
    github.failNext(ROUTES.orgInstallation, 502);
    const message = job("linux-x64", { installationId: undefined });
    const response = await handler(await queuedEvent(ledger, [{ body: message }]), CONTEXT);
    assert.deepEqual(response.batchItemFailures, [], "the job waits in the ledger, not in the DLQ");
    const record = await getJob(ledger, message.jobId);
    assert.deepEqual([record?.state, record?.attempts], ["queued", 1]);
    assert.match(record?.lastError ?? "", /^github-retryable: looking up the GitHub App installation/);
    assert.ok(Date.parse(record?.nextAttemptAt ?? "") > Date.now());
    assert.equal((await liveInstances()).length, 0);
    assert.equal(github.calls[ROUTES.orgJitConfig], 0);
  });

  it("respects the pool's max runners, counting instances that already run; the rest wait in the ledger", async () => {
    const { moto, ec2, ssm, github, counts } = launcher;
    await moto.reset();
    await storeAppKey();
    await buildWorld(ec2, { x64: 3, arm: 10 });
    const ledger = await createLedgerTable(dynamoClient());
    const handler = launcherHandler(ec2, ssm, github.url, ledger);
    // one runner of the pool already running, one of another stack (not ours)
    await runTaggedInstance({ [TAG.stack]: STACK, [TAG.pool]: "linux-x64" }, { ec2, imageId: X64_AMI });
    await runTaggedInstance({ [TAG.stack]: "other", [TAG.pool]: "linux-x64" }, { ec2, imageId: X64_AMI });
    counts.clear();
    const messages = [job("linux-x64"), job("linux-x64"), job("linux-x64"), job("linux-arm")];
    const event = await queuedEvent(
      ledger,
      messages.map((body) => ({ body })),
    );
    const response = await handler(event, CONTEXT);
    assert.deepEqual(response.batchItemFailures, [], "a capacity wait is acknowledged, never dead-lettered");
    const waiting = await getJob(ledger, messages[2].jobId);
    assert.deepEqual([waiting?.state, waiting?.attempts], ["queued", 0], "a capacity wait is no failed attempt");
    assert.ok(Date.parse(waiting?.nextAttemptAt ?? "") > Date.now(), waiting?.nextAttemptAt);
    const ours = (await liveInstances()).filter((i) => tag(i, TAG.stack) === STACK);
    assert.equal(ours.filter((i) => tag(i, TAG.pool) === "linux-x64").length, 3);
    assert.equal(counts.get("DescribeInstancesCommand"), 3, "one for both pools before, one per pool after");
    assert.equal(github.calls[ROUTES.orgJitConfig], 3, "no JIT config for the job over capacity");

    // a further job is refused on a fresh count, and nothing launched needs counting after
    const further = job("linux-x64");
    const more = await queuedEvent(ledger, [{ body: further }]);
    assert.deepEqual((await handler(more, CONTEXT)).batchItemFailures, []);
    assert.equal((await getJob(ledger, further.jobId))?.state, "queued");
    assert.equal(counts.get("DescribeInstancesCommand"), 4);
  });

  it("fails malformed messages (not dropped) and the later messages of their group, and launches the rest", async () => {
    const { handler, ledger } = launcher;
    const good = job("linux-x64");
    const sameGroupAfter = job("linux-x64");
    const other = job("linux-x64");
    const event = await queuedEvent(ledger, [
      { body: "{not json", group: "g1" },
      { body: sameGroupAfter, group: "g1" },
      { body: JSON.stringify({ ...good, jobId: "x" }), group: "g2" },
      { body: job("no-such-pool"), group: "g3" },
      { body: other, group: "g4" },
    ]);
    const response = await handler(event, CONTEXT);
    assert.deepEqual(
      response.batchItemFailures.map((f) => f.itemIdentifier),
      event.Records.slice(0, 4).map((r) => r.messageId),
    );
    const instances = await liveInstances();
    assert.deepEqual(
      instances.map((i) => tag(i, TAG.jobId)),
      [String(other.jobId)],
    );
  });

  it("acknowledges a failed launch (EC2 throttled) and backs it off, so its FIFO group goes on", async () => {
    const { handler, ledger, world, ec2, ssm, github } = launcher;
    const send = ec2.send.bind(ec2) as (command: unknown) => Promise<unknown>;
    const armTemplate = world.pools.find((p) => p.name === "linux-arm")!.launchTemplateId;
    (ec2 as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      if (
        command instanceof CreateFleetCommand &&
        command.input.LaunchTemplateConfigs?.[0].LaunchTemplateSpecification?.LaunchTemplateId === armTemplate
      ) {
        throw Object.assign(new Error("Request limit exceeded."), { name: "RequestLimitExceeded" });
      }
      return send(command);
    };
    const first = job("linux-arm");
    const second = job("linux-x64");
    const independent = job("linux-x64");
    const event = await queuedEvent(ledger, [
      { body: first, group: "repo-a" },
      { body: second, group: "repo-a" },
      { body: independent, group: "repo-b" },
    ]);
    const response = await handler(event, CONTEXT);
    // Only a message that can never succeed holds its group back (see the malformed-message test).
    assert.deepEqual(response.batchItemFailures, []);
    const record = await getJob(ledger, first.jobId);
    assert.deepEqual([record?.state, record?.attempts], ["queued", 1]);
    assert.match(record?.lastError ?? "", /Request limit exceeded/);
    const instances = await liveInstances();
    assert.deepEqual(
      instances.map((i) => tag(i, TAG.jobId)).sort(),
      [String(second.jobId), String(independent.jobId)].sort(),
    );
    assert.equal((await runnerParameters(ssm)).length, 2);
    assert.deepEqual(
      [...github.runners.values()].map((r) => r.name).sort(),
      instances.map((i) => tag(i, TAG.runnerName)).sort(),
      "no JIT runner is left behind for the failed launch",
    );
  });
});
