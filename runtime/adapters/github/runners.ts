/**
 * Self-hosted runner calls, for organization and repository targets alike (routes from the contract's
 * `runnersPath`; request and response fields from GitHub's OpenAPI description in @octokit/openapi:
 * `actions/list-self-hosted-runners-for-org` (with its `name` filter), `actions/delete-self-hosted-runner-from-org`,
 * `actions/generate-runner-jitconfig-for-org` and their repository forms).
 */
import { type RunnerTarget, runnersPath } from "../../../contract/runner-target.js";
import type { GitHubClient } from "./app-auth.js";
import { statusOf } from "./errors.js";

/** One self-hosted runner as the list returns it. */
export interface GitHubRunner {
  id: number;
  name: string;
  /** "online" or "offline". */
  status: string;
  busy: boolean;
}

/** Every self-hosted runner at the target, through Octokit's paginate (100 a page, GitHub's maximum). */
export async function listRunners(client: GitHubClient, target: RunnerTarget): Promise<GitHubRunner[]> {
  const runners = (await client.paginate(`GET ${runnersPath(target)}`, { per_page: 100 })) as GitHubRunner[];
  return runners.map(({ id, name, status, busy }) => ({ id, name, status, busy }));
}

/**
 * The runner of that exact name at the target, or undefined when GitHub has none. The list route takes a `name`
 * filter (`actions/list-self-hosted-runners-for-org` and its repository form, query parameter `name`): one request
 * that does not depend on page boundaries, which shift while ephemeral runners come and go.
 */
export async function findRunnerByName(
  client: GitHubClient,
  target: RunnerTarget,
  name: string,
): Promise<GitHubRunner | undefined> {
  const response = await client.request(`GET ${runnersPath(target)}`, { name, per_page: 100 });
  const found = (response.data as { runners: GitHubRunner[] }).runners.find((runner) => runner.name === name);
  return found && { id: found.id, name: found.name, status: found.status, busy: found.busy };
}

/**
 * Removes a runner. True when it is gone (204, or 404: already removed); false when GitHub refuses (422: the
 * runner is running a job). Other errors are thrown.
 */
export async function deleteRunner(client: GitHubClient, target: RunnerTarget, runnerId: number): Promise<boolean> {
  try {
    await client.request(`DELETE ${runnersPath(target)}/{runner_id}`, { runner_id: runnerId });
    return true;
  } catch (error) {
    const status = statusOf(error);
    if (status === 404) return true;
    if (status === 422) return false;
    throw error;
  }
}

export interface JitConfigRequest {
  name: string;
  runnerGroupId: number;
  labels: string[];
}

export interface JitConfig {
  runnerId: number;
  encodedJitConfig: string;
}

/** A just-in-time runner registration: the runner exists (offline) on GitHub once this returns. */
export async function generateJitConfig(
  client: GitHubClient,
  target: RunnerTarget,
  request: JitConfigRequest,
): Promise<JitConfig> {
  const response = await client.request(`POST ${runnersPath(target)}/generate-jitconfig`, {
    name: request.name,
    runner_group_id: request.runnerGroupId,
    labels: request.labels,
    work_folder: "_work",
  });
  const data = response.data as { runner?: { id?: number }; encoded_jit_config?: string };
  if (typeof data.runner?.id !== "number" || typeof data.encoded_jit_config !== "string")
    throw new Error(`generate-jitconfig answered without runner.id or encoded_jit_config for ${request.name}`);
  return { runnerId: data.runner.id, encodedJitConfig: data.encoded_jit_config };
}
