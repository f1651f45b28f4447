/**
 * Routing a job to a runner pool by its labels.
 *
 * The rule: a job goes to the pool whose label set EQUALS the job's label set, compared case-insensitively
 * (GitHub compares labels that way) after collapsing duplicates. Order does not matter. A job whose labels are a
 * subset or a superset of a pool's goes nowhere: a subset match would put `[self-hosted, linux]` on whichever
 * pool came first, and a superset match would start a runner that lacks a label the job asked for, so GitHub
 * would never hand it the job.
 */
import type { RuntimePool } from "../../contract/pool";

/** The label set used for comparison: lower-cased (locale-independent), duplicates removed. */
export function labelSet(labels: readonly string[]): Set<string> {
  return new Set(labels.map((label) => label.toLowerCase()));
}

/**
 * The pool whose label set equals the job's, or undefined. Stack config rejects two pools with the same label
 * set, so at most one pool matches; were there several, the first in configuration order wins.
 */
export function matchPool<P extends Pick<RuntimePool, "labels">>(
  jobLabels: readonly string[],
  pools: readonly P[],
): P | undefined {
  const wanted = labelSet(jobLabels);
  if (wanted.size === 0) return undefined;
  return pools.find((pool) => {
    const offered = labelSet(pool.labels);
    return offered.size === wanted.size && [...wanted].every((label) => offered.has(label));
  });
}

/** Duplicates (compared case-insensitively) removed, the first spelling and the order kept. */
export function distinctLabels(labels: readonly string[]): string[] {
  const seen = new Set<string>();
  return labels.filter((label) => {
    const key = label.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Parses the pools from the function's environment (a JSON array of RuntimePool). Throws an error naming the bad
 * entry: a misconfigured function must fail loudly at start-up, not drop jobs.
 */
export function parsePools(json: string): RuntimePool[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new Error(`pools are not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new Error("pools must be a non-empty JSON array of pool specs");
  parsed.forEach((pool: unknown, i) => {
    const where = `pools[${i}]`;
    if (typeof pool !== "object" || pool === null) throw new Error(`${where} must be an object`);
    const { name, labels } = pool as Record<string, unknown>;
    if (typeof name !== "string" || name.length === 0) throw new Error(`${where}.name must be a non-empty string`);
    if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === "string" && l.length > 0)) {
      throw new Error(`${where}.labels must be a non-empty array of non-empty strings`);
    }
  });
  return parsed as RuntimePool[];
}
