/**
 * Warm pool decisions: when a pool should keep idle runners, and how many to start now. Pure functions.
 */

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A pool's warm pool, as the stack config defines it (`runners.pools[].warmPool`). */
export interface WarmSchedule {
  /** Idle runners to keep during the hours. */
  size: number;
  days: Weekday[];
  /** First hour (0-23, local time) in which runners are kept warm. */
  startHour: number;
  /** Hour (1-24, local time) at which keeping them warm stops; 24 is midnight. */
  endHour: number;
  /** IANA time zone the days and hours are in, e.g. Europe/Berlin. */
  timezone: string;
}

/** One entry of `CIRUNNERS_WARM_POOLS`: the pool's name and its warm schedule. */
export interface WarmPoolSpec extends WarmSchedule {
  pool: string;
}

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

/** Parses and validates `CIRUNNERS_WARM_POOLS`; every problem names the entry and the field. */
export function parseWarmPools(raw: string | undefined, variable: string): WarmPoolSpec[] {
  if (raw === undefined || raw.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new Error(`${variable} is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${variable} must be a JSON array of warm pools, got ${typeof parsed}`);
  return parsed.map((entry: unknown, i) => {
    const where = `${variable}[${i}]`;
    if (typeof entry !== "object" || entry === null) throw new Error(`${where} must be an object`);
    const e = entry as Record<string, unknown>;
    const int = (key: string, min: number, max: number): number => {
      const value = e[key];
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        throw new Error(`${where}.${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
      }
      return value;
    };
    if (typeof e.pool !== "string" || e.pool === "")
      throw new Error(`${where}.pool must be a pool name, got ${JSON.stringify(e.pool)}`);
    const days = e.days;
    if (!Array.isArray(days) || days.length === 0 || !days.every((d) => (WEEKDAYS as readonly unknown[]).includes(d))) {
      throw new Error(`${where}.days must be a non-empty list of ${WEEKDAYS.join(", ")}, got ${JSON.stringify(days)}`);
    }
    const timezone = e.timezone ?? "UTC";
    if (typeof timezone !== "string")
      throw new Error(`${where}.timezone must be an IANA time zone name, got ${JSON.stringify(timezone)}`);
    formatterFor(timezone);
    const spec: WarmPoolSpec = {
      pool: e.pool,
      size: int("size", 1, 100),
      days: days as Weekday[],
      startHour: int("startHour", 0, 23),
      endHour: int("endHour", 1, 24),
      timezone,
    };
    if (spec.endHour <= spec.startHour)
      throw new Error(`${where}.endHour (${spec.endHour}) must be after startHour (${spec.startHour})`);
    return spec;
  });
}

/** Name prefix of the runners the warm pool starts (`makeRunnerName(pool, "warm")` → `<pool>-warm-<hex>`). */
export function warmRunnerPrefix(pool: string): string {
  return `${pool}-warm-`;
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
