/**
 * GitHub App authentication: one `GitHubApp` per container.
 *
 * The private key is read once (from SSM, through the caller's `privateKey` loader), and every client built here
 * shares one installation-token cache, so a warm Lambda container mints one installation token an hour per
 * installation instead of one per invocation (thousands of runners a day would otherwise exhaust the App's rate
 * limit). `@octokit/auth-app` de-duplicates concurrent token requests for the same installation; the cache below
 * additionally refuses tokens close to their `expires_at`. Installation ids are looked up with the contract's
 * `installationPath` (the repository route in repo scope: it answers for user- and organization-owned
 * repositories alike) and cached per target.
 */
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { installationPath, type RunnerTarget, targetKey } from "../../../contract/runner-target.js";

/** Octokit with Octokit's own pagination (`paginate`), the client every GitHub adapter takes. */
export const GitHubClient = Octokit.plugin(paginateRest);
export type GitHubClient = InstanceType<typeof GitHubClient>;

/** A token is not handed out when less than this is left before its `expires_at` (a request may be slow). */
export const TOKEN_EXPIRY_MARGIN_MS = 5 * 60 * 1000;

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

export interface GitHubAppOptions {
  appId: number;
  /** API base URL without a trailing slash. */
  baseUrl: string;
  /** Loads the App's PEM private key (called again after a failure, never after a success). */
  privateKey: () => Promise<string>;
}

export class GitHubApp {
  readonly #options: GitHubAppOptions;
  readonly #tokenCache = createTokenCache();
  readonly #installations = new Map<number, GitHubClient>();
  readonly #installationIds = new Map<string, Promise<number>>();
  #key: Promise<string> | undefined;
  #app: GitHubClient | undefined;

  constructor(options: GitHubAppOptions) {
    this.#options = options;
  }

  /** Client authenticated as the App itself (JWT): for `/app/...` and installation lookups. */
  async appClient(): Promise<GitHubClient> {
    const privateKey = await this.#privateKey();
    this.#app ??= this.#client(privateKey);
    return this.#app;
  }

  /** Client authenticated as an installation; reused (with its token) across invocations. */
  async installationClient(installationId: number): Promise<GitHubClient> {
    if (!Number.isSafeInteger(installationId) || installationId <= 0)
      throw new Error(`installation id must be a positive integer, got ${installationId}`);
    const privateKey = await this.#privateKey();
    let client = this.#installations.get(installationId);
    if (!client) {
      client = this.#client(privateKey, installationId);
      this.#installations.set(installationId, client);
    }
    return client;
  }

  /**
   * The App installation that may register runners at a target, cached for the container's lifetime. The promise
   * itself is cached, so concurrent jobs share one request; a failed lookup is forgotten so the next job asks again.
   */
  installationId(target: RunnerTarget): Promise<number> {
    const key = targetKey(target).toLowerCase();
    const cached = this.#installationIds.get(key);
    if (cached) return cached;
    const pending = this.appClient().then(async (app) => {
      const response = await app.request(`GET ${installationPath(target)}`);
      return (response.data as { id: number }).id;
    });
    this.#installationIds.set(key, pending);
    pending.catch(() => this.#installationIds.delete(key));
    return pending;
  }

  /** The installation client for a target, using `installationId` when the caller already knows it. */
  async clientFor(target: RunnerTarget, installationId?: number): Promise<GitHubClient> {
    return this.installationClient(installationId ?? (await this.installationId(target)));
  }

  #privateKey(): Promise<string> {
    if (!this.#key) {
      const pending = this.#options.privateKey().then((key) => {
        if (!key.includes("PRIVATE KEY")) throw new Error("the GitHub App private key is not a PEM private key");
        return key;
      });
      this.#key = pending;
      // A failed read (SSM throttling, missing parameter) must not poison the container: try again next time.
      pending.catch(() => {
        if (this.#key === pending) this.#key = undefined;
      });
    }
    return this.#key;
  }

  #client(privateKey: string, installationId?: number): GitHubClient {
    return new GitHubClient({
      baseUrl: this.#options.baseUrl,
      authStrategy: createAppAuth,
      // auth-app rejects an explicit `installationId: undefined`: leave the key out for the App itself.
      auth: {
        appId: this.#options.appId,
        privateKey,
        cache: this.#tokenCache,
        ...(installationId === undefined ? {} : { installationId }),
      },
    });
  }
}
