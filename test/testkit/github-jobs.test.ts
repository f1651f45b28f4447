/**
 * The stand-in's jobs: GitHub's assignment rule (a queued job goes to the first online idle runner whose labels
 * include all of its labels, case-insensitively, whatever job the runner was started for), `workflow_job`
 * deliveries for each change, cancellation, environment approval, the 24-hour limit and the job route.
 */
import assert from "node:assert/strict";
import { createAppAuth } from "@octokit/auth-app";
import { generateAppPrivateKey, ROUTES, startGitHubApi, type GitHubApi } from "../../testkit/github/server.js";
import { call, specValidator, startReceiver } from "./support.js";

const APP_ID = 5150;
const KEY = generateAppPrivateKey();
const ORG = "octo-org";

describe("GitHub stand-in: jobs and runner assignment", function () {
  this.timeout(60_000);
  let api: GitHubApi;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let token: string;
  let now = Date.parse("2026-11-22T10:00:00Z");
  const assertMatchesSpec = specValidator();

  before(async () => {
    receiver = await startReceiver();
    api = await startGitHubApi({ appId: APP_ID, appPrivateKey: KEY, installations: { [ORG]: 7 }, now: () => now });
  });
  after(async () => {
    await api?.stop();
    await receiver?.stop();
  });
  beforeEach(async () => {
    api.reset();
    receiver.received.length = 0;
    api.configureHook({ id: 11, org: ORG, url: receiver.url, secret: "s3cret", active: true });
    const jwt = (await createAppAuth({ appId: APP_ID, privateKey: KEY })({ type: "app" })).token;
    token = (await call(api.url, "POST", "/app/installations/7/access_tokens", `bearer ${jwt}`)).body.token;
  });

  const events = async () => {
    await api.deliveriesSettled();
    return receiver.received.map((r) => {
      const payload = JSON.parse(r.body);
      return `${payload.workflow_job.id} ${payload.action}/${payload.workflow_job.status} ${payload.workflow_job.runner_name ?? "-"}`;
    });
  };
  const jitRunner = async (name: string, labels: string[]) =>
    (
      await call(api.url, "POST", `/orgs/${ORG}/actions/runners/generate-jitconfig`, `token ${token}`, {
        name,
        runner_group_id: 2,
        labels,
      })
    ).body.runner.id as number;

  it("gives a queued job to the first online idle runner that has all its labels, even one started for another job", async () => {
    const a = api.createJob({ id: 1, owner: ORG, labels: ["Self-Hosted"], durationMs: 60_000 });
    const b = api.createJob({ id: 2, owner: ORG, labels: ["self-hosted", "linux", "x64"], durationMs: 60_000 });
    const forB = await jitRunner("linux-2-aaaaaa", ["self-hosted", "linux", "x64"]);
    const gpu = await jitRunner("gpu-9-bbbbbb", ["self-hosted", "gpu"]);
    api.setRunnerStatus(gpu, { status: "online" });
    // The gpu runner has `self-hosted`: job 1 (oldest, labels ⊆) takes it; job 2 needs linux, x64.
    assert.equal(a.status, "in_progress");
    assert.equal(a.runnerName, "gpu-9-bbbbbb");
    assert.equal(b.status, "queued");
    api.setRunnerStatus(forB, { status: "online" });
    assert.equal(b.runnerId, forB);
    assert.deepEqual(await events(), [
      "1 queued/queued -",
      "2 queued/queued -",
      "1 in_progress/in_progress gpu-9-bbbbbb",
      "2 in_progress/in_progress linux-2-aaaaaa",
    ]);
    const delivered = JSON.parse(receiver.received[2].body);
    assert.equal(delivered.workflow_job.runner_id, gpu);
    assert.equal(receiver.received[2].headers["x-github-event"], "workflow_job");
    assert.match(String(receiver.received[2].headers["x-hub-signature-256"]), /^sha256=[0-9a-f]{64}$/);
  });

  it("lets a job with fewer labels take a runner launched for a more specific job (stealing)", async () => {
    const b = api.createJob({ id: 20, owner: ORG, labels: ["self-hosted", "linux", "x64"], durationMs: 60_000 });
    const forB = await jitRunner("linux-20-cccccc", ["self-hosted", "linux", "x64"]);
    const a = api.createJob({ id: 21, owner: ORG, labels: ["self-hosted", "linux"], durationMs: 60_000 });
    // Both queued when the runner comes online: the oldest queued job that fits wins. Make A the older one.
    a.createdAt = b.createdAt - 1;
    api.setRunnerStatus(forB, { status: "online" });
    assert.equal(a.runnerName, "linux-20-cccccc");
    assert.equal(b.status, "queued");
  });

  it("does not give a job to an offline, busy, or label-poor runner", async () => {
    const job = api.createJob({ id: 30, owner: ORG, labels: ["self-hosted", "linux", "arm64"] });
    api.addRunner({
      name: "offline",
      scope: `org:${ORG}`,
      labels: ["self-hosted", "linux", "arm64"],
      status: "offline",
    });
    api.addRunner({ name: "busy", scope: `org:${ORG}`, labels: ["self-hosted", "linux", "arm64"], busy: true });
    api.addRunner({ name: "x64", scope: `org:${ORG}`, labels: ["self-hosted", "linux", "x64"] });
    api.addRunner({ name: "other-org", scope: "org:someone-else", labels: ["self-hosted", "linux", "arm64"] });
    assert.equal(job.status, "queued");
  });

  it("ends a job as GitHub does: the ephemeral runner goes with it, `completed` is delivered", async () => {
    const job = api.createJob({ id: 40, owner: ORG, labels: ["self-hosted"], durationMs: 50 });
    const runner = await jitRunner("linux-40-dddddd", ["self-hosted", "linux"]);
    api.setRunnerStatus(runner, { status: "online" });
    await api.whenRunnerRemoved(runner);
    assert.equal(job.status, "completed");
    assert.equal(job.conclusion, "success");
    assert.equal(api.runners.has(runner), false);
    assert.deepEqual((await events()).at(-1), "40 completed/completed linux-40-dddddd");
    const history = api.runnerHistory.get(runner);
    assert.equal(history?.jobId, 40);
    assert.ok(history?.removedAt !== undefined);
  });

  it("cancels a queued job with no runner: `completed`, conclusion cancelled; a runner started for it stays idle", async () => {
    const job = api.createJob({ id: 50, owner: ORG, labels: ["self-hosted"] });
    const runner = await jitRunner("linux-50-eeeeee", ["self-hosted"]);
    api.cancelJob(50);
    api.setRunnerStatus(runner, { status: "online" });
    assert.equal(job.status, "completed");
    assert.equal(job.conclusion, "cancelled");
    assert.equal(api.runners.get(runner)?.busy, false);
    await api.deliveriesSettled();
    const last = JSON.parse(receiver.received.at(-1)?.body ?? "{}");
    assert.equal(last.action, "completed");
    assert.equal(last.workflow_job.conclusion, "cancelled");
    assert.equal(last.workflow_job.runner_name, null);
  });

  it("holds a job waiting for approval (no runner), then queues it and delivers `queued` again", async () => {
    const job = api.createJob({ id: 60, owner: ORG, labels: ["self-hosted"], needsApproval: true });
    api.addRunner({ name: "idle", scope: `org:${ORG}`, labels: ["self-hosted"] });
    assert.equal(job.status, "waiting");
    const waiting = await call(api.url, "GET", `/repos/${ORG}/app/actions/jobs/60`, `token ${token}`);
    assert.equal(waiting.status, 200);
    assertMatchesSpec(ROUTES.repoJob, 200, waiting.body);
    assert.equal(waiting.body.status, "waiting");
    api.approveJob(60);
    assert.equal(job.status, "in_progress");
    assert.deepEqual(await events(), [
      "60 queued/waiting -",
      "60 waiting/waiting -",
      "60 queued/queued -",
      "60 in_progress/in_progress idle",
    ]);
    const running = await call(api.url, "GET", `/repos/${ORG}/app/actions/jobs/60`, `token ${token}`);
    assert.equal(running.body.runner_name, "idle");
    assert.equal((await call(api.url, "GET", `/repos/${ORG}/other/actions/jobs/60`, `token ${token}`)).status, 404);
  });

  it("fails a job that waited 24 hours for a runner", async () => {
    const job = api.createJob({ id: 70, owner: ORG, labels: ["self-hosted", "nobody-has-this"] });
    now += 23 * 3_600_000;
    assert.deepEqual(api.expireJobs(), []);
    now += 3_600_000;
    assert.deepEqual(
      api.expireJobs().map((j) => j.id),
      [70],
    );
    assert.equal(job.conclusion, "failure");
  });
});
