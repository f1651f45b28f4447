/**
 * The GitHub stand-in: its responses validate against the response schemas of GitHub's OpenAPI description
 * (@octokit/openapi, dereferenced), and its state, auth checks, call counts and failure injection behave.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createAppAuth } from "@octokit/auth-app";
import {
  generateAppPrivateKey,
  ROUTES,
  startGitHubApi,
  type GitHubApi,
  type RouteKey,
} from "../../testkit/github/server.js";
import { request, specValidator } from "./support.js";

const APP_ID = 424242;
const APP_KEY = generateAppPrivateKey();
const appPrivateKey = () => APP_KEY;

describe("GitHub API stand-in", function () {
  this.timeout(120_000);
  let api: GitHubApi;
  let jwt: string;
  let token: string;
  const assertMatchesSpec: (route: RouteKey, status: number, body: unknown) => void = specValidator();
  const call = (method: string, path: string, options: { auth?: string; body?: unknown; accept?: string } = {}) =>
    request(api.url, method, path, options);

  before(async () => {
    api = await startGitHubApi({
      appId: APP_ID,
      appPrivateKey: appPrivateKey(),
      accounts: { "octo-org": "Organization", octocat: "User" },
      installations: { "octo-org": 7, octocat: 8 },
    });
    jwt = (await createAppAuth({ appId: APP_ID, privateKey: appPrivateKey() })({ type: "app" })).token;
  });
  after(async () => api?.stop());
  beforeEach(async () => {
    api.reset();
    const minted = await call("POST", "/app/installations/7/access_tokens", { auth: `bearer ${jwt}` });
    token = minted.body.token;
  });

  it("answers the App routes with spec-shaped bodies, behind a valid App JWT", async () => {
    const minted = await call("POST", "/app/installations/7/access_tokens", { auth: `bearer ${jwt}` });
    assert.equal(minted.status, 201);
    assertMatchesSpec(ROUTES.createInstallationToken, 201, minted.body);
    assert.ok(Date.parse(minted.body.expires_at) > Date.now() + 59 * 60_000);
    for (const [route, path, id, login, type] of [
      [ROUTES.orgInstallation, "/orgs/octo-org/installation", 7, "octo-org", "Organization"],
      [ROUTES.repoInstallation, "/repos/octo-org/app/installation", 7, "octo-org", "Organization"],
      [ROUTES.userInstallation, "/users/octocat/installation", 8, "octocat", "User"],
      [ROUTES.repoInstallation, "/repos/octocat/hello-world/installation", 8, "octocat", "User"],
    ] as const) {
      const installation = await call("GET", path, { auth: `bearer ${jwt}` });
      assert.equal(installation.status, 200, path);
      assertMatchesSpec(route, 200, installation.body);
      assert.equal(installation.body.id, id);
      assert.equal(installation.body.account.login, login);
      assert.equal(installation.body.account.type, type);
      assert.equal(installation.body.target_type, type);
    }
    assert.equal(api.calls[ROUTES.createInstallationToken], 2);
  });

  it("answers each installation route only for the account type GitHub answers it for", async () => {
    // GitHub: GET /users/{username}/installation finds installations on user accounts only, GET
    // /orgs/{org}/installation on organizations only; the repository route works for either owner.
    const auth = `bearer ${jwt}`;
    const organizationAsUser = await call("GET", "/users/octo-org/installation", { auth });
    assert.equal(organizationAsUser.status, 404);
    assert.equal(organizationAsUser.body.message, "Not Found");
    assert.equal((await call("GET", "/orgs/octocat/installation", { auth })).status, 404);
    const notInstalled = await call("GET", "/repos/nobody/app/installation", { auth });
    assert.equal(notInstalled.status, 404);
    assertMatchesSpec(ROUTES.repoInstallation, 404, notInstalled.body);
    const userToken = (await call("POST", "/app/installations/8/access_tokens", { auth })).body.token;
    const orgRunnersOfUser = await call("GET", "/orgs/octocat/actions/runners", { auth: `token ${userToken}` });
    assert.equal(orgRunnersOfUser.status, 404, "a user account has no organization runners");
    const repoRunnersOfUser = await call("GET", "/repos/octocat/hello-world/actions/runners", {
      auth: `token ${userToken}`,
    });
    assert.equal(repoRunnersOfUser.status, 200);
  });

  it("rejects a JWT signed with another key, an installation token on App routes, and unknown installations", async () => {
    const otherKey = generateAppPrivateKey();
    const forged = (await createAppAuth({ appId: APP_ID, privateKey: otherKey })({ type: "app" })).token;
    assert.equal((await call("GET", "/orgs/octo-org/installation", { auth: `bearer ${forged}` })).status, 401);
    const wrongApp = (await createAppAuth({ appId: APP_ID + 1, privateKey: appPrivateKey() })({ type: "app" })).token;
    assert.equal((await call("GET", "/orgs/octo-org/installation", { auth: `bearer ${wrongApp}` })).status, 401);
    assert.equal((await call("GET", "/orgs/octo-org/installation", { auth: `token ${token}` })).status, 401);
    assert.equal((await call("POST", "/app/installations/99/access_tokens", { auth: `bearer ${jwt}` })).status, 404);
    const missing = await call("GET", "/orgs/nobody/installation", { auth: `bearer ${jwt}` });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, "Not Found");
  });

  it("registers JIT runners (org and repo), lists, gets and deletes them, in the spec's shapes", async () => {
    const auth = `token ${token}`;
    const org = await call("POST", "/orgs/octo-org/actions/runners/generate-jitconfig", {
      auth,
      body: {
        name: "linux-x64-1-aaaaaa",
        runner_group_id: 3,
        labels: ["self-hosted", "linux", "x64", "gpu"],
        work_folder: "_work",
      },
    });
    assert.equal(org.status, 201);
    assertMatchesSpec(ROUTES.orgJitConfig, 201, org.body);
    assert.throws(
      () => assertMatchesSpec(ROUTES.orgJitConfig, 201, { runner: { ...org.body.runner, id: "5" } }),
      /must be integer/,
      "the schema check bites",
    );
    assert.deepEqual(
      org.body.runner.labels.map((l: { type: string }) => l.type),
      ["read-only", "read-only", "read-only", "custom"],
    );
    const repo = await call("POST", "/repos/octo-org/app/actions/runners/generate-jitconfig", {
      auth,
      body: { name: "r-2", runner_group_id: 1, labels: ["self-hosted"] },
    });
    assert.equal(repo.status, 201);
    assertMatchesSpec(ROUTES.repoJitConfig, 201, repo.body);

    const list = await call("GET", "/orgs/octo-org/actions/runners", { auth });
    assertMatchesSpec(ROUTES.orgListRunners, 200, list.body);
    assert.equal(list.body.total_count, 1, "the repo runner is not an org runner");
    assertMatchesSpec(
      ROUTES.repoListRunners,
      200,
      (await call("GET", "/repos/octo-org/app/actions/runners", { auth })).body,
    );

    api.setRunnerStatus("linux-x64-1-aaaaaa", { status: "online", busy: true });
    const got = await call("GET", `/orgs/octo-org/actions/runners/${org.body.runner.id}`, { auth });
    assertMatchesSpec(ROUTES.orgGetRunner, 200, got.body);
    assert.equal(got.body.status, "online");
    assert.equal(got.body.busy, true);

    const busyDelete = await call("DELETE", `/orgs/octo-org/actions/runners/${org.body.runner.id}`, { auth });
    assert.equal(busyDelete.status, 422);
    assertMatchesSpec(ROUTES.orgDeleteRunner, 422, busyDelete.body);
    api.setRunnerStatus(org.body.runner.id, { busy: false });
    assert.equal((await call("DELETE", `/orgs/octo-org/actions/runners/${org.body.runner.id}`, { auth })).status, 204);
    assert.equal(
      (await call("DELETE", `/repos/octo-org/app/actions/runners/${repo.body.runner.id}`, { auth })).status,
      204,
    );
    assert.equal(api.runners.size, 0);
  });

  it("checks JIT requests like GitHub: 422 for invalid bodies, 409 for a duplicate name, 403 for another owner's token", async () => {
    const auth = `token ${token}`;
    const invalid = await call("POST", "/orgs/octo-org/actions/runners/generate-jitconfig", {
      auth,
      body: { name: "x", labels: [] },
    });
    assert.equal(invalid.status, 422);
    assertMatchesSpec(ROUTES.orgJitConfig, 422, invalid.body);
    const body = { name: "dup", runner_group_id: 1, labels: ["self-hosted"] };
    assert.equal((await call("POST", "/orgs/octo-org/actions/runners/generate-jitconfig", { auth, body })).status, 201);
    const conflict = await call("POST", "/orgs/octo-org/actions/runners/generate-jitconfig", { auth, body });
    assert.equal(conflict.status, 409);
    assertMatchesSpec(ROUTES.orgJitConfig, 409, conflict.body);
    assert.equal((await call("GET", "/orgs/someone-else/actions/runners", { auth })).status, 403);
    assert.equal((await call("GET", "/orgs/octo-org/actions/runners", { auth: "token ghs_made_up" })).status, 401);
    assert.equal((await call("GET", "/orgs/octo-org/actions/runners")).status, 401);
  });

  it("paginates runner lists with a Link header", async () => {
    for (let i = 0; i < 4; i++) api.addRunner({ name: `ghost-${i}`, scope: "org:octo-org", status: "offline" });
    api.addRunner({ name: "ghost-4", target: { kind: "org", org: "Octo-Org" }, status: "offline" });
    api.addRunner({ name: "repo-runner", target: { kind: "repo", owner: "octo-org", repo: "app" } });
    const first = await call("GET", "/orgs/octo-org/actions/runners?per_page=2", { auth: `token ${token}` });
    assert.equal(first.body.total_count, 5);
    assert.equal(first.body.runners.length, 2);
    assert.match(first.headers.get("link")!, /page=2>; rel="next"/);
    const last = await call("GET", "/orgs/octo-org/actions/runners?per_page=2&page=3", { auth: `token ${token}` });
    assert.deepEqual(
      last.body.runners.map((r: { name: string }) => r.name),
      ["ghost-4"],
    );
    assert.equal(last.headers.get("link"), null);
  });

  it("makes the next N calls of a route fail, with rate-limit headers on 429", async () => {
    api.failNext(ROUTES.orgListRunners, 429, 2);
    const auth = `token ${token}`;
    const limited = await call("GET", "/orgs/octo-org/actions/runners", { auth });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "1");
    assert.equal(limited.headers.get("x-ratelimit-remaining"), "0");
    assert.equal((await call("GET", "/orgs/octo-org/actions/runners", { auth })).status, 429);
    assert.equal((await call("GET", "/orgs/octo-org/actions/runners", { auth })).status, 200);
    assert.equal(api.calls[ROUTES.orgListRunners], 3);
    api.failNext(ROUTES.orgJitConfig, 503);
    assert.equal(
      (
        await call("POST", "/orgs/octo-org/actions/runners/generate-jitconfig", {
          auth,
          body: { name: "x", runner_group_id: 1, labels: ["a"] },
        })
      ).status,
      503,
    );
    assert.equal(api.runners.size, 0);
  });

  it("serves the latest actions/runner release and its assets, whose digests match the bytes", async () => {
    const release = await call("GET", "/repos/actions/runner/releases/latest");
    assert.equal(release.status, 200);
    assertMatchesSpec(ROUTES.latestRelease, 200, release.body);
    assert.equal(release.body.tag_name, "v2.330.0");
    const names = release.body.assets.map((a: { name: string }) => a.name);
    assert.deepEqual(names, ["actions-runner-linux-x64-2.330.0.tar.gz", "actions-runner-linux-arm64-2.330.0.tar.gz"]);
    for (const asset of release.body.assets as Array<{
      id: number;
      browser_download_url: string;
      digest: string;
      size: number;
      name: string;
    }>) {
      const bytes = Buffer.from(await (await fetch(asset.browser_download_url)).arrayBuffer());
      assert.equal(bytes.length, asset.size);
      const sha = createHash("sha256").update(bytes).digest("hex");
      assert.equal(asset.digest, `sha256:${sha}`);
      assert.ok(release.body.body.includes(sha), "the release notes carry the checksum like actions/runner's do");
      const meta = await call("GET", `/repos/actions/runner/releases/assets/${asset.id}`);
      assertMatchesSpec(ROUTES.releaseAsset, 200, meta.body);
      const redirect = await call("GET", `/repos/actions/runner/releases/assets/${asset.id}`, {
        accept: "application/octet-stream",
      });
      assert.equal(redirect.status, 302);
      assert.equal(redirect.headers.get("location"), asset.browser_download_url);
    }
    assert.equal((await call("GET", "/repos/octo-org/app/releases/latest")).status, 404);
  });
});
