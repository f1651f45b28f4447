/**
 * The stand-in's webhook deliveries and runner lookups: failed deliveries are recorded and not retried, the
 * deliveries route lists newest first with cursor pagination (`per_page`, `cursor`, `link`) and `status`,
 * redelivery makes a new record with the same guid, and runners are found by name or id while page-based listing
 * shifts as ephemeral runners go.
 */
import assert from "node:assert/strict";
import { createAppAuth } from "@octokit/auth-app";
import { generateAppPrivateKey, ROUTES, startGitHubApi, type GitHubApi } from "../../testkit/github/server.js";
import { call, specValidator, startReceiver } from "./support.js";

const APP_ID = 5151;
const KEY = generateAppPrivateKey();
const ORG = "octo-org";

describe("GitHub stand-in: webhook deliveries and runner lookups", function () {
  this.timeout(60_000);
  let api: GitHubApi;
  let answer = 200;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let token: string;
  const assertMatchesSpec = specValidator();
  const get = (path: string) => call(api.url, "GET", path, `token ${token}`);

  before(async () => {
    receiver = await startReceiver(() => answer);
    api = await startGitHubApi({ appId: APP_ID, appPrivateKey: KEY, installations: { [ORG]: 7, other: 8 } });
  });
  after(async () => {
    await api?.stop();
    await receiver?.stop();
  });
  beforeEach(async () => {
    api.reset();
    answer = 200;
    receiver.received.length = 0;
    api.configureHook({ id: 11, org: ORG, url: receiver.url, secret: "s3cret", active: true });
    const jwt = (await createAppAuth({ appId: APP_ID, privateKey: KEY })({ type: "app" })).token;
    token = (await call(api.url, "POST", "/app/installations/7/access_tokens", `bearer ${jwt}`)).body.token;
  });

  it("records failed deliveries without retrying them, and redelivers on request with the same guid", async () => {
    answer = 503;
    api.createJob({ id: 1, owner: ORG, labels: ["self-hosted"] });
    await api.deliveriesSettled();
    assert.equal(receiver.received.length, 1, "GitHub does not retry a failed delivery by itself");
    const failed = await get(`/orgs/${ORG}/hooks/11/deliveries?status=failure`);
    assert.equal(failed.status, 200);
    assertMatchesSpec(ROUTES.orgHookDeliveries, 200, failed.body);
    assert.equal(failed.body.length, 1);
    const [item] = failed.body;
    assert.equal(item.status_code, 503);
    assert.equal(item.status, "Invalid HTTP Response: 503");
    assert.equal(item.redelivery, false);
    assert.equal(item.event, "workflow_job");
    assert.equal(item.action, "queued");
    assert.equal(receiver.received[0].headers["x-github-delivery"], item.guid);

    const one = await get(`/orgs/${ORG}/hooks/11/deliveries/${item.id}`);
    assertMatchesSpec(ROUTES.orgHookDelivery, 200, one.body);
    assert.equal(one.body.request.payload.workflow_job.id, 1);

    answer = 202;
    const attempt = await call(
      api.url,
      "POST",
      `/orgs/${ORG}/hooks/11/deliveries/${item.id}/attempts`,
      `token ${token}`,
    );
    assert.equal(attempt.status, 202);
    await api.deliveriesSettled();
    assert.equal(receiver.received.length, 2);
    assert.equal(receiver.received[1].headers["x-github-delivery"], item.guid);
    assert.equal(receiver.received[1].body, receiver.received[0].body, "the same payload, byte for byte");
    const all = (await get(`/orgs/${ORG}/hooks/11/deliveries`)).body;
    assert.deepEqual(
      all.map((d: { guid: string; redelivery: boolean; status_code: number }) => [d.guid, d.redelivery, d.status_code]),
      [
        [item.guid, true, 202],
        [item.guid, false, 503],
      ],
    );
    assert.notEqual(all[0].id, all[1].id);
    assert.equal((await get(`/orgs/${ORG}/hooks/11/deliveries?status=success`)).body.length, 1);
  });

  it("pages deliveries newest first by cursor, following the link header to the end", async () => {
    for (let id = 1; id <= 7; id++) api.createJob({ id, owner: ORG, labels: ["nobody"] });
    await api.deliveriesSettled();
    const seen: number[] = [];
    let path: string | undefined = `/orgs/${ORG}/hooks/11/deliveries?per_page=3`;
    let pages = 0;
    while (path) {
      const page = await get(path);
      assert.equal(page.status, 200);
      pages += 1;
      seen.push(...page.body.map((d: { request?: unknown; id: number }) => d.id));
      const next = /<([^>]+)>; rel="next"/.exec(page.headers.get("link") ?? "");
      path = next ? new URL(next[1]).pathname + new URL(next[1]).search : undefined;
    }
    assert.equal(pages, 3);
    assert.equal(seen.length, 7);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => b - a),
    );
    assert.equal((await get(`/orgs/${ORG}/hooks/11/deliveries?per_page=101`)).status, 422);
    assert.equal((await get(`/orgs/${ORG}/hooks/11/deliveries?cursor=bogus`)).status, 400);
  });

  it("answers 404 for another hook, and 403 for another owner's hook", async () => {
    assert.equal((await get(`/orgs/${ORG}/hooks/12/deliveries`)).status, 404);
    assert.equal((await get(`/orgs/other/hooks/11/deliveries`)).status, 403);
  });

  it("finds runners by name and by id while ephemeral runners leave and page-based listing shifts", async () => {
    for (let i = 0; i < 5; i++) api.addRunner({ name: `r${i}`, scope: `org:${ORG}`, status: "offline" });
    const firstPage = (await get(`/orgs/${ORG}/actions/runners?per_page=2&page=1`)).body.runners.map(
      (r: { name: string }) => r.name,
    );
    assert.deepEqual(firstPage, ["r0", "r1"]);
    // r1 ends its job and goes: what was on page 2 moves up, and r2 is on no page a page-2 reader sees.
    api.runners.delete([...api.runners.values()].find((r) => r.name === "r1")!.id);
    const secondPage = (await get(`/orgs/${ORG}/actions/runners?per_page=2&page=2`)).body.runners.map(
      (r: { name: string }) => r.name,
    );
    assert.deepEqual(secondPage, ["r3", "r4"]);
    const byName = await get(`/orgs/${ORG}/actions/runners?name=r2`);
    assert.deepEqual(
      byName.body.runners.map((r: { name: string }) => r.name),
      ["r2"],
    );
    assert.equal(byName.body.total_count, 1);
    const r2 = byName.body.runners[0].id;
    const one = await get(`/orgs/${ORG}/actions/runners/${r2}`);
    assertMatchesSpec(ROUTES.orgGetRunner, 200, one.body);
    assert.equal(one.body.busy, false);
    assert.equal((await get(`/orgs/${ORG}/actions/runners?name=r1`)).body.total_count, 0);
  });

  it("answers every API route with the outage status while GitHub is down", async () => {
    api.setOutage(503);
    assert.equal((await get(`/orgs/${ORG}/actions/runners`)).status, 503);
    api.setOutage(undefined);
    assert.equal((await get(`/orgs/${ORG}/actions/runners`)).status, 200);
  });
});
