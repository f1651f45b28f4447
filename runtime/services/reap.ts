/**
 * One reaper run: it reads one snapshot (leftover just-in-time parameters, then our stack's instances, then the
 * GitHub runners they registered: in that order, so that each read is at least as fresh as the one it is judged
 * against), lets `decideReaping` choose, and acts: runners are removed first, then one TerminateInstances call,
 * then parameters are deleted. If the snapshot cannot be read completely nothing is done: without the runner
 * list a busy runner could not be told from an orphan. The list is read page by page while ephemeral runners
 * disappear, so a runner can slip across a page boundary unseen: every runner of a live instance past the grace
 * time that the list did not show is looked up by name before its instance may be called "never registered".
 * Before anything is ended, the job ledger is asked too (issue 12, item 7): a runner whose job is recorded
 * `running` on it is never ended, whatever GitHub showed.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { JobRecord } from "../../contract/ledger.js";
import { parseRunnerName } from "../../contract/names.js";
import { MAX_HAND_OVERS } from "../core/jobs/swap.js";
import { type RunnerScope, type RunnerTarget, runnerTargetFor, targetKey } from "../../contract/runner-target.js";
import { describeStackInstances, terminateInstances } from "../adapters/ec2.js";
import type { GitHubApp } from "../adapters/github/app-auth.js";
import { gitHubErrorReason } from "../adapters/github/errors.js";
import { deleteRunner, findRunnerByName, listRunners } from "../adapters/github/runners.js";
import { getJob, type Ledger } from "../adapters/ledger.js";
import { deleteParameters, listRunnerParameters } from "../adapters/ssm.js";
import {
  type DeregisterDecision,
  decideReaping,
  isLive,
  type ReaperDecision,
  type ReaperInput,
  type ReaperInstance,
  type ReaperRunner,
  type TerminateReason,
  unseenRunnerNames,
} from "../core/reaper/decide.js";
import type { Log } from "../shared/lambda.js";

export interface ReaperSettings {
  stack: string;
  parameterPrefix: string;
  bootGraceMinutes: number;
  maxJobHours: number;
  owner: string;
  scope: RunnerScope;
}

export interface ReaperDependencies {
  ec2: EC2Client;
  ssm: SSMClient;
  github: GitHubApp;
  /** Read only (GetItem): is a runner's job recorded running on it? */
  ledger: Ledger;
  now: () => Date;
  log: Log;
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

/** GitHub's secondary rate limits punish bursts of writes: at most this many removals at once. */
const DEREGISTER_CONCURRENCY = 4;

/** The targets whose runners our instances may have registered: the organization, or each of the owner's repositories. */
export function reaperTargets(scope: RunnerScope, owner: string, repositories: Iterable<string>): RunnerTarget[] {
  if (scope === "org") return [runnerTargetFor("org", owner, "")];
  const targets = new Map<string, RunnerTarget>();
  for (const repository of repositories) {
    const target = runnerTargetFor("repo", owner, repository);
    if (target.kind === "repo" && target.owner.toLowerCase() === owner.toLowerCase())
      targets.set(targetKey(target).toLowerCase(), target);
  }
  return [...targets.values()];
}

async function listTargetRunners(github: GitHubApp, targets: RunnerTarget[]): Promise<ReaperRunner[]> {
  const lists = await Promise.all(
    targets.map(async (target) => {
      const runners = await listRunners(await github.clientFor(target), target);
      const repository = target.kind === "repo" ? { repository: `${target.owner}/${target.repo}` } : {};
      return runners.map((runner) => ({ ...runner, ...repository }));
    }),
  );
  return lists.flat();
}

/**
 * The runners of `names`, each looked up by name at its instance's target. A name GitHub does not know is simply
 * not found; a failed lookup leaves the name `unverified` (its instance is spared until the next run).
 */
async function lookUpRunners(
  settings: ReaperSettings,
  deps: ReaperDependencies,
  instances: { runnerName?: string; repository?: string }[],
  names: string[],
): Promise<{ found: ReaperRunner[]; unverified: Set<string> }> {
  const repositoryOf = new Map(instances.map((i) => [i.runnerName, i.repository]));
  const found: ReaperRunner[] = [];
  const unverified = new Set<string>();
  await forEachLimited(names, DEREGISTER_CONCURRENCY, async (name) => {
    const repository = repositoryOf.get(name);
    try {
      const target = runnerTargetFor(settings.scope, settings.owner, repository ?? "");
      const runner = await findRunnerByName(await deps.github.clientFor(target), target, name);
      if (runner) found.push({ ...runner, ...(target.kind === "repo" ? { repository: repository as string } : {}) });
    } catch (error) {
      unverified.add(name);
      deps.log.warn("could not look a runner up by name: its instance is spared", { name, error: String(error) });
    }
  });
  return { found, unverified };
}

/**
 * The runners `decision` would end (terminate their instance, or remove a live instance's runner) whose job the
 * ledger records `running` on that very runner, and those whose job's record could not be read. One consistent
 * GetItem per job, and only for what is about to be ended: most runs end nothing and read nothing.
 */
async function consultLedger(
  deps: ReaperDependencies,
  instances: ReaperInstance[],
  decision: ReaperDecision,
): Promise<{ running: Set<string>; unreadable: Set<string> }> {
  const byId = new Map(instances.map((i) => [i.instanceId, i]));
  const liveNames = new Set(instances.filter(isLive).flatMap((i) => (i.runnerName ? [i.runnerName] : [])));
  const names = [
    ...decision.terminate.flatMap((t) => byId.get(t.instanceId)?.runnerName ?? []),
    ...decision.deregister.flatMap((d) => (liveNames.has(d.name) ? [d.name] : [])),
  ];
  const namesByJob = new Map<number, Set<string>>();
  for (const name of names) {
    const jobId = parseRunnerName(name)?.jobId;
    // A warm runner was launched for no job; a name we cannot parse is not one of our job runners.
    if (jobId === undefined || jobId === "warm") continue;
    namesByJob.set(jobId, (namesByJob.get(jobId) ?? new Set()).add(name));
  }
  const running = new Set<string>();
  const unreadable = new Set<string>();
  await forEachLimited([...namesByJob], DEREGISTER_CONCURRENCY, async ([jobId, jobNames]) => {
    try {
      const record = await getJob(deps.ledger, jobId);
      if (record?.state === "running" && record.ranOn && jobNames.has(record.ranOn)) running.add(record.ranOn);
      // A runner another job took, or one handed over to another job, is that job's now: follow it there.
      for (const name of jobNames)
        if (!running.has(name) && record && (await runsElsewhere(deps.ledger, record, name))) running.add(name);
    } catch (error) {
      for (const name of jobNames) unreadable.add(name);
      deps.log.warn("could not read a runner's job in the ledger: its instance is spared", {
        jobId,
        error: String(error),
      });
    }
  });
  return { running, unreadable };
}

/**
 * True when the job `runnerName` went to (its entry in `record` says `takenBy` or `transferredTo`, and so on from
 * there) is recorded running on it: the runner serves that job, not the one its name names.
 */
async function runsElsewhere(ledger: Ledger, record: JobRecord, runnerName: string): Promise<boolean> {
  let current: JobRecord | undefined = record;
  for (let hop = 0; current && hop < MAX_HAND_OVERS; hop++) {
    const entry = current.runners.find((r) => r.runnerName === runnerName);
    const next = entry?.takenBy ?? entry?.transferredTo;
    if (next === undefined) return false;
    current = await getJob(ledger, next);
    if (current?.state === "running" && current.ranOn === runnerName) return true;
  }
  return false;
}

/** Bounded parallelism over `items`. */
async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(workers);
}

export async function reap(settings: ReaperSettings, deps: ReaperDependencies): Promise<ReapReport> {
  const parameters = await listRunnerParameters(deps.ssm, settings.parameterPrefix);
  const instances = await describeStackInstances(deps.ec2, settings.stack);
  const targets = reaperTargets(
    settings.scope,
    settings.owner,
    instances.flatMap((i) => (i.repository ? [i.repository] : [])),
  );
  // Only runners one of our instances names are ours to judge (decideReaping ignores the others too).
  const ourRunnerNames = new Set(instances.map((i) => i.runnerName).filter(Boolean));
  const listed = (await listTargetRunners(deps.github, targets)).filter((r) => ourRunnerNames.has(r.name));
  const now = deps.now();
  const unseen = unseenRunnerNames({ instances, runners: listed, now, bootGraceMinutes: settings.bootGraceMinutes });
  const { found, unverified } = await lookUpRunners(settings, deps, instances, unseen);
  const runners = [...listed, ...found];
  const input: ReaperInput = {
    instances,
    runners,
    parameters,
    now,
    bootGraceMinutes: settings.bootGraceMinutes,
    maxJobHours: settings.maxJobHours,
    unverified,
  };
  const ledger = await consultLedger(deps, instances, decideReaping(input));
  const decision = decideReaping({
    ...input,
    unverified: new Set([...unverified, ...ledger.unreadable]),
    runningInLedger: ledger.running,
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
  await forEachLimited(decision.deregister, DEREGISTER_CONCURRENCY, async (runner) => {
    try {
      const target = runnerTargetFor(settings.scope, settings.owner, runner.repository ?? "");
      if (await deleteRunner(await deps.github.clientFor(target), target, runner.runnerId)) {
        removed.add(runner.runnerId);
        report.deregistered.push(runner);
      } else {
        deps.log.info("GitHub refused to remove the runner: it is running a job", {
          runnerId: runner.runnerId,
          name: runner.name,
        });
      }
    } catch (error) {
      report.deregisterFailures.push({ runnerId: runner.runnerId, reason: gitHubErrorReason(error) });
      deps.log.warn("could not remove a runner from GitHub", {
        runnerId: runner.runnerId,
        name: runner.name,
        error: String(error),
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
  report.deletedParameters = await deleteParameters(deps.ssm, decision.deleteParameters);

  deps.log.info("reaper run", {
    instances: instances.filter(isLive).length,
    runners: runners.length,
    lookedUp: unseen.length,
    runningInLedger: [...ledger.running],
    terminated: report.terminated,
    keptBusy: report.keptBusy,
    deregistered: report.deregistered.map((d) => ({ runnerId: d.runnerId, name: d.name, reason: d.reason })),
    deregisterFailures: report.deregisterFailures,
    deletedParameters: report.deletedParameters.length,
    spared: decision.spared.length,
  });
  return report;
}
