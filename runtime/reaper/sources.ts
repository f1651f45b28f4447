/**
 * Reading the reaper's snapshot from AWS and GitHub, and acting on its decisions. Shared with the warm pool,
 * which counts the same instances and runners.
 */
import { DescribeInstancesCommand, TerminateInstancesCommand, type EC2Client, type Filter } from "@aws-sdk/client-ec2";
import { DeleteParametersCommand, GetParametersByPathCommand, type SSMClient } from "@aws-sdk/client-ssm";
import type { Octokit } from "@octokit/core";
import { TAG } from "../../contract/names.js";
import type { InstanceState, ReaperInstance, ReaperParameter, ReaperRunner } from "./decide.js";

/** Instance states the reaper looks at: live ones, and recently gone ones (EC2 shows those for about an hour). */
export const SNAPSHOT_STATES: InstanceState[] = ["pending", "running", "shutting-down", "terminated"];

export interface StackInstance extends ReaperInstance {
  /** `cirunners:repository` tag ("owner/name"). */
  repository?: string;
  /** Carries `TAG.warm` = "true" (started by the warm pool). */
  warm: boolean;
}

/**
 * Our stack's instances in the given states: one DescribeInstances, followed through its pages, filtered
 * server-side by the stack tag so the answer does not grow with other workloads in the account.
 */
export async function describeStackInstances(
  ec2: EC2Client,
  stack: string,
  states: InstanceState[] = SNAPSHOT_STATES,
  extraFilters: Filter[] = [],
): Promise<StackInstance[]> {
  const instances: StackInstance[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${TAG.stack}`, Values: [stack] },
          { Name: "instance-state-name", Values: states },
          ...extraFilters,
        ],
        MaxResults: 1000,
        NextToken: nextToken,
      }),
    );
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        if (!instance.InstanceId || !instance.LaunchTime || !instance.State?.Name) continue;
        const tags = new Map((instance.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
        instances.push({
          instanceId: instance.InstanceId,
          state: instance.State.Name as InstanceState,
          launchTime: new Date(instance.LaunchTime),
          ...(tags.get(TAG.pool) ? { pool: tags.get(TAG.pool) } : {}),
          ...(tags.get(TAG.runnerName) ? { runnerName: tags.get(TAG.runnerName) } : {}),
          ...(tags.get(TAG.repository) ? { repository: tags.get(TAG.repository) } : {}),
          warm: tags.get(TAG.warm) === "true",
        });
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return instances;
}

/** Just-in-time parameters under the prefix (names only: values are never decrypted here). */
export async function listRunnerParameters(ssm: SSMClient, prefix: string): Promise<ReaperParameter[]> {
  const path = prefix.replace(/\/+$/, "");
  const parameters: ReaperParameter[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(
      new GetParametersByPathCommand({
        Path: path,
        Recursive: false,
        WithDecryption: false,
        MaxResults: 10,
        NextToken: nextToken,
      }),
    );
    for (const parameter of page.Parameters ?? []) {
      if (!parameter.Name) continue;
      const instanceId = parameter.Name.slice(path.length + 1);
      if (!/^i-[0-9a-f]+$/.test(instanceId)) continue; // not a per-instance JIT config: not ours to delete
      parameters.push({
        name: parameter.Name,
        instanceId,
        lastModified: parameter.LastModifiedDate ? new Date(parameter.LastModifiedDate) : new Date(0),
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return parameters;
}

/** Deletes parameters, 10 per call (SSM's limit). Returns the names SSM deleted or no longer had. */
export async function deleteRunnerParameters(ssm: SSMClient, names: string[]): Promise<string[]> {
  const done: string[] = [];
  for (let i = 0; i < names.length; i += 10) {
    const batch = names.slice(i, i + 10);
    const result = await ssm.send(new DeleteParametersCommand({ Names: batch }));
    done.push(...(result.DeletedParameters ?? []), ...(result.InvalidParameters ?? []));
  }
  return done;
}

/** Terminates instances in one call; returns the ids EC2 accepted. */
export async function terminateInstances(ec2: EC2Client, instanceIds: string[]): Promise<string[]> {
  if (instanceIds.length === 0) return [];
  const result = await ec2.send(new TerminateInstancesCommand({ InstanceIds: instanceIds }));
  return (result.TerminatingInstances ?? []).map((i) => i.InstanceId).filter((id): id is string => Boolean(id));
}

/** Where runners are registered: the organization, or each repository (repo scope). */
export type RunnerLocation = { kind: "org"; org: string } | { kind: "repo"; owner: string; repo: string };

export function runnerLocations(
  scope: "org" | "repo",
  owner: string,
  repositories: Iterable<string>,
): RunnerLocation[] {
  if (scope === "org") return [{ kind: "org", org: owner }];
  const seen = new Set<string>();
  const locations: RunnerLocation[] = [];
  for (const full of repositories) {
    const [repoOwner, repo] = full.split("/");
    if (!repoOwner || !repo || repoOwner.toLowerCase() !== owner.toLowerCase()) continue;
    const key = full.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    locations.push({ kind: "repo", owner: repoOwner, repo });
  }
  return locations;
}

interface RunnerListPage {
  total_count: number;
  runners: { id: number; name: string; status: string; busy: boolean }[];
}

const PER_PAGE = 100;

/** Every self-hosted runner at the locations, following the pages. */
export async function listRunners(octokit: Octokit, locations: RunnerLocation[]): Promise<ReaperRunner[]> {
  const all: ReaperRunner[] = [];
  for (const location of locations) {
    for (let page = 1; ; page++) {
      const response =
        location.kind === "org"
          ? await octokit.request("GET /orgs/{org}/actions/runners", { org: location.org, per_page: PER_PAGE, page })
          : await octokit.request("GET /repos/{owner}/{repo}/actions/runners", {
              owner: location.owner,
              repo: location.repo,
              per_page: PER_PAGE,
              page,
            });
      const data = response.data as RunnerListPage;
      for (const runner of data.runners) {
        all.push({
          id: runner.id,
          name: runner.name,
          status: runner.status,
          busy: runner.busy,
          ...(location.kind === "repo" ? { repository: `${location.owner}/${location.repo}` } : {}),
        });
      }
      if (data.runners.length < PER_PAGE || page * PER_PAGE >= data.total_count) break;
    }
  }
  return all;
}

/**
 * Removes a runner from GitHub. True when it is gone (204, or 404: already removed); false when GitHub refuses
 * (422: the runner is running a job). Other errors are thrown.
 */
export async function deleteRunner(
  octokit: Octokit,
  scope: "org" | "repo",
  owner: string,
  runner: { runnerId: number; repository?: string },
): Promise<boolean> {
  try {
    if (scope === "org") {
      await octokit.request("DELETE /orgs/{org}/actions/runners/{runner_id}", {
        org: owner,
        runner_id: runner.runnerId,
      });
    } else {
      const [repoOwner, repo] = (runner.repository ?? "").split("/");
      if (!repoOwner || !repo)
        throw new Error(`runner ${runner.runnerId} has no repository to remove it from (repo scope)`);
      await octokit.request("DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}", {
        owner: repoOwner,
        repo,
        runner_id: runner.runnerId,
      });
    }
    return true;
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    if (status === 404) return true;
    if (status === 422) return false;
    throw error;
  }
}
