/**
 * Warm pool decisions: when a pool should keep idle runners, and how many to start now. Pure functions.
 */
import { ENV } from "../../../contract/names.js";
import type { RuntimePool, WarmPool, WarmSchedule, Weekday } from "../../../contract/pool.js";
import type { RunnerScope } from "../../../contract/runner-target.js";

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat("en-US", {
        timeZone: timezone,
        weekday: "short",
        hour: "numeric",
        hourCycle: "h23",
      });
    } catch {
      throw new Error(`unknown time zone ${JSON.stringify(timezone)}: expected an IANA name like Europe/Berlin`);
    }
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** The weekday and hour (0-23) that `now` is in `timezone`, daylight saving time included. */
export function localWeekdayAndHour(now: Date, timezone: string): { weekday: Weekday; hour: number } {
  const parts = formatterFor(timezone).formatToParts(now);
  const weekday = parts
    .find((p) => p.type === "weekday")
    ?.value.toLowerCase()
    .slice(0, 3) as Weekday;
  const hour = Number(parts.find((p) => p.type === "hour")?.value);
  return { weekday, hour };
}

/** True when `now` falls on one of the schedule's days, at or after `startHour` and before `endHour`, local time. */
export function isWithinWarmHours(
  schedule: Pick<WarmSchedule, "days" | "startHour" | "endHour" | "timezone">,
  now: Date,
): boolean {
  const { weekday, hour } = localWeekdayAndHour(now, schedule.timezone);
  return schedule.days.includes(weekday) && hour >= schedule.startHour && hour < schedule.endHour;
}

export interface WarmCounts {
  /** Idle runners wanted. */
  size: number;
  /** Runners of the pool that are online and not busy. */
  idleOnline: number;
  /** Warm instances still inside the boot grace time whose runner is not online yet. */
  booting: number;
  /** Live (pending or running) instances of the pool, busy or not. */
  live: number;
  maxRunners: number;
}

/** How many runners to start: what is missing to `size`, never more than the pool's remaining capacity. */
export function warmDeficit(counts: WarmCounts): number {
  for (const [key, value] of Object.entries(counts)) {
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`warmDeficit: ${key} must be a non-negative integer, got ${value}`);
  }
  const missing = counts.size - counts.idleOnline - counts.booting;
  const room = counts.maxRunners - counts.live;
  return Math.max(0, Math.min(missing, room));
}

export interface WarmInstance {
  runnerName?: string;
  launchTime: Date;
  /** Carries the `cirunners:warm` tag. */
  warm: boolean;
}

export interface WarmRunner {
  name: string;
  status: string;
  busy: boolean;
}

/**
 * Counts one pool's warm capacity from its live instances and the GitHub runners they registered.
 * A warm instance whose runner is already online is counted once, as idle (or not at all, when busy).
 */
export function countWarmCapacity(input: {
  instances: WarmInstance[];
  runners: WarmRunner[];
  now: Date;
  bootGraceMinutes: number;
}): {
  idleOnline: number;
  booting: number;
  live: number;
} {
  const runnersByName = new Map(input.runners.map((r) => [r.name, r]));
  const graceMs = input.bootGraceMinutes * 60_000;
  let idleOnline = 0;
  let booting = 0;
  for (const instance of input.instances) {
    const runner = instance.runnerName ? runnersByName.get(instance.runnerName) : undefined;
    if (runner?.status === "online") {
      if (!runner.busy) idleOnline += 1;
    } else if (instance.warm && input.now.getTime() - instance.launchTime.getTime() <= graceMs) {
      booting += 1;
    }
  }
  return { idleOnline, booting, live: input.instances.length };
}

/**
 * Each warm pool with the pool it keeps warm; throws naming `CIRUNNERS_WARM_POOLS` when a warm pool names no
 * configured pool, wants more runners than the pool's `maxRunners`, or the runners are not organization runners
 * (a repository runner serves one repository only: there is no single place to keep a warm runner).
 */
export function joinWarmPools(
  warmPools: readonly WarmPool[],
  pools: readonly RuntimePool[],
  scope: RunnerScope,
): { warm: WarmPool; pool: RuntimePool }[] {
  if (warmPools.length > 0 && scope !== "org")
    throw new Error(`${ENV.warmPools}: warm pools need ${ENV.runnerScope} "org", got ${JSON.stringify(scope)}`);
  return warmPools.map((warm) => {
    const pool = pools.find((p) => p.name === warm.pool);
    if (!pool) throw new Error(`${ENV.warmPools}: pool ${JSON.stringify(warm.pool)} is not in ${ENV.pools}`);
    if (warm.size > pool.maxRunners)
      throw new Error(
        `${ENV.warmPools}: pool ${warm.pool} wants ${warm.size} warm runners but maxRunners is ${pool.maxRunners}`,
      );
    return { warm, pool };
  });
}

/**
 * Outside the warm hours: the warm runners that are online and idle, to be removed from GitHub and then
 * terminated (only if GitHub lets go of the runner: it refuses one that has just taken a job). Busy ones and
 * ones still booting are left to finish or to the reaper.
 */
export function selectWarmSurplus(input: {
  instances: (WarmInstance & { instanceId: string })[];
  runners: (WarmRunner & { id: number })[];
}): { instanceId: string; runnerId: number; runnerName: string }[] {
  const runnersByName = new Map(input.runners.map((r) => [r.name, r]));
  const surplus: { instanceId: string; runnerId: number; runnerName: string }[] = [];
  for (const instance of input.instances) {
    if (!instance.warm || !instance.runnerName) continue;
    const runner = runnersByName.get(instance.runnerName);
    if (runner && runner.status === "online" && !runner.busy)
      surplus.push({ instanceId: instance.instanceId, runnerId: runner.id, runnerName: runner.name });
  }
  return surplus;
}
