import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { RequestError } from "@octokit/request-error";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { ENV } from "../../../contract/names.js";
import {
  classifyGitHubError,
  createTokenCache,
  getInstallationOctokit,
  getOwnerInstallationId,
  gitHubErrorReason,
  isRetryableGitHubError,
  readGitHubAppSettings,
  resetGitHubClients,
} from "../../../runtime/shared/github.js";
import { startMoto, type MotoServer } from "../../../testkit/moto.js";
import { ROUTES, type GitHubApi } from "../../../testkit/github/server.js";
import { APP_ID, PRIVATE_KEY_PARAMETER, startAppEnvironment, storeAppKey } from "./fixture.js";

function requestError(status: number, headers: Record<string, string> = {}, message = "failed"): RequestError {
  return new RequestError(message, status, {
    request: { method: "POST", url: "https://api.github.com/x", headers: {} },
    response: { status, url: "https://api.github.com/x", headers, data: { message } },
  });
}

describe("GitHub error classification", () => {
  it("retries server errors, 429 and network failures", () => {
    for (const status of [500, 502, 503, 504, 429])
      assert.equal(isRetryableGitHubError(requestError(status)), true, String(status));
    assert.equal(isRetryableGitHubError(new TypeError("fetch failed")), true);
    assert.equal(isRetryableGitHubError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })), true);
  });

  it("retries a 403 that is a primary or secondary rate limit", () => {
    assert.equal(isRetryableGitHubError(requestError(403, { "retry-after": "60" })), true);
    assert.equal(isRetryableGitHubError(requestError(403, { "x-ratelimit-remaining": "0" })), true);
    assert.equal(isRetryableGitHubError(requestError(403, {}, "You have exceeded a secondary rate limit")), true);
  });

  it("treats other 4xx as permanent", () => {
    for (const status of [400, 401, 403, 404, 409, 422])
      assert.equal(classifyGitHubError(requestError(status)), "permanent", String(status));
  });

  it("names the status in the failure reason", () => {
    assert.equal(gitHubErrorReason(requestError(429)), "github-429");
    assert.equal(gitHubErrorReason(new TypeError("fetch failed")), "github-network");
  });
});

describe("GitHub App settings", () => {
  it("reads app id, key parameter and base URL, defaulting to api.github.com", () => {
    const settings = readGitHubAppSettings({ [ENV.appId]: "12", [ENV.appPrivateKeyParameter]: "/k" });
    assert.deepEqual(settings, { appId: 12, privateKeyParameter: "/k", baseUrl: "https://api.github.com" });
    assert.equal(
      readGitHubAppSettings({
        [ENV.appId]: "12",
        [ENV.appPrivateKeyParameter]: "/k",
        [ENV.githubApiUrl]: "http://127.0.0.1:9/",
      }).baseUrl,
      "http://127.0.0.1:9",
    );
  });

  it("names the variable that is missing or malformed", () => {
    assert.throws(() => readGitHubAppSettings({ [ENV.appPrivateKeyParameter]: "/k" }), new RegExp(ENV.appId));
    assert.throws(
      () => readGitHubAppSettings({ [ENV.appId]: "abc", [ENV.appPrivateKeyParameter]: "/k" }),
      new RegExp(ENV.appId),
    );
    assert.throws(() => readGitHubAppSettings({ [ENV.appId]: "12" }), new RegExp(ENV.appPrivateKeyParameter));
  });
});

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

  before(async () => {
    moto = await startMoto();
    github = await startAppEnvironment({ "octo-org": 7, "other-org": 8 });
  });
  after(async () => {
    await github?.stop();
    await moto?.stop();
    resetGitHubClients();
  });
  beforeEach(() => {
    github.reset();
    resetGitHubClients();
  });

  it("mints ONE installation token for many requests of one installation, concurrent and sequential", async () => {
    const octokit = await getInstallationOctokit(7);
    await Promise.all(
      Array.from({ length: 5 }, () => octokit.request("GET /orgs/{org}/actions/runners", { org: "octo-org" })),
    );
    const again = await getInstallationOctokit(7);
    assert.equal(again, octokit, "the Octokit for an installation is reused across invocations");
    for (let i = 0; i < 3; i++) await again.request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
    assert.equal(github.calls[ROUTES.createInstallationToken], 1);
    assert.equal(github.calls[ROUTES.orgListRunners], 8);
  });

  it("mints one token per installation", async () => {
    await (await getInstallationOctokit(7)).request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
    await (await getInstallationOctokit(8)).request("GET /orgs/{org}/actions/runners", { org: "other-org" });
    await (await getInstallationOctokit(7)).request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
    assert.equal(github.calls[ROUTES.createInstallationToken], 2);
  });

  it("reads the private key from SSM only once", async () => {
    await (await getInstallationOctokit(7)).request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
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
      await (await getInstallationOctokit(8)).request("GET /orgs/{org}/actions/runners", { org: "other-org" });
    } finally {
      await storeAppKey();
    }
  });

  it("looks the owner's installation up once with the App JWT and caches it", async () => {
    assert.equal(await getOwnerInstallationId("octo-org", "org"), 7);
    assert.equal(await getOwnerInstallationId("Octo-Org", "org"), 7);
    assert.equal(github.calls[ROUTES.orgInstallation], 1);
    assert.equal(await getOwnerInstallationId("other-org", "repo"), 8);
    assert.equal(github.calls[ROUTES.userInstallation], 1);
  });

  it("fails with a permanent error when the owner has no installation", async () => {
    await assert.rejects(
      getOwnerInstallationId("stranger", "org"),
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
        getOwnerInstallationId("octo-org", "org"),
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
    await assert.rejects(getInstallationOctokit(7), /does not hold a PEM private key/);
    await storeAppKey();
    await (await getInstallationOctokit(7)).request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
  });

  it("refreshes a token that is close to expiry", async () => {
    await github.stop();
    const { startGitHubApi } = await import("../../../testkit/github/server.js");
    const { appPrivateKey } = await import("./fixture.js");
    // A 4-minute token is inside the 5-minute margin at once: every request needs a fresh one.
    const shortLived = await startGitHubApi({
      appId: APP_ID,
      appPrivateKey: appPrivateKey(),
      installations: { "octo-org": 7 },
      tokenLifetimeSeconds: 240,
    });
    process.env[ENV.githubApiUrl] = shortLived.url;
    resetGitHubClients();
    try {
      const octokit = await getInstallationOctokit(7);
      await octokit.request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
      await octokit.request("GET /orgs/{org}/actions/runners", { org: "octo-org" });
      assert.equal(shortLived.calls[ROUTES.createInstallationToken], 2);
    } finally {
      await shortLived.stop();
      github = await startAppEnvironment({ "octo-org": 7, "other-org": 8 });
    }
  });
});
