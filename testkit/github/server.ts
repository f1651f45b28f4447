/**
 * A local stand-in for the parts of the GitHub REST API the functions use, for tests and the offline simulation.
 *
 * Response bodies start from the examples in GitHub's published OpenAPI description (`@octokit/openapi`) and
 * override the dynamic fields, so they keep GitHub's shapes (a test validates them against the spec's response
 * schemas). It keeps state (installations, tokens, registered runners with status/busy flags), counts calls per
 * route, checks the App JWT on `/app` and installation routes and the installation token everywhere else, and
 * can make the next N calls of a route fail.
 */
import { createHash, createPublicKey, createVerify, randomBytes, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";

/** Route keys, in the OpenAPI path form; use them with `calls` and `failNext`. */
export const ROUTES = {
  createInstallationToken: "POST /app/installations/{installation_id}/access_tokens",
  orgInstallation: "GET /orgs/{org}/installation",
  userInstallation: "GET /users/{username}/installation",
  repoInstallation: "GET /repos/{owner}/{repo}/installation",
  orgJitConfig: "POST /orgs/{org}/actions/runners/generate-jitconfig",
  repoJitConfig: "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig",
  orgListRunners: "GET /orgs/{org}/actions/runners",
  repoListRunners: "GET /repos/{owner}/{repo}/actions/runners",
  orgGetRunner: "GET /orgs/{org}/actions/runners/{runner_id}",
  repoGetRunner: "GET /repos/{owner}/{repo}/actions/runners/{runner_id}",
  orgDeleteRunner: "DELETE /orgs/{org}/actions/runners/{runner_id}",
  repoDeleteRunner: "DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}",
  latestRelease: "GET /repos/{owner}/{repo}/releases/latest",
  releaseAsset: "GET /repos/{owner}/{repo}/releases/assets/{asset_id}",
  /** Stand-in for github.com's `browser_download_url` (no API auth, like the real one). */
  assetDownload: "GET /_downloads/{owner}/{repo}/releases/download/{tag}/{name}",
} as const;

export type RouteKey = (typeof ROUTES)[keyof typeof ROUTES];

export interface StandInRunner {
  id: number;
  name: string;
  /** "org:<org>" or "repo:<owner>/<repo>" (lower-case): where the runner is registered. */
  scope: string;
  runnerGroupId: number;
  labels: string[];
  os: string;
  status: "online" | "offline";
  busy: boolean;
  ephemeral: boolean;
  /** What `generate-jitconfig` returned (undefined for runners added with `addRunner`). */
  encodedJitConfig?: string;
  workFolder?: string;
  createdAt: string;
}

export interface RecordedRequest {
  route: RouteKey | "unmatched";
  method: string;
  path: string;
  body: unknown;
  status: number;
}

export interface RunnerReleaseAsset {
  /** Architecture as the runner names it in file names: "x64" or "arm64". */
  architecture: "x64" | "arm64";
  content: Buffer;
}

export interface GitHubApiOptions {
  /** The App id the JWT's `iss` must carry. */
  appId: number;
  /** The App's private key (PEM); when given, JWT signatures are verified with its public half. */
  appPrivateKey?: string;
  /** Owner login (case-insensitive) → installation id. Owners not listed have no installation (404). */
  installations: Record<string, number>;
  /** Installation token lifetime (GitHub: one hour). */
  tokenLifetimeSeconds?: number;
  /** The actions/runner release served by `releases/latest`; default: a tiny generated runner, version 2.330.0. */
  runnerRelease?: { version: string; assets: RunnerReleaseAsset[] };
}

export interface FailureOptions {
  message?: string;
  headers?: Record<string, string>;
}

export interface GitHubApi {
  /** Base URL to use as the API URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  /** Calls per route (including failed ones). */
  calls: Record<RouteKey, number>;
  /** Every request in arrival order. */
  requests: RecordedRequest[];
  /** Registered runners by id (live state). */
  runners: Map<number, StandInRunner>;
  /** Installation tokens issued so far (token → installation id). */
  tokens: Map<string, { installationId: number; expiresAt: number }>;
  /** The next `times` calls of `route` answer `status` (429 and 403 carry rate-limit headers unless overridden). */
  failNext(route: RouteKey, status: number, times?: number, options?: FailureOptions): void;
  /** Sets a runner's status and/or busy flag, found by id or name. */
  setRunnerStatus(idOrName: number | string, change: { status?: "online" | "offline"; busy?: boolean }): StandInRunner;
  /** Registers a runner directly (as if configured earlier), e.g. a ghost runner for reaper tests. */
  addRunner(runner: {
    name: string;
    scope: string;
    labels?: string[];
    status?: "online" | "offline";
    busy?: boolean;
    runnerGroupId?: number;
  }): StandInRunner;
  /** Clears runners, tokens, counters, requests and pending failures. */
  reset(): void;
  stop(): Promise<void>;
}

// ---- OpenAPI examples ------------------------------------------------------------------------------------

interface OpenApiDocument {
  components: { examples: Record<string, { value: unknown }> };
}

let openApi: OpenApiDocument | undefined;

/** GitHub's OpenAPI description (the non-dereferenced one: examples live under components.examples). */
export function loadOpenApiDescription(): OpenApiDocument {
  if (!openApi) {
    const packageDir = dirname(require.resolve("@octokit/openapi/package.json"));
    openApi = JSON.parse(readFileSync(join(packageDir, "generated", "api.github.com.json"), "utf8")) as OpenApiDocument;
  }
  return openApi;
}

function example<T>(name: string): T {
  const found = loadOpenApiDescription().components.examples[name];
  if (!found) throw new Error(`@octokit/openapi has no example named ${name}`);
  return structuredClone(found.value) as T;
}

// ---- a tiny actions/runner tarball for the default release -------------------------------------------------

function tarEntry(name: string, content: Buffer, mode: number): Buffer {
  const header = Buffer.alloc(512);
  const write = (value: string, offset: number, length: number) =>
    header.write(value.slice(0, length), offset, length, "ascii");
  const octal = (value: number, length: number) => `${value.toString(8).padStart(length - 1, "0")}\0`;
  write(name, 0, 100);
  write(octal(mode, 8), 100, 8);
  write(octal(0, 8), 108, 8);
  write(octal(0, 8), 116, 8);
  write(octal(content.length, 12), 124, 12);
  write(octal(1_700_000_000, 12), 136, 12);
  header.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  write("0", 156, 1);
  write("ustar\0", 257, 6);
  write("00", 263, 2);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  write(`${checksum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding]);
}

/** A gzipped tar with an executable `run.sh` that prints its arguments' shape, standing in for the runner. */
export function fakeRunnerTarball(version: string, architecture: "x64" | "arm64"): Buffer {
  const runSh = `#!/usr/bin/env bash\n# stand-in actions/runner ${version} linux-${architecture}\necho "runner ${version} started with $# arguments"\n`;
  const tar = Buffer.concat([
    tarEntry("./run.sh", Buffer.from(runSh), 0o755),
    tarEntry("./bin/Runner.Listener", Buffer.from(`stand-in listener ${version} ${architecture}\n`), 0o755),
    Buffer.alloc(1024),
  ]);
  return gzipSync(tar, { level: 9 });
}

// ---- JWT checks ------------------------------------------------------------------------------------------

function decodeSegment(segment: string): unknown {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
}

/** Why a JWT is not an acceptable App JWT, or undefined when it is. */
function jwtProblem(
  jwt: string,
  appId: number,
  publicKey: KeyObject | undefined,
  nowSeconds: number,
): string | undefined {
  const parts = jwt.split(".");
  if (parts.length !== 3) return "a JWT has three dot-separated parts";
  let header: { alg?: string; typ?: string };
  let payload: { iat?: number; exp?: number; iss?: number | string };
  try {
    header = decodeSegment(parts[0]) as typeof header;
    payload = decodeSegment(parts[1]) as typeof payload;
  } catch {
    return "JWT header or payload is not base64url JSON";
  }
  if (header.alg !== "RS256") return `JWT alg must be RS256, got ${header.alg}`;
  if (String(payload.iss) !== String(appId)) return `JWT iss must be the App id ${appId}, got ${payload.iss}`;
  if (typeof payload.iat !== "number" || typeof payload.exp !== "number") return "JWT needs numeric iat and exp";
  if (payload.exp <= nowSeconds) return "JWT expired";
  if (payload.exp - payload.iat > 660) return "JWT lifetime exceeds 10 minutes";
  if (publicKey) {
    const verifier = createVerify("RSA-SHA256");
    verifier.update(`${parts[0]}.${parts[1]}`);
    if (!verifier.verify(publicKey, Buffer.from(parts[2], "base64url")))
      return "JWT signature does not match the App key";
  }
  return undefined;
}

// ---- server ----------------------------------------------------------------------------------------------

interface RouteDefinition {
  key: RouteKey;
  method: string;
  pattern: RegExp;
  names: string[];
  auth: "app" | "installation" | "optional" | "none";
}

const APP_AUTH_ROUTES = new Set<RouteKey>([
  ROUTES.createInstallationToken,
  ROUTES.orgInstallation,
  ROUTES.userInstallation,
  ROUTES.repoInstallation,
]);

function compileRoute(key: RouteKey): RouteDefinition {
  const [method, path] = key.split(" ");
  const names: string[] = [];
  const pattern = new RegExp(
    "^" +
      path.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
        names.push(name);
        return "([^/]+)";
      }) +
      "$",
  );
  const auth = APP_AUTH_ROUTES.has(key)
    ? "app"
    : key === ROUTES.assetDownload
      ? "none"
      : key === ROUTES.latestRelease || key === ROUTES.releaseAsset
        ? "optional"
        : "installation";
  return { key, method, pattern, names, auth };
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const DOCS = "https://docs.github.com/rest";

export async function startGitHubApi(options: GitHubApiOptions): Promise<GitHubApi> {
  const routes = Object.values(ROUTES).map(compileRoute);
  const publicKey = options.appPrivateKey ? createPublicKey(options.appPrivateKey) : undefined;
  const tokenLifetimeMs = (options.tokenLifetimeSeconds ?? 3600) * 1000;
  const installations = new Map(Object.entries(options.installations).map(([owner, id]) => [owner.toLowerCase(), id]));
  const releaseVersion = options.runnerRelease?.version ?? "2.330.0";
  const releaseAssets = options.runnerRelease?.assets ?? [
    { architecture: "x64" as const, content: fakeRunnerTarball(releaseVersion, "x64") },
    { architecture: "arm64" as const, content: fakeRunnerTarball(releaseVersion, "arm64") },
  ];

  const calls = Object.fromEntries(Object.values(ROUTES).map((key) => [key, 0])) as Record<RouteKey, number>;
  const requests: RecordedRequest[] = [];
  const runners = new Map<number, StandInRunner>();
  const tokens = new Map<string, { installationId: number; expiresAt: number }>();
  const failures = new Map<RouteKey, Array<{ status: number } & FailureOptions>>();
  let nextRunnerId = 1000;
  let url = "";

  const assetName = (architecture: string) => `actions-runner-linux-${architecture}-${releaseVersion}.tar.gz`;
  const sha256 = (content: Buffer) => createHash("sha256").update(content).digest("hex");

  function installationOf(owner: string): number {
    const id = installations.get(owner.toLowerCase());
    if (id === undefined) throw new HttpFailure(404, "Not Found");
    return id;
  }

  function installationBody(login: string, id: number) {
    const body = example<Record<string, unknown> & { account: Record<string, unknown> }>("installation");
    Object.assign(body.account, { login, url: `${url}/orgs/${login}`, type: "Organization" });
    return Object.assign(body, {
      id,
      app_id: options.appId,
      target_type: "Organization",
      access_tokens_url: `${url}/app/installations/${id}/access_tokens`,
      permissions: { organization_self_hosted_runners: "write", administration: "write", metadata: "read" },
      events: ["workflow_job"],
    });
  }

  function runnerBody(runner: StandInRunner) {
    const body = example<Record<string, unknown>>("runner");
    const readOnly = new Set(["self-hosted", "linux", "x64", "arm64", "macos", "windows"]);
    return Object.assign(body, {
      id: runner.id,
      runner_group_id: runner.runnerGroupId,
      name: runner.name,
      os: runner.os,
      status: runner.status,
      busy: runner.busy,
      ephemeral: runner.ephemeral,
      version: runner.status === "online" ? releaseVersion : null,
      labels: runner.labels.map((name, i) => ({
        id: runner.id * 100 + i,
        name,
        type: readOnly.has(name.toLowerCase()) ? "read-only" : "custom",
      })),
    });
  }

  function scopeRunners(scope: string): StandInRunner[] {
    return [...runners.values()].filter((r) => r.scope === scope);
  }

  function findRunner(scope: string, rawId: string): StandInRunner {
    const runner = runners.get(Number(rawId));
    if (!runner || runner.scope !== scope) throw new HttpFailure(404, "Not Found");
    return runner;
  }

  function generateJitConfig(scope: string, body: unknown): unknown {
    const input = (body ?? {}) as {
      name?: unknown;
      runner_group_id?: unknown;
      labels?: unknown;
      work_folder?: unknown;
    };
    const errors: string[] = [];
    if (typeof input.name !== "string" || input.name.length === 0) errors.push("name is required");
    if (!Number.isInteger(input.runner_group_id)) errors.push("runner_group_id must be an integer");
    if (
      !Array.isArray(input.labels) ||
      input.labels.length === 0 ||
      input.labels.length > 100 ||
      input.labels.some((l) => typeof l !== "string")
    ) {
      errors.push("labels must be 1 to 100 strings");
    }
    if (input.work_folder !== undefined && typeof input.work_folder !== "string")
      errors.push("work_folder must be a string");
    if (errors.length) throw new HttpFailure(422, `Invalid request.\n\n${errors.join("\n")}`);
    const name = input.name as string;
    if (scopeRunners(scope).some((r) => r.name.toLowerCase() === name.toLowerCase())) {
      throw new HttpFailure(409, `Already exists - A runner with the name ${name} already exists.`);
    }
    const id = nextRunnerId++;
    const encodedJitConfig = Buffer.from(
      JSON.stringify({ runner: name, id, scope, nonce: randomBytes(12).toString("hex") }),
    ).toString("base64");
    const runner: StandInRunner = {
      id,
      name,
      scope,
      runnerGroupId: input.runner_group_id as number,
      labels: input.labels as string[],
      os: "unknown",
      status: "offline",
      busy: false,
      ephemeral: true,
      encodedJitConfig,
      workFolder: (input.work_folder as string | undefined) ?? "_work",
      createdAt: new Date().toISOString(),
    };
    runners.set(id, runner);
    return { runner: runnerBody(runner), encoded_jit_config: encodedJitConfig };
  }

  function listRunners(
    scope: string,
    query: URLSearchParams,
    path: string,
  ): { body: unknown; headers: Record<string, string> } {
    const perPage = Math.min(Math.max(Number(query.get("per_page") ?? 30) || 30, 1), 100);
    const page = Math.max(Number(query.get("page") ?? 1) || 1, 1);
    const name = query.get("name");
    const all = scopeRunners(scope).filter((r) => !name || r.name === name);
    const slice = all.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    const lastPage = Math.max(1, Math.ceil(all.length / perPage));
    if (page < lastPage) {
      const link = (p: number) => `<${url}${path}?per_page=${perPage}&page=${p}>`;
      headers.link = `${link(page + 1)}; rel="next", ${link(lastPage)}; rel="last"`;
    }
    return { body: { total_count: all.length, runners: slice.map(runnerBody) }, headers };
  }

  function releaseBody() {
    const body = example<Record<string, unknown> & { assets: Array<Record<string, unknown>> }>("release");
    const assetTemplate = body.assets[0];
    const tag = `v${releaseVersion}`;
    const shaLines = releaseAssets.map(
      (a) =>
        `- actions-runner-linux-${a.architecture}-${releaseVersion}.tar.gz <!-- BEGIN SHA linux-${a.architecture} -->${sha256(a.content)}<!-- END SHA linux-${a.architecture} -->`,
    );
    return Object.assign(body, {
      url: `${url}/repos/actions/runner/releases/1`,
      html_url: `https://github.com/actions/runner/releases/tag/${tag}`,
      assets_url: `${url}/repos/actions/runner/releases/1/assets`,
      tag_name: tag,
      name: tag,
      body: `## SHA-256 Checksums\n\n${shaLines.join("\n")}\n`,
      assets: releaseAssets.map((asset, i) => ({
        ...structuredClone(assetTemplate),
        id: i + 1,
        url: `${url}/repos/actions/runner/releases/assets/${i + 1}`,
        browser_download_url: `${url}/_downloads/actions/runner/releases/download/${tag}/${assetName(asset.architecture)}`,
        name: assetName(asset.architecture),
        label: "",
        content_type: "application/gzip",
        size: asset.content.length,
        digest: `sha256:${sha256(asset.content)}`,
      })),
    });
  }

  function assetById(rawId: string): RunnerReleaseAsset {
    const asset = releaseAssets[Number(rawId) - 1];
    if (!asset) throw new HttpFailure(404, "Not Found");
    return asset;
  }

  /** Checks the Authorization header; returns the installation id of a token (undefined for App JWTs). */
  function authenticate(route: RouteDefinition, header: string | undefined): number | undefined {
    if (route.auth === "none") return undefined;
    if (!header) {
      if (route.auth === "optional") return undefined;
      throw new HttpFailure(401, "Requires authentication");
    }
    const [scheme, credential] = header.split(/\s+/, 2);
    if (route.auth === "app") {
      if (scheme.toLowerCase() !== "bearer" || !credential)
        throw new HttpFailure(401, "A JSON web token could not be decoded");
      const problem = jwtProblem(credential, options.appId, publicKey, Math.floor(Date.now() / 1000));
      if (problem) throw new HttpFailure(401, `A JSON web token could not be decoded: ${problem}`);
      return undefined;
    }
    if (!["token", "bearer"].includes(scheme.toLowerCase()) || !credential)
      throw new HttpFailure(401, "Bad credentials");
    const token = tokens.get(credential);
    if (!token || token.expiresAt <= Date.now()) throw new HttpFailure(401, "Bad credentials");
    return token.installationId;
  }

  function requireOwnerInstallation(tokenInstallation: number | undefined, owner: string): void {
    if (tokenInstallation === undefined) return;
    if (installations.get(owner.toLowerCase()) !== tokenInstallation)
      throw new HttpFailure(403, "Resource not accessible by integration");
  }

  async function handle(
    route: RouteDefinition,
    params: Record<string, string>,
    query: URLSearchParams,
    path: string,
    req: IncomingMessage,
    body: unknown,
  ) {
    const installation = authenticate(route, req.headers.authorization);
    const orgScope = () => {
      requireOwnerInstallation(installation, params.org);
      return `org:${params.org.toLowerCase()}`;
    };
    const repoScope = () => {
      requireOwnerInstallation(installation, params.owner);
      return `repo:${params.owner.toLowerCase()}/${params.repo.toLowerCase()}`;
    };
    switch (route.key) {
      case ROUTES.createInstallationToken: {
        const installationId = Number(params.installation_id);
        if (![...installations.values()].includes(installationId)) throw new HttpFailure(404, "Not Found");
        const token = `ghs_${randomBytes(18).toString("hex")}`;
        const expiresAt = Date.now() + tokenLifetimeMs;
        tokens.set(token, { installationId, expiresAt });
        const response = example<Record<string, unknown>>("installation-token");
        delete response.repositories;
        return {
          status: 201,
          body: Object.assign(response, {
            token,
            expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
            permissions: { organization_self_hosted_runners: "write", administration: "write", metadata: "read" },
            repository_selection: "all",
          }),
        };
      }
      case ROUTES.orgInstallation:
        return { status: 200, body: installationBody(params.org, installationOf(params.org)) };
      case ROUTES.userInstallation:
        return { status: 200, body: installationBody(params.username, installationOf(params.username)) };
      case ROUTES.repoInstallation:
        return { status: 200, body: installationBody(params.owner, installationOf(params.owner)) };
      case ROUTES.orgJitConfig:
        return { status: 201, body: generateJitConfig(orgScope(), body) };
      case ROUTES.repoJitConfig:
        return { status: 201, body: generateJitConfig(repoScope(), body) };
      case ROUTES.orgListRunners:
        return { status: 200, ...listRunners(orgScope(), query, path) };
      case ROUTES.repoListRunners:
        return { status: 200, ...listRunners(repoScope(), query, path) };
      case ROUTES.orgGetRunner:
        return { status: 200, body: runnerBody(findRunner(orgScope(), params.runner_id)) };
      case ROUTES.repoGetRunner:
        return { status: 200, body: runnerBody(findRunner(repoScope(), params.runner_id)) };
      case ROUTES.orgDeleteRunner:
      case ROUTES.repoDeleteRunner: {
        const scope = route.key === ROUTES.orgDeleteRunner ? orgScope() : repoScope();
        const runner = findRunner(scope, params.runner_id);
        if (runner.busy) throw new HttpFailure(422, `Bad request - Runner "${runner.name}" is still running a job"`);
        runners.delete(runner.id);
        return { status: 204, body: undefined };
      }
      case ROUTES.latestRelease:
        if (`${params.owner}/${params.repo}`.toLowerCase() !== "actions/runner")
          throw new HttpFailure(404, "Not Found");
        return { status: 200, body: releaseBody() };
      case ROUTES.releaseAsset: {
        if (`${params.owner}/${params.repo}`.toLowerCase() !== "actions/runner")
          throw new HttpFailure(404, "Not Found");
        const asset = assetById(params.asset_id);
        const index = releaseAssets.indexOf(asset);
        if ((req.headers.accept ?? "").includes("application/octet-stream")) {
          return {
            status: 302,
            body: undefined,
            headers: {
              location: `${url}/_downloads/actions/runner/releases/download/v${releaseVersion}/${assetName(asset.architecture)}`,
            },
          };
        }
        return { status: 200, body: (releaseBody().assets as unknown[])[index] };
      }
      case ROUTES.assetDownload: {
        const asset = releaseAssets.find((a) => assetName(a.architecture) === params.name);
        if (
          `${params.owner}/${params.repo}`.toLowerCase() !== "actions/runner" ||
          params.tag !== `v${releaseVersion}` ||
          !asset
        ) {
          throw new HttpFailure(404, "Not Found");
        }
        return { status: 200, raw: asset.content };
      }
    }
    throw new HttpFailure(404, "Not Found");
  }

  function send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
    raw?: Buffer,
  ) {
    const common = {
      "x-github-request-id": randomBytes(8).toString("hex"),
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "4999",
      ...headers,
    };
    if (raw) {
      res.writeHead(status, {
        "content-type": "application/octet-stream",
        "content-length": String(raw.length),
        ...common,
      });
      res.end(raw);
    } else if (body === undefined) {
      res.writeHead(status, common);
      res.end();
    } else {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        "content-type": "application/json; charset=utf-8",
        "content-length": String(Buffer.byteLength(text)),
        ...common,
      });
      res.end(text);
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const parsed = new URL(req.url ?? "/", "http://localhost");
      const method = (req.method ?? "GET").toUpperCase();
      let route: RouteDefinition | undefined;
      let params: Record<string, string> = {};
      for (const candidate of routes) {
        const match = candidate.method === method ? candidate.pattern.exec(parsed.pathname) : null;
        if (match) {
          route = candidate;
          params = Object.fromEntries(candidate.names.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
          break;
        }
      }
      let body: unknown;
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        const record = {
          route: route?.key ?? ("unmatched" as const),
          method,
          path: parsed.pathname,
          body: text,
          status: 400,
        };
        requests.push(record);
        send(res, 400, { message: "Problems parsing JSON", documentation_url: DOCS });
        return;
      }
      if (!route) {
        requests.push({ route: "unmatched", method, path: parsed.pathname, body, status: 404 });
        send(res, 404, { message: "Not Found", documentation_url: DOCS });
        return;
      }
      calls[route.key] += 1;
      const record: RecordedRequest = { route: route.key, method, path: parsed.pathname, body, status: 0 };
      requests.push(record);
      const injected = failures.get(route.key)?.shift();
      if (injected) {
        const headers: Record<string, string> = { ...injected.headers };
        if (injected.status === 429 || injected.status === 403) {
          headers["retry-after"] ??= "1";
          headers["x-ratelimit-remaining"] ??= "0";
        }
        const message =
          injected.message ??
          (injected.status === 429 || injected.status === 403
            ? "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
            : injected.status >= 500
              ? "Server Error"
              : "Validation Failed");
        record.status = injected.status;
        send(res, injected.status, { message, documentation_url: DOCS }, headers);
        return;
      }
      handle(route, params, parsed.searchParams, parsed.pathname, req, body)
        .then((result) => {
          record.status = result.status;
          send(
            res,
            result.status,
            "body" in result ? result.body : undefined,
            "headers" in result ? result.headers : {},
            "raw" in result ? result.raw : undefined,
          );
        })
        .catch((error: unknown) => {
          const failure = error instanceof HttpFailure ? error : new HttpFailure(500, (error as Error).message);
          record.status = failure.status;
          send(res, failure.status, { message: failure.message, documentation_url: DOCS }, failure.headers);
        });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("GitHub stand-in did not get a TCP port");
  url = `http://127.0.0.1:${address.port}`;

  function runnerByIdOrName(idOrName: number | string): StandInRunner {
    const runner =
      typeof idOrName === "number" ? runners.get(idOrName) : [...runners.values()].find((r) => r.name === idOrName);
    if (!runner) throw new Error(`GitHub stand-in has no runner ${JSON.stringify(idOrName)}`);
    return runner;
  }

  return {
    url,
    calls,
    requests,
    runners,
    tokens,
    failNext(route, status, times = 1, failure = {}) {
      if (!Object.values(ROUTES).includes(route)) throw new Error(`unknown route ${route}`);
      const queue = failures.get(route) ?? [];
      for (let i = 0; i < times; i++) queue.push({ status, ...failure });
      failures.set(route, queue);
    },
    setRunnerStatus(idOrName, change) {
      const runner = runnerByIdOrName(idOrName);
      if (change.status) runner.status = change.status;
      if (change.busy !== undefined) runner.busy = change.busy;
      return runner;
    },
    addRunner(input) {
      const scope = input.scope.toLowerCase();
      if (!/^(org:[^/]+|repo:[^/]+\/[^/]+)$/.test(scope))
        throw new Error(`runner scope must be "org:<org>" or "repo:<owner>/<repo>", got ${input.scope}`);
      const runner: StandInRunner = {
        id: nextRunnerId++,
        name: input.name,
        scope,
        runnerGroupId: input.runnerGroupId ?? 1,
        labels: input.labels ?? ["self-hosted", "linux", "x64"],
        os: "linux",
        status: input.status ?? "online",
        busy: input.busy ?? false,
        ephemeral: true,
        createdAt: new Date().toISOString(),
      };
      runners.set(runner.id, runner);
      return runner;
    },
    reset() {
      runners.clear();
      tokens.clear();
      failures.clear();
      requests.length = 0;
      for (const key of Object.keys(calls) as RouteKey[]) calls[key] = 0;
    },
    stop() {
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
