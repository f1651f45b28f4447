import assert from "node:assert/strict";
import { RequestError } from "@octokit/request-error";
import {
  classifyGitHubError,
  gitHubErrorReason,
  isRetryableGitHubError,
} from "../../../../runtime/adapters/github/errors.js";

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
