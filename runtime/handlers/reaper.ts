/**
 * Reaper: a scheduled function that ends what the normal path left behind. It reads one snapshot (leftover
 * just-in-time parameters, then our stack's instances, then the GitHub runners they registered: in that order,
 * so that each read is at least as fresh as the one it is judged against), lets `decideReaping` choose, and
 * acts: runners are removed first, then one TerminateInstances call, then parameters are deleted.
 * If the snapshot cannot be read completely nothing is done: without the runner list a busy runner could not
 * be told from an orphan.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { Octokit } from "@octokit/core";
import { ENV } from "../../contract/names.js";
import { getInstallationOctokit, getOwnerInstallationId, gitHubErrorReason } from "../shared/github.js";
import {
  decideReaping,
  isLive,
  type DeregisterDecision,
  type ReaperDecision,
  type TerminateReason,
} from "../reaper/decide.js";
import {
  deleteRunner,
  deleteRunnerParameters,
  describeStackInstances,
  listRunnerParameters,
  listRunners,
  runnerLocations,
  terminateInstances,
} from "../reaper/sources.js";

export interface ReaperSettings {
  stack: string;
  parameterPrefix: string;
  bootGraceMinutes: number;
  maxJobHours: number;
  owner: string;
  scope: "org" | "repo";
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

/** Reads the reaper's settings; every problem names the variable. */
export function readReaperSettings(env: NodeJS.ProcessEnv = process.env): ReaperSettings {
  const scope = env[ENV.runnerScope] || "org";
  if (scope !== "org" && scope !== "repo")
    throw new Error(`${ENV.runnerScope} must be "org" or "repo", got ${JSON.stringify(scope)}`);
  return {
    stack: required(env, ENV.stack),
    parameterPrefix: required(env, ENV.runnerParameterPrefix),
    bootGraceMinutes: positiveNumber(env, ENV.bootGraceMinutes, 10),
    maxJobHours: positiveNumber(env, ENV.maxJobHours, 8),
    owner: required(env, ENV.githubOwner),
    scope,
  };
}

export interface ReaperDependencies {
  ec2: EC2Client;
  ssm: SSMClient;
  /** An installation-authenticated Octokit for the runners' owner. */
  github: () => Promise<Octokit>;
  now: () => Date;
  logger: Pick<Logger, "info" | "warn" | "error">;
}

export interface ReapReport {
  decision: ReaperDecision;
  /** Instances EC2 accepted to terminate, with the reason. */
  terminated: { instanceId: string; reason: TerminateReason }[];
  /** Instances not terminated because GitHub would not remove their runner (it took a job meanwhile). */
  keptBusy: string[];
  deregistered: DeregisterDecision[];
  /** Runners whose removal failed with an error (tried again on the next run). */
  deregisterFailures: { runnerId: number; reason: string }[];
  deletedParameters: string[];
}

/** Bounded parallelism: GitHub's secondary rate limits punish bursts of writes. */
async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(workers);
}

/** One reaper run. */
export async function reap(settings: ReaperSettings, deps: ReaperDependencies): Promise<ReapReport> {
  const parameters = await listRunnerParameters(deps.ssm, settings.parameterPrefix);
  const instances = await describeStackInstances(deps.ec2, settings.stack);
  const octokit = await deps.github();
  const locations = runnerLocations(
    settings.scope,
    settings.owner,
    instances.map((i) => i.repository).filter((r): r is string => Boolean(r)),
  );
  // Only runners one of our instances names are ours to judge (decideReaping ignores the others too).
  const ourRunnerNames = new Set(instances.map((i) => i.runnerName).filter(Boolean));
  const runners = (await listRunners(octokit, locations)).filter((r) => ourRunnerNames.has(r.name));
  const now = deps.now();
  const decision = decideReaping({
    instances,
    runners,
    parameters,
    now,
    bootGraceMinutes: settings.bootGraceMinutes,
    maxJobHours: settings.maxJobHours,
  });

  const report: ReapReport = {
    decision,
    terminated: [],
    keptBusy: [],
    deregistered: [],
    deregisterFailures: [],
    deletedParameters: [],
  };
  const removed = new Set<number>();
  await forEachLimited(decision.deregister, 4, async (runner) => {
    try {
      if (await deleteRunner(octokit, settings.scope, settings.owner, runner)) {
        removed.add(runner.runnerId);
        report.deregistered.push(runner);
      } else {
        deps.logger.info("GitHub refused to remove the runner: it is running a job", {
          runnerId: runner.runnerId,
          name: runner.name,
        });
      }
    } catch (error) {
      report.deregisterFailures.push({ runnerId: runner.runnerId, reason: gitHubErrorReason(error) });
      deps.logger.warn("could not remove a runner from GitHub", {
        runnerId: runner.runnerId,
        name: runner.name,
        error: error as Error,
      });
    }
  });

  const toTerminate = decision.terminate.filter((t) => {
    if (t.afterDeregistering === undefined || removed.has(t.afterDeregistering)) return true;
    report.keptBusy.push(t.instanceId);
    return false;
  });
  const accepted = new Set(
    await terminateInstances(
      deps.ec2,
      toTerminate.map((t) => t.instanceId),
    ),
  );
  report.terminated = toTerminate
    .filter((t) => accepted.has(t.instanceId))
    .map((t) => ({ instanceId: t.instanceId, reason: t.reason }));

  if (decision.deleteParameters.length > 0)
    report.deletedParameters = await deleteRunnerParameters(deps.ssm, decision.deleteParameters);

  deps.logger.info("reaper run", {
    instances: instances.filter(isLive).length,
    runners: runners.length,
    terminated: report.terminated,
    keptBusy: report.keptBusy,
    deregistered: report.deregistered.map((d) => ({ runnerId: d.runnerId, name: d.name, reason: d.reason })),
    deregisterFailures: report.deregisterFailures,
    deletedParameters: report.deletedParameters.length,
    spared: decision.spared.length,
  });
  return report;
}

// ---- Lambda wiring ---------------------------------------------------------------------------------------

const logger = new Logger({ serviceName: "reaper" });
const metrics = new Metrics({ namespace: "cirunners", serviceName: "reaper" });
let clients: { ec2: EC2Client; ssm: SSMClient } | undefined;

/** Emits ReapedInstances (per Reason), DeregisteredRunners and DeletedRunnerParameters. */
export function publishReapMetrics(report: ReapReport, sink: Metrics = metrics): void {
  const byReason = new Map<string, number>();
  for (const t of report.terminated) byReason.set(t.reason, (byReason.get(t.reason) ?? 0) + 1);
  for (const [reason, count] of byReason) {
    const single = sink.singleMetric();
    single.addDimension("Reason", reason);
    single.addMetric("ReapedInstances", MetricUnit.Count, count);
  }
  sink.addMetric("DeregisteredRunners", MetricUnit.Count, report.deregistered.length);
  sink.addMetric("DeletedRunnerParameters", MetricUnit.Count, report.deletedParameters.length);
  sink.publishStoredMetrics();
}

export const handler = async (): Promise<{ terminated: number; deregistered: number; deletedParameters: number }> => {
  const settings = readReaperSettings();
  clients ??= { ec2: new EC2Client({}), ssm: new SSMClient({}) };
  const report = await reap(settings, {
    ...clients,
    github: async () => getInstallationOctokit(await getOwnerInstallationId(settings.owner, settings.scope)),
    now: () => new Date(),
    logger,
  });
  publishReapMetrics(report);
  return {
    terminated: report.terminated.length,
    deregistered: report.deregistered.length,
    deletedParameters: report.deletedParameters.length,
  };
};
