/**
 * Routes over the stand-in's jobs and webhook deliveries, as GitHub's OpenAPI description (@octokit/openapi) and
 * docs.github.com/rest describe them:
 * - `GET /orgs/{org}/hooks/{hook_id}/deliveries`: newest first, `per_page` (default 30, max 100), `cursor`
 *   pagination with a `link` header (rel="next"), `status=success|failure` (status_code 200–399 / 400–599);
 *   items are `hook-delivery-item`s.
 * - `GET /orgs/{org}/hooks/{hook_id}/deliveries/{delivery_id}`: a `hook-delivery` (request and response).
 * - `POST /orgs/{org}/hooks/{hook_id}/deliveries/{delivery_id}/attempts`: 202, a redelivery (same guid).
 * - `GET /repos/{owner}/{repo}/actions/jobs/{job_id}`: a `job`.
 */
import { requireOwnAccount } from "./auth";
import type { RouteContext, RouteHandler, RouteRequest } from "./context";
import { example } from "./examples";
import { deliveryBody, type DeliveryRecord } from "./hooks";
import { HttpFailure } from "./http";

/** The org hook a request names (404 for another org or hook, as GitHub answers for hooks it does not show). */
function hookOf(request: RouteRequest, context: RouteContext) {
  const { org, hook_id } = request.params;
  requireOwnAccount(request.caller, org, context.state);
  const hook = context.jobs.hooks.hook;
  if (!hook || hook.org.toLowerCase() !== org.toLowerCase() || String(hook.id) !== hook_id)
    throw new HttpFailure(404, "Not Found");
  return hook;
}

function deliveryOf(request: RouteRequest, context: RouteContext): DeliveryRecord {
  hookOf(request, context);
  const found = context.jobs.hooks.records.find((r) => String(r.id) === request.params.delivery_id);
  if (!found) throw new HttpFailure(404, "Not Found");
  return found;
}

/** A cursor names the newest delivery of its page. GitHub's look like `v1_12077215967`; ours alike. */
const CURSOR = /^v1_(\d+)$/;

const listDeliveries: RouteHandler = (request, context) => {
  hookOf(request, context);
  const { query, path } = request;
  const perPageRaw = query.get("per_page");
  const perPage = perPageRaw === null ? 30 : Number(perPageRaw);
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100)
    throw new HttpFailure(422, "per_page must be between 1 and 100");
  const status = query.get("status");
  if (status !== null && status !== "success" && status !== "failure")
    throw new HttpFailure(422, 'status must be "success" or "failure"');
  const cursor = query.get("cursor");
  const from = cursor === null ? undefined : CURSOR.exec(cursor);
  if (cursor !== null && !from) throw new HttpFailure(400, "Invalid cursor");
  const inRange = (r: DeliveryRecord) =>
    status === null ||
    (status === "success" ? r.statusCode >= 200 && r.statusCode <= 399 : r.statusCode >= 400 && r.statusCode <= 599);
  // Deliveries still being sent are not listed yet (GitHub lists a delivery once it has an outcome).
  const all = context.jobs.hooks.records
    .filter((r) => r.status !== "pending" && inRange(r))
    .sort((a, b) => b.id - a.id)
    .filter((r) => !from || r.id <= Number(from[1]));
  const page = all.slice(0, perPage);
  const headers: Record<string, string> = {};
  const next = all[perPage];
  if (next) {
    const params = new URLSearchParams({ per_page: String(perPage), cursor: `v1_${next.id}` });
    if (status) params.set("status", status);
    headers.link = `<${context.baseUrl}${path}?${params}>; rel="next"`;
  }
  return { status: 200, body: page.map((r) => deliveryBody(r, false)), headers };
};

const getDelivery: RouteHandler = (request, context) => ({
  status: 200,
  body: deliveryBody(deliveryOf(request, context), true),
});

const redeliver: RouteHandler = (request, context) => {
  const original = deliveryOf(request, context);
  context.jobs.hooks.redeliver(original);
  return { status: 202, body: {} };
};

const getJob: RouteHandler = (request, context) => {
  const { owner, repo, job_id } = request.params;
  requireOwnAccount(request.caller, owner, context.state);
  const job = context.jobs.jobs.get(Number(job_id));
  if (!job || job.owner.toLowerCase() !== owner.toLowerCase() || job.repository.toLowerCase() !== repo.toLowerCase())
    throw new HttpFailure(404, "Not Found");
  const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z"));
  const base = `${context.baseUrl}/repos/${job.owner}/${job.repository}/actions`;
  return {
    status: 200,
    body: Object.assign(example<Record<string, unknown>>("job"), {
      id: job.id,
      run_id: job.runId,
      run_attempt: job.runAttempt,
      run_url: `${base}/runs/${job.runId}`,
      url: `${base}/jobs/${job.id}`,
      status: job.status,
      conclusion: job.conclusion,
      created_at: iso(job.createdAt),
      started_at: iso(job.startedAt ?? job.createdAt),
      completed_at: iso(job.completedAt),
      labels: job.labels,
      runner_id: job.runnerId ?? null,
      runner_name: job.runnerName ?? null,
      runner_group_id: job.runnerGroupId ?? null,
      runner_group_name: job.runnerGroupId === undefined ? null : "cirunners",
      steps: [],
    }),
  };
};

export const HOOK_HANDLERS = {
  orgHookDeliveries: listDeliveries,
  orgHookDelivery: getDelivery,
  orgHookRedeliver: redeliver,
  repoJob: getJob,
} satisfies Record<string, RouteHandler>;
