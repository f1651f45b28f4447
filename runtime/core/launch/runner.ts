/** Naming and tagging a runner's instance. Pure functions. */
import { randomBytes } from "node:crypto";
import type { Tag } from "@aws-sdk/client-ec2";
import { runnerName, TAG } from "../../../contract/names.js";

/** The random part of a runner name (`runnerName` in contract/names.ts): 6 hex digits, new for every launch. */
export function randomSuffix(): string {
  return randomBytes(3).toString("hex");
}

/** `<pool>-<jobId | warm>-<6 hex>` (contract/names.ts): unique per launch, and it names the job it was made for. */
export function makeRunnerName(pool: string, id: number | "warm", random: () => string = randomSuffix): string {
  return runnerName(pool, id, random());
}

/** Name prefix of the runners the warm pool starts (`makeRunnerName(pool, "warm")` → `<pool>-warm-<hex>`). */
export function warmRunnerPrefix(pool: string): string {
  return `${pool}-warm-`;
}

/** What one runner's instance carries besides the fleet's tags: its runner name and, for a job, the job. */
export interface RunnerLabels {
  runnerName: string;
  jobId?: number;
  repository?: string;
}

/** The per-runner tags, `Name` included. */
export function runnerTags(runner: RunnerLabels): Tag[] {
  const tags: Tag[] = [
    { Key: TAG.runnerName, Value: runner.runnerName },
    { Key: "Name", Value: runner.runnerName },
  ];
  if (runner.jobId !== undefined) tags.push({ Key: TAG.jobId, Value: String(runner.jobId) });
  if (runner.repository !== undefined) tags.push({ Key: TAG.repository, Value: runner.repository });
  return tags;
}

/**
 * Tags of a fleet's instances and volumes: stack, pool and the caller's extra tags; a fleet for a single runner
 * carries that runner's tags too (a fleet for several gets them afterwards, one `CreateTags` per instance).
 */
export function fleetTags(
  stack: string,
  pool: string,
  extraTags: Record<string, string>,
  single: RunnerLabels | undefined,
): Tag[] {
  return [
    { Key: TAG.stack, Value: stack },
    { Key: TAG.pool, Value: pool },
    ...Object.entries(extraTags).map(([Key, Value]) => ({ Key, Value })),
    ...(single ? runnerTags(single) : [{ Key: "Name", Value: `${stack}-${pool}-runner` }]),
  ];
}
