/**
 * A local stand-in for the parts of the GitHub REST API the functions use, for tests and the offline simulation.
 *
 * Bodies keep the shapes of GitHub's OpenAPI description (`examples.ts`; test/testkit validates them against the
 * spec's response schemas). It keeps state (`state.ts`: accounts, installations, tokens, runners), checks the App
 * JWT and installation tokens as GitHub does (`auth.ts`), answers the routes in `routes.ts` and `runners.ts`,
 * counts calls per route, records every request, and can make the next N calls of a route fail.
 */
import { createPublicKey } from "node:crypto";
import { createServer } from "node:http";
import type { RunnerTarget } from "../../contract/runner-target";
import { authenticate } from "./auth";
import type { RouteContext } from "./context";
import { DOCS, failureResult, HttpFailure, type RouteResult, send } from "./http";
import { defaultRunnerRelease, ReleaseCatalogue, type RunnerRelease } from "./release";
import { ROUTES, type RouteKey, matchRoute } from "./routes";
import { type AccountType, GitHubState, type InstallationToken, type StandInRunner, targetOfKey } from "./state";

export { generateAppPrivateKey } from "./app-key";
export { loadOpenApiDescription } from "./examples";
export { fakeRunnerTarball, type RunnerReleaseAsset } from "./release";
export { ROUTES, type RouteKey } from "./routes";
export type { AccountType, StandInRunner } from "./state";

export interface RecordedRequest {
  route: RouteKey | "unmatched";
  method: string;
  path: string;
  body: unknown;
  status: number;
}

export interface GitHubApiOptions {
  /** The App id the JWT's `iss` must carry. */
  appId: number;
  /** The App's private key (PEM); when given, JWT signatures are verified with its public half. */
  appPrivateKey?: string;
  /** Account login (case-insensitive) → installation id. Accounts not listed have no installation (404). */
  installations: Record<string, number>;
  /** Account login → "User" or "Organization"; a login not listed is an organization. */
  accounts?: Record<string, AccountType>;
  /** Installation token lifetime (GitHub: one hour). */
  tokenLifetimeSeconds?: number;
  /** The actions/runner release served by `releases/latest`; default: a tiny generated runner, version 2.330.0. */
  runnerRelease?: RunnerRelease;
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
  tokens: Map<string, InstallationToken>;
  /** The next `times` calls of `route` answer `status` (429 and 403 carry rate-limit headers unless overridden). */
  failNext(route: RouteKey, status: number, times?: number, options?: FailureOptions): void;
  /** Sets a runner's status and/or busy flag, found by id or name. */
  setRunnerStatus(idOrName: number | string, change: { status?: "online" | "offline"; busy?: boolean }): StandInRunner;
  /**
   * Registers a runner directly (as if configured earlier), e.g. a ghost runner for reaper tests. Where: `target`,
   * or `scope`, a target key as `targetKey` spells it ("org:<org>", "repo:<owner>/<repo>").
   */
  addRunner(runner: {
    name: string;
    target?: RunnerTarget;
    scope?: string;
    labels?: string[];
    status?: "online" | "offline";
    busy?: boolean;
    runnerGroupId?: number;
  }): StandInRunner;
  /** Clears runners, tokens, counters, requests and pending failures. */
  reset(): void;
  stop(): Promise<void>;
}

/** The failure GitHub answers by default with an injected status. */
function injectedFailure(status: number, options: FailureOptions): HttpFailure {
  const rateLimited = status === 429 || status === 403;
  const headers: Record<string, string> = { ...options.headers };
  if (rateLimited) {
    headers["retry-after"] ??= "1";
    headers["x-ratelimit-remaining"] ??= "0";
  }
  const message =
    options.message ??
    (rateLimited
      ? "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
      : status >= 500
        ? "Server Error"
        : "Validation Failed");
  return new HttpFailure(status, message, headers);
}

export async function startGitHubApi(options: GitHubApiOptions): Promise<GitHubApi> {
  const state = new GitHubState(options.installations, options.accounts);
  const context: RouteContext = {
    state,
    app: {
      appId: options.appId,
      publicKey: options.appPrivateKey ? createPublicKey(options.appPrivateKey) : undefined,
    },
    release: new ReleaseCatalogue(options.runnerRelease ?? defaultRunnerRelease()),
    baseUrl: "",
    tokenLifetimeMs: (options.tokenLifetimeSeconds ?? 3600) * 1000,
  };
  const calls = Object.fromEntries(Object.values(ROUTES).map((key) => [key, 0])) as Record<RouteKey, number>;
  const requests: RecordedRequest[] = [];
  const failures = new Map<RouteKey, HttpFailure[]>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const parsed = new URL(req.url ?? "/", "http://localhost");
      const method = (req.method ?? "GET").toUpperCase();
      const route = matchRoute(method, parsed.pathname);
      const record: RecordedRequest = {
        route: route?.key ?? "unmatched",
        method,
        path: parsed.pathname,
        body: undefined,
        status: 0,
      };
      requests.push(record);
      const answer = (result: RouteResult) => {
        record.status = result.status;
        send(res, result);
      };
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        record.body = text ? JSON.parse(text) : undefined;
      } catch {
        record.body = text;
        return answer({ status: 400, body: { message: "Problems parsing JSON", documentation_url: DOCS } });
      }
      if (!route) return answer({ status: 404, body: { message: "Not Found", documentation_url: DOCS } });
      calls[route.key] += 1;
      const injected = failures.get(route.key)?.shift();
      if (injected) return answer(failureResult(injected));
      try {
        const caller = authenticate(route.auth, req.headers.authorization, context.app, state);
        const accept = req.headers.accept ?? "";
        answer(
          route.handle(
            {
              params: route.params,
              query: parsed.searchParams,
              path: parsed.pathname,
              accept,
              body: record.body,
              caller,
            },
            context,
          ),
        );
      } catch (error) {
        answer(failureResult(error instanceof HttpFailure ? error : new HttpFailure(500, (error as Error).message)));
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("GitHub stand-in did not get a TCP port");
  context.baseUrl = `http://127.0.0.1:${address.port}`;

  function knownRunner(idOrName: number | string): StandInRunner {
    const runner = state.runner(idOrName);
    if (!runner) throw new Error(`GitHub stand-in has no runner ${JSON.stringify(idOrName)}`);
    return runner;
  }

  return {
    url: context.baseUrl,
    calls,
    requests,
    runners: state.runners,
    tokens: state.tokens,
    failNext(route, status, times = 1, failure = {}) {
      if (!Object.values(ROUTES).includes(route)) throw new Error(`unknown route ${route}`);
      const queue = failures.get(route) ?? [];
      for (let i = 0; i < times; i++) queue.push(injectedFailure(status, failure));
      failures.set(route, queue);
    },
    setRunnerStatus(idOrName, change) {
      const runner = knownRunner(idOrName);
      if (change.status) runner.status = change.status;
      if (change.busy !== undefined) runner.busy = change.busy;
      return runner;
    },
    addRunner(input) {
      if ((input.target === undefined) === (input.scope === undefined))
        throw new Error("addRunner takes a target or a scope, not both");
      return state.register({
        name: input.name,
        target: input.target ?? targetOfKey(input.scope as string),
        runnerGroupId: input.runnerGroupId ?? 1,
        labels: input.labels ?? ["self-hosted", "linux", "x64"],
        os: "linux",
        status: input.status ?? "online",
        busy: input.busy ?? false,
        ephemeral: true,
      });
    },
    reset() {
      state.reset();
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
