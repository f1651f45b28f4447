/** How the functions treat a failed GitHub call (Octokit's `RequestError` carries `status` and `response`). */

export type GitHubErrorClass = "retryable" | "permanent";

interface ErrorLike {
  status?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, unknown>; data?: unknown };
}

/**
 * Retryable: 5xx, 429, 408, primary or secondary rate limits (a 403 that carries `retry-after`,
 * `x-ratelimit-remaining: 0` or says "rate limit"; GitHub REST docs, "Rate limits for the REST API"), and errors
 * without an HTTP status (network, timeouts, DNS). Permanent: every other 4xx (401, 403 permission, 404, 422).
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

/** The HTTP status of a failed call, when it has one. */
export function statusOf(error: unknown): number | undefined {
  const status = typeof error === "object" && error !== null ? (error as ErrorLike).status : undefined;
  return typeof status === "number" ? status : undefined;
}
