/**
 * The redeliver handler against the GitHub stand-in, whose organization hook posts each event to a local endpoint
 * that can be made to fail (a webhook outage): the failed delivery is redelivered through the App, Redeliveries is
 * published and flushed, and a container reads its settings once.
 */
import "./quiet.js";
import { strict as assert } from "node:assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Context } from "aws-lambda";
import { ENV } from "../../../contract/names.js";
import { DEFAULT_REDELIVERY_POLICY } from "../../../runtime/core/redeliver/select.js";
import { createRedeliverHandler, handler } from "../../../runtime/handlers/redeliver.js";
import { type GitHubApi, ROUTES } from "../../../testkit/github/server.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import { resetAppEnvironment, startAppEnvironment, testGitHubApp } from "../github/fixture.js";
import { captureMetrics } from "../support/launcher-world.js";

const ORG = "acme";
const HOOK_ID = 7;
const LABELS = ["self-hosted", "linux", "x64"];
const CONTEXT = { functionName: "redeliver", awsRequestId: "req-1" } as unknown as Context;

describe("redeliver handler (GitHub stand-in)", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let github: GitHubApi;
  let endpoint: Server;
  /** What the webhook endpoint answers; every delivery's `X-GitHub-Delivery`, in arrival order. */
  let answer: number;
  let guids: string[];

  before(async () => {
    moto = await startMoto({ region: "eu-west-1" });
    github = await startAppEnvironment({ [ORG]: 77 });
    endpoint = createServer((request, response) => {
      guids.push(String(request.headers["x-github-delivery"]));
      request.resume();
      request.on("end", () => response.writeHead(answer).end());
    });
    await new Promise<void>((resolve) => endpoint.listen(0, "127.0.0.1", resolve));
  });
  after(async () => {
    await new Promise((resolve) => endpoint?.close(resolve));
    await github?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    await resetAppEnvironment(moto, github);
    answer = 502;
    guids = [];
    const { port } = endpoint.address() as AddressInfo;
    github.configureHook({ id: HOOK_ID, org: ORG, url: `http://127.0.0.1:${port}/`, secret: "s", active: true });
  });

  /** A job queued while the webhook is down: its `queued` delivery fails; then the webhook is back. */
  async function lostDelivery(jobId: number): Promise<string> {
    answer = 502;
    const before = guids.length;
    github.createJob({ id: jobId, owner: ORG, labels: LABELS });
    await github.deliveriesSettled();
    assert.equal(guids.length, before + 1);
    answer = 202;
    return guids[before];
  }

  const settings = (hookIds: Record<string, number> = { [`org:${ORG}`]: HOOK_ID }) => ({
    scope: "org" as const,
    owner: ORG,
    repositories: [],
    hookIds,
    policy: DEFAULT_REDELIVERY_POLICY,
  });
  const redeliveries = (metrics: Record<string, unknown>[]) =>
    metrics.filter((m) => "Redeliveries" in m).map((m) => m.Redeliveries);

  it("redelivers the failed delivery through the App and flushes Redeliveries", async () => {
    const guid = await lostDelivery(1);
    const redeliver = createRedeliverHandler(settings(), { github: testGitHubApp(github.url) });

    const { result, metrics } = await captureMetrics(() => redeliver({}, CONTEXT));
    await github.deliveriesSettled();
    assert.deepEqual(result, { redelivered: 1, failures: 0 });
    assert.deepEqual(guids, [guid, guid], "the same event posted again");
    assert.equal(github.calls[ROUTES.orgHookRedeliver], 1);
    assert.deepEqual(redeliveries(metrics), [1]);

    // Delivered now: nothing left to redeliver, and a run that redelivers nothing still publishes its count.
    const quiet = await captureMetrics(() => redeliver({}, CONTEXT));
    assert.deepEqual(quiet.result, { redelivered: 0, failures: 0 });
    assert.deepEqual(redeliveries(quiet.metrics), [0]);
  });

  it("counts a hook it cannot read as a failure and redelivers nothing", async () => {
    await lostDelivery(2);
    const redeliver = createRedeliverHandler(settings({ [`org:${ORG}`]: 99 }), { github: testGitHubApp(github.url) });
    const { result, metrics } = await captureMetrics(() => redeliver({}, CONTEXT));
    assert.deepEqual(result, { redelivered: 0, failures: 1 });
    assert.equal(github.calls[ROUTES.orgHookRedeliver], 0);
    assert.deepEqual(redeliveries(metrics), [0]);
  });

  it("reads its settings once per container and builds the GitHub App from them", async () => {
    Object.assign(process.env, {
      [ENV.githubOwner]: ORG,
      [ENV.runnerScope]: "org",
      [ENV.repositories]: "[]",
      [ENV.webhookHookIds]: JSON.stringify({ [`org:${ORG}`]: HOOK_ID }),
    });
    const first = await lostDelivery(3);
    const one = await captureMetrics(() => handler({}, CONTEXT));
    assert.deepEqual(one.result, { redelivered: 1, failures: 0 });
    assert.deepEqual(redeliveries(one.metrics), [1]);
    await github.deliveriesSettled();

    // The same container later: it keeps the hook ids it started with.
    process.env[ENV.webhookHookIds] = JSON.stringify({ [`org:${ORG}`]: 99 });
    const second = await lostDelivery(4);
    const two = await captureMetrics(() => handler({}, CONTEXT));
    assert.deepEqual(two.result, { redelivered: 1, failures: 0 });
    await github.deliveriesSettled();
    assert.deepEqual(guids, [first, first, second, second]);
  });
});
