import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { createTokenCache, type GitHubApp } from "../../../../runtime/adapters/github/app-auth.js";
import { classifyGitHubError, isRetryableGitHubError } from "../../../../runtime/adapters/github/errors.js";
import { type GitHubApi, ROUTES, startGitHubApi } from "../../../../testkit/github/server.js";
import { type MotoServer, startMoto } from "../../../../testkit/moto.js";
import {
  APP_ID,
  appPrivateKey,
  PRIVATE_KEY_PARAMETER,
  startAppEnvironment,
  storeAppKey,
  testGitHubApp,
} from "../../github/fixture.js";

describe("installation token cache", () => {
  const entry = (expiresAt: string) => `ghs_x|2024-01-01T00:00:00Z|${expiresAt}|all|runners!|`;

  it("returns a token until it is within the margin of its expiry", () => {
    let now = Date.parse("2024-01-01T00:00:00Z");
    const cache = createTokenCache({ marginMs: 5 * 60_000, now: () => now });
    cache.set("1", entry("2024-01-01T01:00:00Z"));
    assert.equal(cache.get("1"), entry("2024-01-01T01:00:00Z"));
    now = Date.parse("2024-01-01T00:54:59Z");
    assert.ok(cache.get("1"));
    now = Date.parse("2024-01-01T00:55:00Z");
    assert.equal(cache.get("1"), undefined);
    assert.equal(cache.size, 0);
  });

  it("misses on unknown keys and unreadable entries", () => {
    const cache = createTokenCache();
    assert.equal(cache.get("nope"), undefined);
    cache.set("2", "garbage");
    assert.equal(cache.get("2"), undefined);
  });
});

describe("GitHub App client against the stand-in", () => {
  let moto: MotoServer;
  let github: GitHubApi;
  let app: GitHubApp;
  const org = (login: string) => ({ kind: "org" as const, org: login });

  before(async () => {
    moto = await startMoto();
    github = await startAppEnvironment({ "octo-org": 7, "other-org": 8 });
  });
  after(async () => {
    await github?.stop();
    await moto?.stop();
  });
  beforeEach(() => {
    github.reset();
    app = testGitHubApp(github.url);
  });

  it("mints ONE installation token for many requests of one installation, concurrent and sequential", async () => {
    const octokit = await app.installationClient(7);
    await Promise.all(
      Array.from({ length: 5 }, () => octokit.request("GET /orgs/{org}/actions/runners", { org: "octo-org" })),
    );
    const again = await app.installationClient(7);
    assert.equal(again, octokit, "the Octokit for an installation is reused across invocations");
    for (let i = 0; i < 3; i++) await again.request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
    assert.equal(github.calls[ROUTES.createInstallationToken], 1);
    assert.equal(github.calls[ROUTES.orgListRunners], 8);
  });

  it("mints one token per installation", async () => {
    await (await app.installationClient(7)).request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
    await (await app.installationClient(8)).request("GET /orgs/{org}/actions/runners", { org: "other-org" });
    await (await app.installationClient(7)).request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
    assert.equal(github.calls[ROUTES.createInstallationToken], 2);
  });

  it("reads the private key from SSM only once", async () => {
    await (await app.installationClient(7)).request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
    // Overwriting the parameter with garbage does not matter: the key was read already.
    await new SSMClient({}).send(
      new PutParameterCommand({
        Name: PRIVATE_KEY_PARAMETER,
        Type: "SecureString",
        Value: "not a key",
        Overwrite: true,
      }),
    );
    try {
      await (await app.installationClient(8)).request("GET /orgs/{org}/actions/runners", { org: "other-org" });
    } finally {
      await storeAppKey();
    }
  });

  it("looks a target's installation up once with the App JWT and caches it", async () => {
    assert.equal(await app.installationId(org("octo-org")), 7);
    assert.equal(await app.installationId(org("Octo-Org")), 7);
    assert.equal(github.calls[ROUTES.orgInstallation], 1);
  });

  it("looks a repository's installation up on the repository, never on the owner's user account", async () => {
    const target = { kind: "repo" as const, owner: "other-org", repo: "api" };
    assert.equal(await app.installationId(target), 8);
    assert.equal(await app.installationId(target), 8);
    assert.equal(github.calls[ROUTES.repoInstallation], 1);
    assert.equal(github.calls[ROUTES.userInstallation], 0);
  });

  it("fails with a permanent error when the owner has no installation", async () => {
    await assert.rejects(
      app.installationId(org("stranger")),
      (error: unknown) => classifyGitHubError(error) === "permanent",
    );
  });

  it("fails with a permanent error when the key does not match the App", async () => {
    const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .privateKey.export({ type: "pkcs1", format: "pem" })
      .toString();
    await new SSMClient({}).send(
      new PutParameterCommand({ Name: PRIVATE_KEY_PARAMETER, Type: "SecureString", Value: otherKey, Overwrite: true }),
    );
    try {
      await assert.rejects(
        app.installationId(org("octo-org")),
        (error: unknown) => (error as { status?: number }).status === 401 && !isRetryableGitHubError(error),
      );
    } finally {
      await storeAppKey();
    }
  });

  it("rejects a parameter that holds no PEM key, and reads again on the next call", async () => {
    await new SSMClient({}).send(
      new PutParameterCommand({
        Name: PRIVATE_KEY_PARAMETER,
        Type: "SecureString",
        Value: "not a key",
        Overwrite: true,
      }),
    );
    await assert.rejects(app.installationClient(7), /not a PEM private key/);
    await storeAppKey();
    await (await app.installationClient(7)).request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
  });

  it("refreshes a token that is close to expiry", async () => {
    await github.stop();
    // A 4-minute token is inside the 5-minute margin at once: every request needs a fresh one.
    const shortLived = await startGitHubApi({
      appId: APP_ID,
      appPrivateKey: appPrivateKey(),
      installations: { "octo-org": 7 },
      tokenLifetimeSeconds: 240,
    });
    try {
      app = testGitHubApp(shortLived.url);
      const octokit = await app.installationClient(7);
      await octokit.request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
      await octokit.request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
      assert.equal(shortLived.calls[ROUTES.createInstallationToken], 2);
    } finally {
      await shortLived.stop();
      github = await startAppEnvironment({ "octo-org": 7, "other-org": 8 });
    }
  });
});
