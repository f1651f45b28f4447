/**
 * A runner pool as the functions see it, and its warm schedule. The stack config (`program/config`) derives these
 * from the user's `runners.pools`; the functions decode them from `CIRUNNERS_POOLS` / `CIRUNNERS_WARM_POOLS`
 * with the same schemas, so the two sides cannot disagree on a field.
 */
import * as z from "zod/mini";
import "./zod";

export const ARCHITECTURES = ["x64", "arm64"] as const;
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const label = z.string().check(z.trim(), z.minLength(1, "a label must not be empty"));

export const runtimePoolSchema = z.strictObject({
  name: z.string().check(z.minLength(1)),
  /** The job labels this pool's runners register with (compared case-insensitively). */
  labels: z.array(label).check(z.minLength(1)),
  instanceTypes: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  architecture: z.enum(ARCHITECTURES),
  maxRunners: z.number().check(z.int(), z.positive()),
  spot: z._default(z.boolean(), false),
  /** Launch template id for this pool; only the launcher and the warm pool need it. */
  launchTemplateId: z.optional(z.string().check(z.regex(/^lt-[0-9a-f]+$/, "expected a launch template id (lt-...)"))),
});

export type RuntimePool = z.infer<typeof runtimePoolSchema>;

/** A pool's warm schedule: idle runners kept on the given days and local hours. */
export const warmScheduleSchema = z
  .strictObject({
    size: z.number().check(z.int(), z.minimum(1), z.maximum(100)),
    days: z._default(z.array(z.enum(WEEKDAYS)).check(z.minLength(1)), ["mon", "tue", "wed", "thu", "fri"]),
    /** First hour (0-23, local time) in which runners are kept warm. */
    startHour: z.number().check(z.int(), z.minimum(0), z.maximum(23)),
    /** Hour (1-24, local time) at which keeping them warm stops; 24 is midnight. */
    endHour: z.number().check(z.int(), z.minimum(1), z.maximum(24)),
    /** IANA time zone the days and hours are in, e.g. Europe/Berlin. */
    timezone: z
      ._default(z.string().check(z.minLength(1)), "UTC")
      .check(z.refine(isTimeZone, { message: "expected an IANA time zone like Europe/Berlin" })),
  })
  .check(z.refine((w) => w.endHour > w.startHour, { message: "endHour must be after startHour", path: ["endHour"] }));

export type WarmSchedule = z.infer<typeof warmScheduleSchema>;

/** One entry of `CIRUNNERS_WARM_POOLS`: a pool's name and its warm schedule. */
export const warmPoolSchema = z.intersection(z.object({ pool: z.string().check(z.minLength(1)) }), warmScheduleSchema);
export type WarmPool = z.infer<typeof warmPoolSchema>;

/** True for a time zone `Intl` knows (the same database the warm-pool function uses at run time). */
export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** The label set used for comparison: lower-cased (locale-independent), duplicates removed. */
export function labelSet(labels: readonly string[]): Set<string> {
  return new Set(labels.map((l) => l.toLowerCase()));
}

/** Duplicates (compared case-insensitively) removed, the first spelling and the order kept. */
export function distinctLabels(labels: readonly string[]): string[] {
  const seen = new Set<string>();
  return labels.filter((l) => {
    const key = l.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * GitHub's assignment rule, as routing uses it: a job goes to the pool whose runners would be offered the job —
 * every job label is among the pool's labels (case-insensitive; GitHub docs, "Using labels with self-hosted
 * runners": a runner must have all the labels of `runs-on`). Of those, the most specific pool (fewest labels the
 * job did not ask for) wins, ties broken by config order. A generic job thus never lands on a specialised pool
 * while a closer one exists.
 */
export function routeJob<P extends Pick<RuntimePool, "labels">>(
  jobLabels: readonly string[],
  pools: readonly P[],
): P | undefined {
  const wanted = labelSet(jobLabels);
  if (wanted.size === 0) return undefined;
  let best: { pool: P; extra: number } | undefined;
  for (const pool of pools) {
    const offered = labelSet(pool.labels);
    if (![...wanted].every((l) => offered.has(l))) continue;
    const extra = offered.size - wanted.size;
    if (!best || extra < best.extra) best = { pool, extra };
  }
  return best?.pool;
}

/**
 * Pairs of pools between which routing is decided by config order alone: equal label sets (the second pool never
 * gets a job). Config validation names them.
 */
export function ambiguousLabelSets<P extends Pick<RuntimePool, "name" | "labels">>(pools: readonly P[]): [P, P][] {
  const pairs: [P, P][] = [];
  pools.forEach((a, i) => {
    for (const b of pools.slice(i + 1)) if (sameLabelSet(a.labels, b.labels)) pairs.push([a, b]);
  });
  return pairs;
}

function sameLabelSet(a: readonly string[], b: readonly string[]): boolean {
  const left = labelSet(a);
  const right = labelSet(b);
  return left.size === right.size && [...left].every((l) => right.has(l));
}
