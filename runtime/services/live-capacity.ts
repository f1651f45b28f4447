/**
 * Live-instance counts per pool, for `maxRunners`, as a bound that holds under concurrency.
 *
 * Several launcher containers run at once (the job queue's message groups are per job), and a count read before
 * a launch cannot see what another container launches in the meantime: a cached or merely fresh count lets a pool
 * overshoot by what the others launched in that window. So the count is checked twice: before the launch (fresh,
 * to launch no more than looks free) and after it (`excess`): once this container's instances exist, it counts
 * the pool's live instances again and withdraws as many of its own as the pool is over. Of two containers that
 * launched at once, the later one to count sees both launches (EC2 answers DescribeInstances with the instances a
 * returned CreateFleet started), so at least one of them withdraws: the pool never stays above `maxRunners`. Both
 * may withdraw, which only delays a launch to the next try. The price: two DescribeInstances per pool and batch,
 * filtered server-side by the stack and pool tags, and now and then an instance started and withdrawn at once.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import { countLiveInstances } from "../adapters/ec2.js";
import { overLimit } from "../core/launch/plan.js";

/** Counts are no longer cached (a cache is not a bound); 0 for callers that wait a cache out (bench/). */
export const CAPACITY_CACHE_TTL_MS = 0;

export class LiveCapacity {
  constructor(
    private readonly ec2: EC2Client,
    private readonly stack: string,
  ) {}

  /** Live (pending or running) instances per pool, read now. */
  async counts(pools: string[]): Promise<Map<string, number>> {
    return countLiveInstances(this.ec2, this.stack, pools);
  }

  /** The instances of `launched` (just started in `pool`) to withdraw so the pool is not above `maxRunners`. */
  async excess(pool: string, maxRunners: number, launched: readonly string[]): Promise<string[]> {
    if (launched.length === 0) return [];
    const live = (await this.counts([pool])).get(pool) ?? 0;
    return overLimit(maxRunners, live, launched);
  }
}
