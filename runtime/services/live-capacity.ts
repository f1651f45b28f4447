/**
 * Live-instance counts per pool, for `maxRunners`.
 *
 * One `DescribeInstances` answers for every pool of a batch, and the counts are kept at module scope for a short
 * time and raised by this container's own launches. Trade-off: another concurrent launcher container, or instances
 * that ended, are seen only after the TTL, so a pool can overshoot `maxRunners` by what the other containers
 * launched within that window (at most their batch sizes), and may refuse jobs slightly early after instances end.
 * That is the price of not describing thousands of instances on every batch; a short TTL keeps the error small.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import { countLiveInstances } from "../adapters/ec2.js";

export const CAPACITY_CACHE_TTL_MS = 15_000;

export class LiveCapacity {
  readonly #cache = new Map<string, { count: number; fetchedAt: number }>();

  constructor(
    private readonly ec2: EC2Client,
    private readonly stack: string,
    private readonly ttlMs = CAPACITY_CACHE_TTL_MS,
  ) {}

  /** Live (pending or running) instances per pool; describes only the pools whose cached count is stale. */
  async counts(pools: string[], now = Date.now()): Promise<Map<string, number>> {
    const stale = pools.filter((pool) => {
      const cached = this.#cache.get(pool);
      return !cached || now - cached.fetchedAt >= this.ttlMs;
    });
    if (stale.length > 0) {
      const fresh = await countLiveInstances(this.ec2, this.stack, stale);
      for (const [pool, count] of fresh) this.#cache.set(pool, { count, fetchedAt: now });
    }
    return new Map(pools.map((pool) => [pool, this.#cache.get(pool)?.count ?? 0]));
  }

  /** Adds this container's own launches to the cached count. */
  recordLaunched(pool: string, count: number): void {
    const cached = this.#cache.get(pool);
    if (cached) cached.count += count;
  }
}
