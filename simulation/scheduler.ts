/**
 * The stack's schedules on the simulation clock (clock.ts): `advance(ms)` moves simulated time forward in steps
 * and, at each step, fires every scheduled function whose period has passed — the reconciler every minute and the
 * redeliver function every five (program/ephemeral-runners/reconciliation.ts), the reaper every five — and lets
 * GitHub fail jobs past its 24-hour limit. A schedule that came due several times within one step fires once: the
 * functions read the state they act on (ledger, GitHub, EC2), not a count of ticks, so one run catches up.
 */
import { randomUUID } from "node:crypto";
import type { GitHubApi } from "../testkit/github/server";
import { SIMULATION_ACCOUNT_ID } from "./callers";
import type { SimulationClock } from "./clock";
import type { SimulatedFunction } from "./functions";

export const MINUTE_MS = 60_000;

/** Each scheduled function's period (the stack's `rate(...)` schedules). */
export const SCHEDULES = { reconciler: 1 * MINUTE_MS, redeliver: 5 * MINUTE_MS, reaper: 5 * MINUTE_MS } as const;
export type ScheduleName = keyof typeof SCHEDULES;

/** The EventBridge Scheduler event a scheduled function receives. */
export function scheduledEvent(region: string, time: number) {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.scheduler",
    account: SIMULATION_ACCOUNT_ID,
    time: new Date(time).toISOString(),
    region,
    resources: [],
    detail: {},
  };
}

export interface SchedulerOptions {
  clock: SimulationClock;
  region: string;
  github: GitHubApi;
  functions: Partial<Record<ScheduleName, SimulatedFunction>>;
  /** Waits until the pipeline has settled after a run (deliveries answered, queue drained). */
  settle(): Promise<void>;
  log(line: string): void;
}

export interface ScheduledRun {
  name: ScheduleName;
  at: number;
  result?: unknown;
  error?: string;
}

export class Scheduler {
  readonly runs: ScheduledRun[] = [];
  private readonly last = new Map<ScheduleName, number>();

  constructor(private readonly options: SchedulerOptions) {
    for (const name of Object.keys(SCHEDULES) as ScheduleName[]) this.last.set(name, options.clock.now());
  }

  /** Runs one scheduled function now (its handler's errors are kept, as Lambda would log them). */
  async fire(name: ScheduleName): Promise<ScheduledRun | undefined> {
    const fn = this.options.functions[name];
    if (!fn) return undefined;
    const at = this.options.clock.now();
    this.last.set(name, at);
    const run: ScheduledRun = { name, at };
    try {
      run.result = (await fn.invoke(scheduledEvent(this.options.region, at))).result;
    } catch (error) {
      run.error = (error as Error).message;
      this.options.log(`  ! ${name}: ${run.error}`);
    }
    this.runs.push(run);
    return run;
  }

  /** Fires what is due, then lets the pipeline settle. */
  async tick(): Promise<void> {
    const now = this.options.clock.now();
    this.options.github.expireJobs();
    for (const name of Object.keys(SCHEDULES) as ScheduleName[])
      if (now - (this.last.get(name) ?? 0) >= SCHEDULES[name]) await this.fire(name);
    await this.options.settle();
  }

  /** Moves simulated time forward by `ms`, in steps of `stepMs` (default one minute), ticking after each. */
  async advance(ms: number, stepMs = MINUTE_MS): Promise<void> {
    let left = ms;
    while (left > 0) {
      const step = Math.min(stepMs, left);
      this.options.clock.advance(step);
      left -= step;
      await this.tick();
    }
  }
}
