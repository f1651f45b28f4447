/**
 * Retries for AWS calls made while a task runs: a throttled or failed poll must not end the job while the task
 * goes on. Throttling, 5xx and network errors are retried with capped exponential backoff and full jitter, within
 * a total budget per call; everything else (access denied, not found, validation) fails at once.
 *
 * The SDK clients run with `maxAttempts: 1` so this is the only retry layer and the budget is exact.
 */

export interface RetryPolicy {
  /** First backoff ceiling; doubles per failure. */
  baseMs: number;
  /** Largest backoff ceiling. */
  capMs: number;
  /** Longest time one call may keep failing transiently before its error is reported. */
  budgetMs: number;
}

/** 1 s doubling to 20 s, for at most 5 minutes of consecutive transient failures of one call. */
export const AWS_RETRY: RetryPolicy = { baseMs: 1_000, capMs: 20_000, budgetMs: 5 * 60_000 };

/**
 * Error names AWS uses for throttling (Step Functions: ThrottlingException, "common errors" of the API
 * reference; the others are other services' spellings the SDK's own classifier also treats as throttling).
 */
const THROTTLING = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
]);
/** Server-side failures and timeouts that say nothing about the request itself. */
const SERVER_SIDE = new Set([
  "InternalFailure",
  "InternalServerError",
  "InternalServerException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
]);
/** Node's socket errors for a connection that failed or dropped (not ENOTFOUND: a wrong host stays wrong). */
const NETWORK = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
]);

interface ErrorLike {
  name?: string;
  code?: string;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** Whether an error from an AWS SDK call is worth retrying. */
export function isTransient(error: unknown): boolean {
  if (error === null || typeof error !== "object") return false;
  const e = error as ErrorLike;
  if (e.name === "AbortError") return false;
  if (e.name && (THROTTLING.has(e.name) || SERVER_SIDE.has(e.name))) return true;
  if (e.code && NETWORK.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status === 429 || status >= 500)) return true;
  if (e.$retryable) return true;
  // fetch-style errors wrap the socket error in `cause`.
  return e.cause !== undefined && e.cause !== error && isTransient(e.cause);
}

/** Full-jitter backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in [0, ceiling]. */
export function backoffDelay(failures: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(random() * ceiling);
}

export interface RetryDeps {
  sleep(ms: number): Promise<void>;
  now(): number;
  log(line: string): void;
  random?: () => number;
  retry?: RetryPolicy;
  /** Ends the retrying early (job cancelled): the last error is thrown. */
  signal?: AbortSignal;
}

/** Raised when a call kept failing transiently for the whole budget; `cause` is the last error. */
export class RetryBudgetExceeded extends Error {
  constructor(what: string, budgetMs: number, cause: unknown) {
    const last = cause as ErrorLike & { message?: string };
    super(
      `${what} kept failing for ${Math.round(budgetMs / 1000)}s (${last?.name ?? "Error"}: ${last?.message ?? String(cause)})`,
    );
    this.name = "RetryBudgetExceeded";
    this.cause = cause;
  }
}

/** Calls `call` until it succeeds, fails permanently, or fails transiently for longer than the budget. */
export async function withRetry<T>(what: string, call: () => Promise<T>, deps: RetryDeps): Promise<T> {
  const policy = deps.retry ?? AWS_RETRY;
  let firstFailureAt: number | undefined;
  for (let failures = 1; ; failures++) {
    try {
      return await call();
    } catch (error) {
      if (!isTransient(error)) throw error;
      firstFailureAt ??= deps.now();
      const delay = backoffDelay(failures, policy, deps.random);
      if (deps.now() + delay - firstFailureAt > policy.budgetMs)
        throw new RetryBudgetExceeded(what, policy.budgetMs, error);
      const name = (error as ErrorLike).name ?? (error as ErrorLike).code ?? "error";
      deps.log(`${what}: ${name}, retrying in ${(delay / 1000).toFixed(1)}s`);
      await deps.sleep(delay);
      if (deps.signal?.aborted) throw error;
    }
  }
}
