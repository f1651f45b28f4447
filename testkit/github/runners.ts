/**
 * Self-hosted runner routes (`/orgs/{org}/actions/runners...` and `/repos/{owner}/{repo}/actions/runners...`) as
 * GitHub answers them: just-in-time registration with GitHub's request checks, page-based lists with a Link header,
 * one runner, deletion (refused while the runner is busy).
 */
import { randomBytes } from "node:crypto";
import type { RunnerTarget } from "../../contract/runner-target";
import { requireOwnAccount } from "./auth";
import type { RouteContext, RouteHandler, RouteRequest } from "./context";
import { example } from "./examples";
import { HttpFailure, type RouteResult } from "./http";
import type { StandInRunner } from "./state";

/** Labels GitHub gives every runner of the platform (type "read-only"); the others are "custom". */
const READ_ONLY_LABELS = new Set(["self-hosted", "linux", "x64", "arm64", "macos", "windows"]);

export function runnerBody(runner: StandInRunner, context: RouteContext) {
  return Object.assign(example<Record<string, unknown>>("runner"), {
    id: runner.id,
    runner_group_id: runner.runnerGroupId,
    name: runner.name,
    os: runner.os,
    status: runner.status,
    busy: runner.busy,
    ephemeral: runner.ephemeral,
    version: runner.status === "online" ? context.release.release.version : null,
    labels: runner.labels.map((name, i) => ({
      id: runner.id * 100 + i,
      name,
      type: READ_ONLY_LABELS.has(name.toLowerCase()) ? "read-only" : "custom",
    })),
  });
}

/** The org target of an org route: only organizations have organization runners. */
function orgTarget(request: RouteRequest, context: RouteContext): RunnerTarget {
  const { org } = request.params;
  requireOwnAccount(request.caller, org, context.state);
  if (context.state.account(org)?.type !== "Organization") throw new HttpFailure(404, "Not Found");
  return { kind: "org", org };
}

function repoTarget(request: RouteRequest, context: RouteContext): RunnerTarget {
  const { owner, repo } = request.params;
  requireOwnAccount(request.caller, owner, context.state);
  return { kind: "repo", owner, repo };
}

type TargetOf = typeof orgTarget;

function jitConfigProblems(input: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (typeof input.name !== "string" || input.name.length === 0) problems.push("name is required");
  if (!Number.isInteger(input.runner_group_id)) problems.push("runner_group_id must be an integer");
  const labels = input.labels;
  if (!Array.isArray(labels) || labels.length === 0 || labels.length > 100 || labels.some((l) => typeof l !== "string"))
    problems.push("labels must be 1 to 100 strings");
  if (input.work_folder !== undefined && typeof input.work_folder !== "string")
    problems.push("work_folder must be a string");
  return problems;
}

const generateJitConfig =
  (targetOf: TargetOf): RouteHandler =>
  (request, context) => {
    const target = targetOf(request, context);
    const input = (request.body ?? {}) as Record<string, unknown>;
    const problems = jitConfigProblems(input);
    if (problems.length) throw new HttpFailure(422, `Invalid request.\n\n${problems.join("\n")}`);
    const name = input.name as string;
    if (context.state.runnersAt(target).some((r) => r.name.toLowerCase() === name.toLowerCase()))
      throw new HttpFailure(409, `Already exists - A runner with the name ${name} already exists.`);
    const runner = context.state.register({
      name,
      target,
      runnerGroupId: input.runner_group_id as number,
      labels: input.labels as string[],
      os: "unknown",
      status: "offline",
      busy: false,
      ephemeral: true,
      workFolder: (input.work_folder as string | undefined) ?? "_work",
    });
    context.jobs.registered(runner);
    runner.encodedJitConfig = Buffer.from(
      JSON.stringify({ runner: name, id: runner.id, scope: runner.scope, nonce: randomBytes(12).toString("hex") }),
    ).toString("base64");
    return {
      status: 201,
      body: { runner: runnerBody(runner, context), encoded_jit_config: runner.encodedJitConfig },
    };
  };

const listRunners =
  (targetOf: TargetOf): RouteHandler =>
  (request, context): RouteResult => {
    const { query, path } = request;
    const perPage = Math.min(Math.max(Number(query.get("per_page") ?? 30) || 30, 1), 100);
    const page = Math.max(Number(query.get("page") ?? 1) || 1, 1);
    const name = query.get("name");
    const all = context.state.runnersAt(targetOf(request, context)).filter((r) => !name || r.name === name);
    const slice = all.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    const lastPage = Math.max(1, Math.ceil(all.length / perPage));
    if (page < lastPage) {
      const link = (p: number) => `<${context.baseUrl}${path}?per_page=${perPage}&page=${p}>`;
      headers.link = `${link(page + 1)}; rel="next", ${link(lastPage)}; rel="last"`;
    }
    return {
      status: 200,
      body: { total_count: all.length, runners: slice.map((r) => runnerBody(r, context)) },
      headers,
    };
  };

function findRunner(targetOf: TargetOf, request: RouteRequest, context: RouteContext): StandInRunner {
  const runner = context.state.runnerAt(targetOf(request, context), Number(request.params.runner_id));
  if (!runner) throw new HttpFailure(404, "Not Found");
  return runner;
}

const getRunner =
  (targetOf: TargetOf): RouteHandler =>
  (request, context) => ({ status: 200, body: runnerBody(findRunner(targetOf, request, context), context) });

const deleteRunner =
  (targetOf: TargetOf): RouteHandler =>
  (request, context) => {
    const runner = findRunner(targetOf, request, context);
    if (runner.busy) throw new HttpFailure(422, `Bad request - Runner "${runner.name}" is still running a job"`);
    context.jobs.remove(runner.id);
    return { status: 204 };
  };

export const RUNNER_HANDLERS = {
  orgJitConfig: generateJitConfig(orgTarget),
  repoJitConfig: generateJitConfig(repoTarget),
  orgListRunners: listRunners(orgTarget),
  repoListRunners: listRunners(repoTarget),
  orgGetRunner: getRunner(orgTarget),
  repoGetRunner: getRunner(repoTarget),
  orgDeleteRunner: deleteRunner(orgTarget),
  repoDeleteRunner: deleteRunner(repoTarget),
} satisfies Record<string, RouteHandler>;
