/** Failed-delivery recovery against a local stand-in of GitHub's hook delivery routes (`hook-fixture.ts`). */
import { strict as assert } from "node:assert";
import { DEFAULT_REDELIVERY_POLICY } from "../../../runtime/core/redeliver/select.js";
import { type RedeliverSettings, redeliverFailedDeliveries } from "../../../runtime/services/redeliver-deliveries.js";
import { fixtureApp, type HookFixture, startHookFixture } from "../adapters/github/hook-fixture.js";

const silent = { info() {}, warn() {}, error() {} };
const ORG_HOOK = "/orgs/acme/hooks/7";

describe("redeliverFailedDeliveries (local hook fixture)", function () {
  this.timeout(20_000);
  let fixture: HookFixture;
  beforeEach(async () => {
    fixture = await startHookFixture();
  });
  afterEach(() => fixture.stop());

  const orgSettings: RedeliverSettings = {
    scope: "org",
    owner: "acme",
    repositories: [],
    hookIds: { "org:acme": 7 },
    policy: DEFAULT_REDELIVERY_POLICY,
  };
  const run = (settings = orgSettings, github = fixtureApp(fixture.url)) =>
    redeliverFailedDeliveries(settings, { github, now: () => new Date(), log: silent });
  const redeliveryPosts = () => fixture.requests.filter((r) => r.startsWith("POST") && r.endsWith("/attempts"));

  it("redelivers failed deliveries once; successes and already-redelivered events are skipped", async () => {
    const failed = fixture.deliver(ORG_HOOK, "lost", 502, 20);
    const timedOut = fixture.deliver(ORG_HOOK, "timeout", 0, 15);
    fixture.deliver(ORG_HOOK, "fine", 202, 14);
    fixture.deliver(ORG_HOOK, "recovered", 504, 13);
    fixture.deliver(ORG_HOOK, "recovered", 202, 12, true);

    const first = await run();
    assert.deepEqual(first.redelivered.map((r) => r.deliveryId).sort(), [failed.id, timedOut.id].sort());
    assert.deepEqual(first.failures, []);

    // The redeliveries succeeded (the fixture's webhook answers 200): the next run has nothing to do.
    const second = await run();
    assert.deepEqual(second.redelivered, []);
    assert.equal(redeliveryPosts().length, 2);
  });

  it("does not redeliver a failed redelivery again before its backoff", async () => {
    fixture.webhookStatus = 502; // the webhook is still down
    fixture.deliver(ORG_HOOK, "lost", 502, 20);
    assert.equal((await run()).redelivered.length, 1);
    assert.equal((await run()).redelivered.length, 0, "the new attempt failed seconds ago");
    assert.equal(redeliveryPosts().length, 1);
  });

  it("follows the cursor across pages and stops once it reaches back past the window", async () => {
    // Outside the 3-hour window: the page that reaches them is the last one read.
    for (let i = 0; i < 150; i++) fixture.deliver(ORG_HOOK, `ancient-${i}`, 502, 400 - i);
    for (let i = 0; i < 230; i++) fixture.deliver(ORG_HOOK, `ok-${i}`, 202, 100 - i * 0.1);
    const lost = fixture.deliver(ORG_HOOK, "lost", 500, 5);
    const report = await run();
    assert.deepEqual(
      report.redelivered.map((r) => r.deliveryId),
      [lost.id],
    );
    const lists = fixture.requests.filter((r) => r.startsWith(`GET ${ORG_HOOK}/deliveries`));
    assert.equal(lists.length, 3, "231 recent deliveries at 100 a page, then stop");
    assert.ok(lists[1].includes("cursor="), lists[1]);
  });

  it("reads each configured repository's hook in repo scope and reports a repository without one", async () => {
    const hook = "/repos/acme/app/hooks/9";
    const lost = fixture.deliver(hook, "lost", 503, 10);
    const report = await run({
      ...orgSettings,
      scope: "repo",
      repositories: ["app", "site"],
      hookIds: { "repo:acme/app": 9 },
    });
    assert.deepEqual(
      report.redelivered.map((r) => [r.target, r.deliveryId]),
      [["repo:acme/app", lost.id]],
    );
    assert.deepEqual(report.missingHooks, ["repo:acme/site"]);
  });

  it("keeps going when one hook cannot be read", async () => {
    const lost = fixture.deliver("/repos/acme/site/hooks/11", "lost", 502, 10);
    const report = await run({
      ...orgSettings,
      scope: "repo",
      repositories: ["app", "site"],
      hookIds: { "repo:acme/app": 404404, "repo:acme/site": 11 },
    });
    assert.deepEqual(report.failures, [{ target: "repo:acme/app", reason: "github-404" }]);
    assert.deepEqual(
      report.redelivered.map((r) => r.deliveryId),
      [lost.id],
    );
  });
});
