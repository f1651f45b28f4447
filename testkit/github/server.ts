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
import type { DeliveryRecord, DeliveryRecord as HookDelivery, OrgHook } from "./hooks";
import { JobBoard, type NewJob, type RunnerHistory, type StandInJob } from "./jobs";
import { type AccountType, GitHubState, type InstallationToken, type StandInRunner, targetOfKey } from "./state";

export { generateAppPrivateKey } from "./app-key";
export { loadOpenApiDescription } from "./examples";
export { fakeRunnerTarball, type RunnerReleaseAsset } from "./release";
export { ROUTES, type RouteKey } from "./routes";
export type { AccountType, StandInRunner } from "./state";
export type { DeliveryRecord as HookDelivery, OrgHook } from "./hooks";
export { QUEUE_LIMIT_MS, runnerCanTake, type NewJob, type RunnerHistory, type StandInJob } from "./jobs";
export { workflowJobPayload, type WorkflowJobFields } from "./payloads";

export interface RecordedRequest {
  route: RouteKey | "unmatched";
  method: string;
  path: string;
  /** The query string, with its "?" (or ""). */
  search: string;
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
  /** The clock (epoch ms) for tokens, JWTs, jobs and deliveries; default real time (the simulation's runs fast). */
  now?: () => number;
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
  /** Jobs by id (live state) and what happened to every runner (for accounting). */
  jobs: Map<number, StandInJob>;
  runnerHistory: Map<number, RunnerHistory>;
  /** A workflow job: delivered `queued` (or `waiting`) to the hook, then given to a runner that can take it. */
  createJob(job: NewJob): StandInJob;
  /** Approves a job waiting for an environment: it is queued and delivered `queued`. */
  approveJob(jobId: number): StandInJob;
  /** Cancels a job (queued: completed `cancelled` with no runner; running: its runner ends). */
  cancelJob(jobId: number): StandInJob;
  /** A running job ends now, successfully (for jobs given a long `durationMs`). */
  finishJob(jobId: number): StandInJob;
  /**
   * Runs `effect` once, right after the next answered call of `route` (e.g. a runner leaves between two pages of a
   * list, as ephemeral runners do).
   */
  afterNextCall(route: RouteKey, effect: (request: RecordedRequest) => void): void;
  /** Fails the jobs queued longer than GitHub's 24 hours; returns them. */
  expireJobs(): StandInJob[];
  /** The organization webhook: where and how events are delivered. */
  configureHook(hook: OrgHook): void;
  /** "Redeliver" on a recorded delivery (what the UI button and the attempts route do). */
  redeliver(deliveryId: number): HookDelivery;
  /** Every delivery record, oldest first. */
  hookDeliveries: DeliveryRecord[];
  /** Resolves when every delivery made so far has an outcome. */
  deliveriesSettled(): Promise<void>;
  /** Deliveries not answered yet. */
  deliveriesInFlight(): number;
  /** Resolves when the runner is gone (its job ended, or it was deregistered). */
  whenRunnerRemoved(runnerId: number): Promise<void>;
  /** While set, every API route answers this status (a GitHub outage); undefined ends it. Deliveries still go. */
  setOutage(status: number | undefined): void;
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
  const state = new GitHubState(options.installations, options.accounts, options.now);
  const jobs = new JobBoard(state, state.now);
  let outage: number | undefined;
  const context: RouteContext = {
    state,
    jobs,
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
  const afterCalls = new Map<RouteKey, Array<(request: RecordedRequest) => void>>();

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
        search: parsed.search,
        body: undefined,
        status: 0,
      };
      requests.push(record);
      const answer = (result: RouteResult) => {
        record.status = result.status;
        send(res, result);
        const effects = route ? afterCalls.get(route.key) : undefined;
        if (effects?.length) for (const effect of effects.splice(0)) effect(record);
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
      const injected =
        outage !== undefined && route.key !== ROUTES.assetDownload
          ? injectedFailure(outage, { message: "GitHub is unavailable (stand-in outage)" })
          : failures.get(route.key)?.shift();
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
      // An online idle runner is offered the queued jobs (GitHub's assignment).
      if (runner.status === "online" && !runner.busy) jobs.online(runner);
      return runner;
    },
    addRunner(input) {
      if ((input.target === undefined) === (input.scope === undefined))
        throw new Error("addRunner takes a target or a scope, not both");
      const runner = state.register({
        name: input.name,
        target: input.target ?? targetOfKey(input.scope as string),
        runnerGroupId: input.runnerGroupId ?? 1,
        labels: input.labels ?? ["self-hosted", "linux", "x64"],
        os: "linux",
        status: input.status ?? "online",
        busy: input.busy ?? false,
        ephemeral: true,
      });
      jobs.registered(runner);
      if (runner.status === "online" && !runner.busy) jobs.online(runner);
      return runner;
    },
    jobs: jobs.jobs,
    runnerHistory: jobs.history,
    createJob: (job) => jobs.create(job),
    approveJob: (id) => jobs.approve(id),
    cancelJob: (id) => jobs.cancel(id),
    expireJobs: () => jobs.expire(),
    finishJob: (id) => jobs.finish(id),
    afterNextCall(route, effect) {
      afterCalls.set(route, [...(afterCalls.get(route) ?? []), effect]);
    },
    configureHook(hook) {
      jobs.hooks.hook = { ...hook };
    },
    hookDeliveries: jobs.hooks.records,
    redeliver(id) {
      const found = jobs.hooks.records.find((r) => r.id === id);
      if (!found) throw new Error(`the stand-in has no delivery ${id}`);
      return jobs.hooks.redeliver(found);
    },
    deliveriesSettled: () => jobs.hooks.settled(),
    deliveriesInFlight: () => jobs.hooks.inFlight(),
    whenRunnerRemoved: (id) => jobs.whenRemoved(id),
    setOutage(status) {
      outage = status;
    },
    reset() {
      state.reset();
      jobs.stop();
      jobs.jobs.clear();
      jobs.history.clear();
      jobs.hooks.records.length = 0;
      outage = undefined;
      failures.clear();
      afterCalls.clear();
      requests.length = 0;
      for (const key of Object.keys(calls) as RouteKey[]) calls[key] = 0;
    },
    stop() {
      jobs.stop();
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
