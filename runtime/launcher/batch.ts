/**
 * One SQS batch of job messages → runners. Orchestrates the pure planning (`plan.ts`), the capacity count and
 * the launch core per pool, then applies the FIFO rule to what actually happened. Clients are injected.
 */
import type { JobMessage } from "../../contract/job.js";
import { isRetryableGitHubError } from "../shared/github.js";
import { liveInstanceCounts, recordLaunched } from "./capacity.js";
import {
  launchRunners,
  makeRunnerName,
  rollBackRunners,
  type LaunchDeps,
  type LaunchedRunner,
  type RunnerRequest,
  type RunnerTarget,
} from "./launch.js";
import { parseJobMessage } from "./messages.js";
import { laterInGroup, planBatch, type BatchRecord, type Failure, type PlannedJob } from "./plan.js";
import type { LauncherSettings } from "./settings.js";

export interface BatchFailure extends Failure {
  messageId: string;
}

export interface LaunchedJob extends LaunchedRunner {
  pool: string;
  message: JobMessage;
}

export interface BatchResult {
  launched: LaunchedJob[];
  /** By message id; these messages go back to the queue (and to the DLQ after the configured receives). */
  failures: Map<string, BatchFailure>;
}

function targetFor(settings: LauncherSettings, message: JobMessage): RunnerTarget {
  if (settings.scope === "org") return { scope: "org", org: settings.owner };
  const [owner, repo] = message.repository.split("/");
  return { scope: "repo", owner, repo };
}

function describeTarget(target: RunnerTarget): string {
  return target.scope === "org" ? `organization ${target.org}` : `repository ${target.owner}/${target.repo}`;
}

async function resolveInstallation(target: RunnerTarget, deps: LaunchDeps): Promise<number> {
  if (!deps.installationFor)
    throw new Error("the job message names no installation and no installation resolver is configured");
  return deps.installationFor(target);
}

export async function processJobBatch(
  records: BatchRecord[],
  settings: LauncherSettings,
  deps: LaunchDeps,
): Promise<BatchResult> {
  const configured = new Set(settings.pools.map((p) => p.name));
  const poolsInBatch = [
    ...new Set(
      records.flatMap((r) => {
        const parsed = parseJobMessage(r.body);
        return parsed.ok && configured.has(parsed.message.pool) ? [parsed.message.pool] : [];
      }),
    ),
  ];
  const live =
    poolsInBatch.length > 0
      ? await liveInstanceCounts(deps.ec2, settings.stack, poolsInBatch)
      : new Map<string, number>();
  const plan = planBatch(records, settings.pools, live);
  const failures = new Map<string, BatchFailure>();
  for (const [messageId, failure] of plan.failures) failures.set(messageId, { messageId, ...failure });

  const jobsByKey = new Map<string, { pool: string; job: PlannedJob }>();
  const launched: LaunchedJob[] = [];
  await Promise.all(
    [...plan.launches].map(async ([poolName, jobs]) => {
      const pool = settings.pools.find((p) => p.name === poolName)!;
      const resolved = await Promise.all(
        jobs.map(async (job) => {
          const target = targetFor(settings, job.message);
          try {
            return {
              job,
              target,
              installationId: job.message.installationId ?? (await resolveInstallation(target, deps)),
            };
          } catch (error) {
            const retryable = isRetryableGitHubError(error);
            failures.set(job.messageId, {
              messageId: job.messageId,
              reason: retryable ? "github-retryable" : "github-permanent",
              detail: `looking up the GitHub App installation for ${describeTarget(target)}: ${(error as Error).message}`,
            });
            return undefined;
          }
        }),
      );
      const requests: RunnerRequest[] = resolved.flatMap((entry) => {
        if (!entry) return [];
        const { job, target, installationId } = entry;
        jobsByKey.set(job.messageId, { pool: poolName, job });
        return [
          {
            key: job.messageId,
            runnerName: makeRunnerName(poolName, job.message.jobId),
            installationId,
            target,
            jobId: job.message.jobId,
            repository: job.message.repository,
          },
        ];
      });
      if (requests.length === 0) return;
      const result = await launchRunners(pool, requests, settings, deps);
      recordLaunched(poolName, result.launched.length);
      for (const runner of result.launched)
        launched.push({ ...runner, pool: poolName, message: jobsByKey.get(runner.key)!.job.message });
      for (const failure of result.failed)
        failures.set(failure.key, { messageId: failure.key, reason: failure.reason, detail: failure.detail });
    }),
  );

  // FIFO: a launched job behind a failed one in its group is failed too, so its runner must go.
  const rollBack = new Set(laterInGroup(records, new Set(failures.keys())));
  if (rollBack.size > 0) {
    const undone = launched.filter((job) => rollBack.has(job.key));
    await rollBackRunners(undone, deps);
    for (const job of undone) {
      recordLaunched(job.pool, -1);
      failures.set(job.key, {
        messageId: job.key,
        reason: "rolled-back",
        detail: `an earlier message of group ${jobsByKey.get(job.key)!.job.groupId} failed`,
      });
    }
  }
  return { launched: launched.filter((job) => !rollBack.has(job.key)), failures };
}
