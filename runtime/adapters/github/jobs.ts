/**
 * A workflow job as GitHub reports it now: `actions/get-job-for-workflow-run`,
 * `GET /repos/{owner}/{repo}/actions/jobs/{job_id}` (GitHub's OpenAPI description in @octokit/openapi). `status` is
 * one of queued, in_progress, completed, waiting, requested, pending; `conclusion` (cancelled, failure, ...) is set
 * once completed; `runner_name` once a runner took it; `started_at` when it started (the schema requires it, so a
 * queued job has one too: the reconciler reads it only once a runner is named). App permission: repository "Actions: read".
 */
import { splitRepository } from "../../../contract/runner-target.js";
import type { GitHubJob } from "../../core/reconcile/plan.js";
import type { GitHubClient } from "./app-auth.js";
import { statusOf } from "./errors.js";

/** The job's current status, or undefined when GitHub no longer knows it (404: the run or repository is gone). */
export async function getJob(client: GitHubClient, repository: string, jobId: number): Promise<GitHubJob | undefined> {
  const [owner, repo] = splitRepository(repository);
  try {
    const { data } = await client.request("GET /repos/{owner}/{repo}/actions/jobs/{job_id}", {
      owner,
      repo,
      job_id: jobId,
    });
    return {
      status: data.status,
      conclusion: data.conclusion,
      runnerName: data.runner_name,
      // Required in the `job` schema (date-time); the reconciler reports QueueToStartSeconds from it.
      startedAt: data.started_at,
    };
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}
