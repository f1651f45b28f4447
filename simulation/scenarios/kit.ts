/**
 * What the named scenarios share: the stack's pools and owner, jobs created on the stand-in (GitHub delivers them
 * to the stack's webhook), waiting on the pipeline and on simulated time, and the closing accounting.
 */
import { ENV } from "../../contract/names";
import type { NewJob, StandInJob } from "../../testkit/github/server";
import { type RunSummary, summarize } from "../accounting";
import { sleep } from "../callers";
import type { Pipeline } from "../pipeline";
import { MINUTE_MS } from "../scheduler";

export interface Pool {
  name: string;
  labels: string[];
  maxRunners?: number;
}

export interface ScenarioReport {
  scenario: string;
  /** Simulated minutes the scenario covered. */
  simulatedMinutes: number;
  summary: RunSummary;
  /** Scenario-specific facts (what it set out to show). */
  facts: Record<string, unknown>;
}

export type Scenario = (pipeline: Pipeline, say: (line: string) => void) => Promise<ScenarioReport>;

export function pools(pipeline: Pipeline): Pool[] {
  return JSON.parse(pipeline.environments.launcher.environment[ENV.pools]) as Pool[];
}

/** The pool whose labels are exactly these (case-insensitive), else the first. */
export function poolWith(pipeline: Pipeline, labels: string[]): Pool {
  const key = (l: string[]) =>
    l
      .map((x) => x.toLowerCase())
      .sort()
      .join(",");
  return pools(pipeline).find((p) => key(p.labels) === key(labels)) ?? pools(pipeline)[0];
}

let nextJobId = 5000;

/** A job queued on GitHub (delivered to the stack's webhook by the stand-in). */
export function queueJob(pipeline: Pipeline, labels: string[], extra: Partial<NewJob> = {}): StandInJob {
  const owner = pipeline.environments.launcher.environment[ENV.githubOwner];
  return pipeline.github.createJob({ id: nextJobId++, owner, repository: "orders-service", labels, ...extra });
}

/** Waits (real time) until `done()` holds, letting the pipeline work; fails with `what` after `timeoutMs`. */
export async function until(what: string, done: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

/** Lets deliveries, the queue and booting instances settle. */
export async function settle(pipeline: Pipeline): Promise<void> {
  await pipeline.github.deliveriesSettled();
  await pipeline.waitForIdle(120_000);
}

/**
 * The end of every scenario: jobs still running finish, then five simulated minutes pass with the schedules firing
 * (the reconciler ends idle runners "within a minute", the reaper runs), and the run is counted.
 */
export async function close(
  pipeline: Pipeline,
  scenario: string,
  startedAt: number,
  facts: Record<string, unknown>,
): Promise<ScenarioReport> {
  await settle(pipeline);
  await until(
    "no job is running",
    () => [...pipeline.github.jobs.values()].every((j) => j.status !== "in_progress"),
    120_000,
  );
  await pipeline.scheduler.advance(5 * MINUTE_MS);
  await settle(pipeline);
  const now = pipeline.clock.now();
  return {
    scenario,
    simulatedMinutes: Math.round((now - startedAt) / MINUTE_MS),
    summary: summarize(pipeline.github, pipeline.instances.values(), now),
    facts,
  };
}
