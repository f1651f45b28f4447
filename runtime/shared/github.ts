/**
 * GitHub App client for the Lambda functions.
 *
 * One App identity per process: the private key is read once from SSM (SecureString), and every Octokit built
 * here shares one installation-token cache at module scope, so a warm Lambda container mints one installation
 * token an hour per installation instead of one per invocation (thousands of runners a day would otherwise
 * exhaust the App's rate limit). `@octokit/auth-app` de-duplicates concurrent token requests for the same
 * installation; the cache below additionally refuses tokens close to their `expires_at`.
 */
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { SSMProvider } from "@aws-lambda-powertools/parameters/ssm";
import { SSMClient } from "@aws-sdk/client-ssm";
import { ENV } from "../../contract/names.js";

export const DEFAULT_GITHUB_API_URL = "https://api.github.com";

/** A token is not handed out when less than this is left before its `expires_at` (a request may be slow). */
export const TOKEN_EXPIRY_MARGIN_MS = 5 * 60 * 1000;

export interface GitHubAppSettings {
  appId: number;
  privateKeyParameter: string;
  baseUrl: string;
}

/** Reads the App settings from the environment; names the missing or malformed variable. */
export function readGitHubAppSettings(env: NodeJS.ProcessEnv = process.env): GitHubAppSettings {
  const rawAppId = env[ENV.appId];
  const appId = Number(rawAppId);
  if (!rawAppId || !Number.isInteger(appId) || appId <= 0) {
    throw new Error(`${ENV.appId} must be a positive integer GitHub App id, got ${JSON.stringify(rawAppId)}`);
  }
  const privateKeyParameter = env[ENV.appPrivateKeyParameter];
  if (!privateKeyParameter)
    throw new Error(`${ENV.appPrivateKeyParameter} (SSM parameter holding the App private key) is not set`);
  const baseUrl = (env[ENV.githubApiUrl] || DEFAULT_GITHUB_API_URL).replace(/\/+$/, "");
  return { appId, privateKeyParameter, baseUrl };
}

/**
 * Token cache for `@octokit/auth-app` (its `Cache` interface). Values are auth-app's own
 * `token|createdAt|expiresAt|...` strings; an entry whose expiry is within `marginMs` counts as absent, so the
 * next request mints a fresh token instead of using one that may expire mid-flight.
 */
export function createTokenCache(options: { marginMs?: number; now?: () => number } = {}) {
  const marginMs = options.marginMs ?? TOKEN_EXPIRY_MARGIN_MS;
  const now = options.now ?? Date.now;
  const entries = new Map<string, string>();
  return {
    get(key: string): string {
      const value = entries.get(key);
      if (value === undefined) return undefined as unknown as string; // auth-app treats a falsy value as a miss
      const expiresAt = Date.parse(value.split("|")[2] ?? "");
      if (!Number.isFinite(expiresAt) || expiresAt - now() <= marginMs) {
        entries.delete(key);
        return undefined as unknown as string;
      }
      return value;
    },
    set(key: string, value: string): void {
      entries.set(key, value);
    },
    get size(): number {
      return entries.size;
    },
  };
}

interface AppState {
  settings: GitHubAppSettings;
  privateKey: string;
  appOctokit: Octokit;
  installations: Map<number, Octokit>;
}

// Module scope: survives across invocations of a warm container.
let statePromise: Promise<AppState> | undefined;
let tokenCache = createTokenCache();
const ownerInstallations = new Map<string, Promise<number>>();
let ssmClient: SSMClient | undefined;

async function readPrivateKey(parameterName: string): Promise<string> {
  // The client is created on first use so that it picks up the endpoint configured at that time (tests, moto).
  ssmClient ??= new SSMClient({});
  const provider = new SSMProvider({ awsSdkV3Client: ssmClient });
  const value = await provider.get(parameterName, { decrypt: true, maxAge: 24 * 3600 });
  if (typeof value !== "string" || !value.includes("PRIVATE KEY")) {
    throw new Error(`SSM parameter ${parameterName} does not hold a PEM private key`);
  }
  return value;
}

function appOctokit(settings: GitHubAppSettings, privateKey: string, installationId?: number): Octokit {
  return new Octokit({
    baseUrl: settings.baseUrl,
    authStrategy: createAppAuth,
    // auth-app rejects an explicit `installationId: undefined`: leave the key out for the App itself.
    auth: {
      appId: settings.appId,
      privateKey,
      cache: tokenCache,
      ...(installationId === undefined ? {} : { installationId }),
    },
  });
}

async function loadState(): Promise<AppState> {
  const settings = readGitHubAppSettings();
  const privateKey = await readPrivateKey(settings.privateKeyParameter);
  return { settings, privateKey, appOctokit: appOctokit(settings, privateKey), installations: new Map() };
}

function state(): Promise<AppState> {
  if (!statePromise) {
    const pending = loadState();
    statePromise = pending;
    // A failed read (SSM throttling, missing parameter) must not poison the container: try again next time.
    pending.catch(() => {
      if (statePromise === pending) statePromise = undefined;
    });
  }
  return statePromise;
}

/** Octokit authenticated as the App itself (JWT): for `/app/...` and `/orgs/{org}/installation` routes. */
export async function getAppOctokit(): Promise<Octokit> {
  return (await state()).appOctokit;
}

/** Octokit authenticated as an installation; instances and their tokens are reused across invocations. */
export async function getInstallationOctokit(installationId: number): Promise<Octokit> {
  if (!Number.isInteger(installationId) || installationId <= 0) {
    throw new Error(`installation id must be a positive integer, got ${installationId}`);
  }
  const current = await state();
  let octokit = current.installations.get(installationId);
  if (!octokit) {
    octokit = appOctokit(current.settings, current.privateKey, installationId);
    current.installations.set(installationId, octokit);
  }
  return octokit;
}

/**
 * Caches an installation lookup by key. The promise itself is cached, so concurrent jobs of one batch share one
 * request; a failed lookup is forgotten so that the next job asks again.
 */
function cachedInstallation(key: string, lookup: () => Promise<number>): Promise<number> {
  const cached = ownerInstallations.get(key);
  if (cached !== undefined) return cached;
  const pending = lookup();
  ownerInstallations.set(key, pending);
  pending.catch(() => ownerInstallations.delete(key));
  return pending;
}

/**
 * The App's installation id on an owner, cached for the container's lifetime. Org scope asks
 * `GET /orgs/{org}/installation`; repo scope asks `GET /users/{username}/installation` (a user account).
 */
export function getOwnerInstallationId(owner: string, scope: "org" | "repo"): Promise<number> {
  return cachedInstallation(`${scope}:${owner.toLowerCase()}`, async () => {
    const octokit = await getAppOctokit();
    const response =
      scope === "org"
        ? await octokit.request("GET /orgs/{org}/installation", { org: owner })
        : await octokit.request("GET /users/{username}/installation", { username: owner });
    return response.data.id;
  });
}

/**
 * The App installation that can register runners at a target: `GET /orgs/{org}/installation` for organization
 * runners, `GET /repos/{owner}/{repo}/installation` for repository runners (it answers for repositories of users
 * and organizations alike). Cached for the container's lifetime, so steady state costs no GitHub call.
 */
export function getTargetInstallationId(
  target: { scope: "org"; org: string } | { scope: "repo"; owner: string; repo: string },
): Promise<number> {
  if (target.scope === "org") return getOwnerInstallationId(target.org, "org");
  return cachedInstallation(`repo:${target.owner.toLowerCase()}/${target.repo.toLowerCase()}`, async () => {
    const octokit = await getAppOctokit();
    const response = await octokit.request("GET /repos/{owner}/{repo}/installation", {
      owner: target.owner,
      repo: target.repo,
    });
    return response.data.id;
  });
}

/** Forgets the key, clients, tokens and installation ids (tests; a new stand-in or moto endpoint). */
export function resetGitHubClients(): void {
  statePromise = undefined;
  tokenCache = createTokenCache();
  ownerInstallations.clear();
  ssmClient = undefined;
}

/** What the functions do with a failed GitHub call. */
export type GitHubErrorClass = "retryable" | "permanent";

interface ErrorLike {
  status?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, unknown>; data?: unknown };
}

/**
 * Classifies a GitHub API error. Retryable: 5xx, 429, primary or secondary rate limits (a 403 that carries
 * `retry-after`, `x-ratelimit-remaining: 0` or says "rate limit"), and errors without an HTTP status (network,
 * timeouts, DNS). Permanent: every other 4xx (401 bad credentials, 403 missing permission, 404, 422).
 */
export function classifyGitHubError(error: unknown): GitHubErrorClass {
  if (typeof error !== "object" || error === null) return "retryable";
  const { status, message, response } = error as ErrorLike;
  if (typeof status !== "number") return "retryable";
  if (status >= 500 || status === 429 || status === 408) return "retryable";
  if (status === 403) {
    const headers = response?.headers ?? {};
    const text = `${typeof message === "string" ? message : ""} ${JSON.stringify(response?.data ?? "")}`;
    if (
      headers["retry-after"] !== undefined ||
      String(headers["x-ratelimit-remaining"]) === "0" ||
      /rate limit/i.test(text)
    ) {
      return "retryable";
    }
  }
  return status >= 400 ? "permanent" : "retryable";
}

export function isRetryableGitHubError(error: unknown): boolean {
  return classifyGitHubError(error) === "retryable";
}

/** A short, metric-friendly reason for a GitHub failure, e.g. "github-429", "github-network". */
export function gitHubErrorReason(error: unknown): string {
  const status = typeof error === "object" && error !== null ? (error as ErrorLike).status : undefined;
  return typeof status === "number" ? `github-${status}` : "github-network";
}
