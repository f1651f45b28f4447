/**
 * Where runners are registered — an organization, or one repository — and the GitHub REST routes that follow
 * from it. One definition for the launcher, the reaper, the warm pool, the runner cache and the GitHub stand-in.
 *
 * Routes are from GitHub's OpenAPI description (@octokit/openapi, api.github.com):
 * - `GET /orgs/{org}/installation`, `GET /repos/{owner}/{repo}/installation`: the App's installation. The
 *   `/users/{username}/installation` route answers only for user accounts, so repo scope must use the repository
 *   route: it works whether a user or an organization owns the repository.
 * - `.../actions/runners`, `.../actions/runners/{runner_id}`, `.../actions/runners/generate-jitconfig`.
 */
export type RunnerScope = "org" | "repo";

export type RunnerTarget = { kind: "org"; org: string } | { kind: "repo"; owner: string; repo: string };

/** The target a job's runner registers with: the owner in org scope, the job's repository in repo scope. */
export function runnerTargetFor(scope: RunnerScope, owner: string, repository: string): RunnerTarget {
  if (scope === "org") return { kind: "org", org: owner };
  const [repoOwner, repo] = splitRepository(repository);
  return { kind: "repo", owner: repoOwner, repo };
}

/** Every target a stack owns: its organization, or each configured repository of its owner. */
export function runnerTargetsOf(scope: RunnerScope, owner: string, repositories: readonly string[]): RunnerTarget[] {
  if (scope === "org") return [{ kind: "org", org: owner }];
  return repositories.map((name) => ({
    kind: "repo",
    owner,
    repo: name.includes("/") ? splitRepository(name)[1] : name,
  }));
}

/** `owner/name` split in two; throws on anything else. */
export function splitRepository(repository: string): [string, string] {
  const parts = repository.split("/");
  if (parts.length !== 2 || !parts[0] || !parts[1])
    throw new Error(`expected "owner/name", got ${JSON.stringify(repository)}`);
  return [parts[0], parts[1]];
}

/** A stable key for caches and logs: `org:acme` or `repo:acme/app`. */
export function targetKey(target: RunnerTarget): string {
  return target.kind === "org" ? `org:${target.org}` : `repo:${target.owner}/${target.repo}`;
}

/** The REST path that names the App's installation for this target (see the module comment). */
export function installationPath(target: RunnerTarget): string {
  return target.kind === "org"
    ? `/orgs/${encodeURIComponent(target.org)}/installation`
    : `/repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(target.repo)}/installation`;
}

/** The REST path of the target's self-hosted runners; append `/{runner_id}` or `/generate-jitconfig`. */
export function runnersPath(target: RunnerTarget): string {
  return target.kind === "org"
    ? `/orgs/${encodeURIComponent(target.org)}/actions/runners`
    : `/repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(target.repo)}/actions/runners`;
}
