/**
 * Live-instance counts per pool, for `maxRunners`.
 *
 * One `DescribeInstances` (filtered by our stack tag, the pools' tags and the states pending/running) answers
 * for every pool of a batch, and the counts are kept at module scope for a short time and raised by this
 * container's own launches. Trade-off: another concurrent launcher container, or instances that ended, are seen
 * only after the TTL, so a pool can overshoot `maxRunners` by what the other containers launched within that
 * window (at most their batch sizes), and may refuse jobs slightly early after instances end. That is the price
 * of not describing thousands of instances on every batch; a short TTL keeps the error small.
 */
import { DescribeInstancesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { TAG } from "../../contract/names.js";

export const CAPACITY_CACHE_TTL_MS = 15_000;

interface CachedCount {
  count: number;
  fetchedAt: number;
}

const cache = new Map<string, CachedCount>();

/** Live (pending or running) instances per pool; describes only the pools whose cached count is stale. */
export async function liveInstanceCounts(
  ec2: EC2Client,
  stack: string,
  pools: string[],
  options: { now?: number; ttlMs?: number } = {},
): Promise<Map<string, number>> {
  const now = options.now ?? Date.now();
  const ttlMs = options.ttlMs ?? CAPACITY_CACHE_TTL_MS;
  const stale = pools.filter((pool) => {
    const cached = cache.get(pool);
    return !cached || now - cached.fetchedAt >= ttlMs;
  });
  if (stale.length > 0) {
    const counts = new Map(stale.map((pool) => [pool, 0]));
    let nextToken: string | undefined;
    do {
      const page = await ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: `tag:${TAG.stack}`, Values: [stack] },
            { Name: `tag:${TAG.pool}`, Values: stale },
            { Name: "instance-state-name", Values: ["pending", "running"] },
          ],
          MaxResults: 1000,
          NextToken: nextToken,
        }),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          const pool = instance.Tags?.find((t) => t.Key === TAG.pool)?.Value;
          if (pool !== undefined && counts.has(pool)) counts.set(pool, counts.get(pool)! + 1);
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
    for (const [pool, count] of counts) cache.set(pool, { count, fetchedAt: now });
  }
  return new Map(pools.map((pool) => [pool, cache.get(pool)!.count]));
}

/** Adds this container's own launches (or subtracts rolled-back ones) to the cached count. */
export function recordLaunched(pool: string, delta: number): void {
  const cached = cache.get(pool);
  if (cached) cached.count = Math.max(0, cached.count + delta);
}

export function resetCapacityCache(): void {
  cache.clear();
}
