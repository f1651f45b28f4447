/**
 * A webhook's delivery records, for failed-delivery recovery. Routes from GitHub's OpenAPI description
 * (@octokit/openapi, api.github.com):
 * - `orgs/list-webhook-deliveries` `GET /orgs/{org}/hooks/{hook_id}/deliveries` and
 *   `repos/list-webhook-deliveries` `GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries`: newest first, cursor
 *   pagination (`cursor`, next page in the `link` header, which Octokit's paginate follows), `per_page` up to 100.
 * - `orgs/redeliver-webhook-delivery` `POST /orgs/{org}/hooks/{hook_id}/deliveries/{delivery_id}/attempts` and
 *   `repos/redeliver-webhook-delivery` `POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts`:
 *   202 Accepted.
 *
 * App permission: organization "Webhooks: read and write" (`organization_hooks: write`) in org scope, repository
 * "Webhooks: read and write" (`repository_hooks: write`) in repo scope. Listing alone needs read; redelivering
 * needs write.
 */
import type { RunnerTarget } from "../../../contract/runner-target.js";
import type { HookDelivery } from "../../core/redeliver/select.js";
import type { GitHubClient } from "./app-auth.js";

/** The REST path of a target's hook: the organization's hook, or the repository's. */
export function hookPath(target: RunnerTarget, hookId: number): string {
  const base =
    target.kind === "org"
      ? `/orgs/${encodeURIComponent(target.org)}`
      : `/repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(target.repo)}`;
  return `${base}/hooks/${hookId}`;
}

interface DeliveryItem {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  status_code: number;
  event: string;
  action: string | null;
}

/**
 * The hook's deliveries made at or after `since`. The list is newest first, so paging stops at the first page
 * that reaches back past `since` instead of reading the hook's whole history.
 */
export async function listDeliveriesSince(
  client: GitHubClient,
  target: RunnerTarget,
  hookId: number,
  since: Date,
): Promise<HookDelivery[]> {
  const cutoff = since.getTime();
  const items = await client.paginate<DeliveryItem, DeliveryItem>(
    { method: "GET", url: `${hookPath(target, hookId)}/deliveries`, per_page: 100 },
    (response, done) => {
      const recent = response.data.filter((item) => Date.parse(item.delivered_at) >= cutoff);
      if (recent.length < response.data.length) done();
      return recent;
    },
  );
  return items.map((item) => ({
    id: item.id,
    guid: item.guid,
    deliveredAt: new Date(item.delivered_at),
    redelivery: item.redelivery,
    statusCode: item.status_code,
    event: item.event,
    action: item.action,
  }));
}

/** Asks GitHub to deliver a delivery's payload again (a new delivery with the same guid). */
export async function redeliver(
  client: GitHubClient,
  target: RunnerTarget,
  hookId: number,
  deliveryId: number,
): Promise<void> {
  await client.request(`POST ${hookPath(target, hookId)}/deliveries/{delivery_id}/attempts`, {
    delivery_id: deliveryId,
  });
}
