/**
 * Which failed webhook deliveries to redeliver. GitHub does not redeliver a failed delivery by itself; the
 * documented recovery is to list a hook's deliveries and `POST .../deliveries/{delivery_id}/attempts` the failed
 * ones ("Handling failed webhook deliveries", docs.github.com). Pure: one hook's recent deliveries in, the
 * delivery ids to redeliver out.
 *
 * Rules:
 * - Deliveries are grouped by `guid` (the `X-GitHub-Delivery` header): a redelivery shares its original's guid, so
 *   a guid with any successful attempt has arrived and is left alone. Otherwise the newest attempt (and only it) is
 *   redelivered, so one failed delivery is never redelivered twice; a redelivery that
 *   fails in turn is a new attempt that a later run may redeliver.
 * - Failure: `status_code` 0 (no answer: connection failure, timeout) or >= 400. The `status=failure` filter of
 *   the list route covers 400-599 only, so it would miss timeouts: the list is read unfiltered.
 * - A replay sends the same bytes: an answer that depends only on the bytes (400 malformed, 405, 413 too large,
 *   422) repeats, so such a guid is not redelivered. A 401 is redelivered: it depends on the secret, which may
 *   have been fixed since.
 * - Only events whose first attempt lies within the look-back window are recovered (older ones are either done
 *   or beyond help: GitHub fails a job queued for 24 hours), so a guid that keeps failing stops being retried.
 * - Repeated failures of one guid back off: the n-th redelivery waits `min(base * 2^(n-1), max)` after the newest
 *   attempt, so an outage of hours does not turn each run into a burst of redeliveries for the same events.
 * - At most `limit` per run (GitHub's rate limit is shared with the launcher), oldest events first: they are the
 *   closest to leaving the window.
 */

/** One delivery as `GET .../hooks/{hook_id}/deliveries` lists it (`hook-delivery-item` in GitHub's OpenAPI). */
export interface HookDelivery {
  id: number;
  guid: string;
  deliveredAt: Date;
  redelivery: boolean;
  statusCode: number;
  event: string;
  action: string | null;
}

export interface RedeliveryPolicy {
  now: Date;
  /** Events first delivered before `now - windowMs` are not recovered. */
  windowMs: number;
  /** Wait after a failed redelivery before the next one; doubles with each redelivery. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Redeliveries per run and hook. */
  limit: number;
}

export const DEFAULT_REDELIVERY_POLICY: Omit<RedeliveryPolicy, "now"> = {
  windowMs: 3 * 60 * 60 * 1000,
  backoffBaseMs: 5 * 60 * 1000,
  backoffMaxMs: 60 * 60 * 1000,
  limit: 100,
};

/** Answers a replay of the same bytes would get again. */
const BYTE_DEPENDENT_STATUSES: ReadonlySet<number> = new Set([400, 405, 413, 422]);

export function isFailedDelivery(delivery: Pick<HookDelivery, "statusCode">): boolean {
  return delivery.statusCode === 0 || delivery.statusCode >= 400;
}

export type SkipReason = "delivered" | "replay-would-fail" | "outside-window" | "backing-off" | "over-limit";

export interface RedeliveryPlan {
  /** Delivery ids to redeliver, oldest event first. */
  redeliver: HookDelivery[];
  /** Per guid, why it was left alone (for the logs). */
  skipped: { guid: string; reason: SkipReason }[];
}

export function planRedeliveries(deliveries: readonly HookDelivery[], policy: RedeliveryPolicy): RedeliveryPlan {
  const byGuid = new Map<string, HookDelivery[]>();
  for (const delivery of deliveries) {
    const attempts = byGuid.get(delivery.guid) ?? [];
    attempts.push(delivery);
    byGuid.set(delivery.guid, attempts);
  }
  const now = policy.now.getTime();
  const candidates: { first: number; newest: HookDelivery }[] = [];
  const skipped: RedeliveryPlan["skipped"] = [];
  for (const [guid, attempts] of byGuid) {
    // Newest attempt last; ties (same second) broken by id, which GitHub assigns in increasing order.
    attempts.sort((a, b) => a.deliveredAt.getTime() - b.deliveredAt.getTime() || a.id - b.id);
    const newest = attempts[attempts.length - 1];
    const first = attempts[0];
    const skip = skipReason(attempts, newest, first, now, policy);
    if (skip) skipped.push({ guid, reason: skip });
    else candidates.push({ first: first.deliveredAt.getTime(), newest });
  }
  candidates.sort((a, b) => a.first - b.first || a.newest.id - b.newest.id);
  for (const { newest } of candidates.slice(policy.limit)) skipped.push({ guid: newest.guid, reason: "over-limit" });
  return { redeliver: candidates.slice(0, policy.limit).map((c) => c.newest), skipped };
}

function skipReason(
  attempts: HookDelivery[],
  newest: HookDelivery,
  first: HookDelivery,
  now: number,
  policy: RedeliveryPolicy,
): SkipReason | undefined {
  if (attempts.some((attempt) => !isFailedDelivery(attempt))) return "delivered";
  if (BYTE_DEPENDENT_STATUSES.has(newest.statusCode)) return "replay-would-fail";
  // The original must be in the list: without it the event is older than what was read.
  if (first.redelivery || now - first.deliveredAt.getTime() > policy.windowMs) return "outside-window";
  const redeliveries = attempts.length - 1;
  if (redeliveries > 0) {
    const wait = Math.min(policy.backoffBaseMs * 2 ** (redeliveries - 1), policy.backoffMaxMs);
    if (now - newest.deliveredAt.getTime() < wait) return "backing-off";
  }
  return undefined;
}
