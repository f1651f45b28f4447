/**
 * The routes the stand-in serves, keyed in GitHub's OpenAPI path form (`@octokit/openapi`, api.github.com), each
 * with the credential it takes and its handler. Installation lookups follow the spec's descriptions: the user route
 * finds installations on user accounts, the organization route on organizations, the repository route on either.
 */
import { randomBytes } from "node:crypto";
import type { AuthKind } from "./auth";
import type { RouteContext, RouteHandler } from "./context";
import { example } from "./examples";
import { HttpFailure } from "./http";
import { HOOK_HANDLERS } from "./hook-routes";
import { RUNNER_HANDLERS } from "./runners";
import type { AccountType } from "./state";

/** Route keys, in the OpenAPI path form; use them with `calls` and `failNext`. */
export const ROUTES = {
  createInstallationToken: "POST /app/installations/{installation_id}/access_tokens",
  orgInstallation: "GET /orgs/{org}/installation",
  userInstallation: "GET /users/{username}/installation",
  repoInstallation: "GET /repos/{owner}/{repo}/installation",
  orgJitConfig: "POST /orgs/{org}/actions/runners/generate-jitconfig",
  repoJitConfig: "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig",
  orgListRunners: "GET /orgs/{org}/actions/runners",
  repoListRunners: "GET /repos/{owner}/{repo}/actions/runners",
  orgGetRunner: "GET /orgs/{org}/actions/runners/{runner_id}",
  repoGetRunner: "GET /repos/{owner}/{repo}/actions/runners/{runner_id}",
  orgDeleteRunner: "DELETE /orgs/{org}/actions/runners/{runner_id}",
  repoDeleteRunner: "DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}",
  orgHookDeliveries: "GET /orgs/{org}/hooks/{hook_id}/deliveries",
  orgHookDelivery: "GET /orgs/{org}/hooks/{hook_id}/deliveries/{delivery_id}",
  orgHookRedeliver: "POST /orgs/{org}/hooks/{hook_id}/deliveries/{delivery_id}/attempts",
  repoJob: "GET /repos/{owner}/{repo}/actions/jobs/{job_id}",
  latestRelease: "GET /repos/{owner}/{repo}/releases/latest",
  releaseAsset: "GET /repos/{owner}/{repo}/releases/assets/{asset_id}",
  /** Stand-in for github.com's `browser_download_url` (no API auth, like the real one). */
  assetDownload: "GET /_downloads/{owner}/{repo}/releases/download/{tag}/{name}",
} as const;

export type RouteName = keyof typeof ROUTES;
export type RouteKey = (typeof ROUTES)[RouteName];

const PERMISSIONS = { organization_self_hosted_runners: "write", administration: "write", metadata: "read" };

/** The installation on `login`, answered only when the account is of one of `types` (404 otherwise). */
function installation(login: string, types: readonly AccountType[], context: RouteContext) {
  const account = context.state.account(login);
  if (!account || account.installationId === undefined || !types.includes(account.type))
    throw new HttpFailure(404, "Not Found");
  const body = example<Record<string, unknown> & { account: Record<string, unknown> }>("installation");
  const accountPath = account.type === "User" ? "users" : "orgs";
  Object.assign(body.account, {
    login: account.login,
    url: `${context.baseUrl}/${accountPath}/${account.login}`,
    type: account.type,
  });
  return Object.assign(body, {
    id: account.installationId,
    app_id: context.app.appId,
    target_type: account.type,
    access_tokens_url: `${context.baseUrl}/app/installations/${account.installationId}/access_tokens`,
    permissions: PERMISSIONS,
    events: ["workflow_job"],
  });
}

/** Release routes serve actions/runner only. */
function requireRunnerRepository(params: Record<string, string>): void {
  if (`${params.owner}/${params.repo}`.toLowerCase() !== "actions/runner") throw new HttpFailure(404, "Not Found");
}

const createInstallationToken: RouteHandler = ({ params }, context) => {
  const installationId = Number(params.installation_id);
  if (!context.state.hasInstallation(installationId)) throw new HttpFailure(404, "Not Found");
  const token = `ghs_${randomBytes(18).toString("hex")}`;
  const expiresAt = context.state.now() + context.tokenLifetimeMs;
  context.state.tokens.set(token, { installationId, expiresAt });
  const response = example<Record<string, unknown>>("installation-token");
  delete response.repositories;
  return {
    status: 201,
    body: Object.assign(response, {
      token,
      expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
      permissions: PERMISSIONS,
      repository_selection: "all",
    }),
  };
};

const releaseAsset: RouteHandler = ({ params, accept }, context) => {
  requireRunnerRepository(params);
  const asset = context.release.assetById(params.asset_id);
  if (accept.includes("application/octet-stream"))
    return { status: 302, headers: { location: context.release.downloadUrl(context.baseUrl, asset) } };
  const index = context.release.release.assets.indexOf(asset);
  return { status: 200, body: context.release.body(context.baseUrl).assets[index] };
};

const assetDownload: RouteHandler = ({ params }, context) => {
  requireRunnerRepository(params);
  const asset = context.release.assetByDownload(params.tag, params.name);
  if (!asset) throw new HttpFailure(404, "Not Found");
  return { status: 200, raw: asset.content };
};

const HANDLERS: Record<RouteName, { auth: AuthKind; handle: RouteHandler }> = {
  createInstallationToken: { auth: "app", handle: createInstallationToken },
  orgInstallation: {
    auth: "app",
    handle: ({ params }, context) => ({ status: 200, body: installation(params.org, ["Organization"], context) }),
  },
  userInstallation: {
    auth: "app",
    handle: ({ params }, context) => ({ status: 200, body: installation(params.username, ["User"], context) }),
  },
  repoInstallation: {
    auth: "app",
    handle: ({ params }, context) => ({
      status: 200,
      body: installation(params.owner, ["User", "Organization"], context),
    }),
  },
  orgJitConfig: { auth: "installation", handle: RUNNER_HANDLERS.orgJitConfig },
  repoJitConfig: { auth: "installation", handle: RUNNER_HANDLERS.repoJitConfig },
  orgListRunners: { auth: "installation", handle: RUNNER_HANDLERS.orgListRunners },
  repoListRunners: { auth: "installation", handle: RUNNER_HANDLERS.repoListRunners },
  orgGetRunner: { auth: "installation", handle: RUNNER_HANDLERS.orgGetRunner },
  repoGetRunner: { auth: "installation", handle: RUNNER_HANDLERS.repoGetRunner },
  orgDeleteRunner: { auth: "installation", handle: RUNNER_HANDLERS.orgDeleteRunner },
  repoDeleteRunner: { auth: "installation", handle: RUNNER_HANDLERS.repoDeleteRunner },
  orgHookDeliveries: { auth: "installation", handle: HOOK_HANDLERS.orgHookDeliveries },
  orgHookDelivery: { auth: "installation", handle: HOOK_HANDLERS.orgHookDelivery },
  orgHookRedeliver: { auth: "installation", handle: HOOK_HANDLERS.orgHookRedeliver },
  repoJob: { auth: "installation", handle: HOOK_HANDLERS.repoJob },
  latestRelease: {
    auth: "optional",
    handle: ({ params }, context) => {
      requireRunnerRepository(params);
      return { status: 200, body: context.release.body(context.baseUrl) };
    },
  },
  releaseAsset: { auth: "optional", handle: releaseAsset },
  assetDownload: { auth: "none", handle: assetDownload },
};

export interface MatchedRoute {
  key: RouteKey;
  auth: AuthKind;
  handle: RouteHandler;
  params: Record<string, string>;
}

const COMPILED = (Object.keys(ROUTES) as RouteName[]).map((name) => {
  const [method, path] = ROUTES[name].split(" ");
  const names: string[] = [];
  const pattern = new RegExp(
    `^${path.replace(/\{([a-z_]+)\}/g, (_, param: string) => {
      names.push(param);
      return "([^/]+)";
    })}$`,
  );
  return { key: ROUTES[name], method, pattern, names, ...HANDLERS[name] };
});

/** The route a request names, with its path parameters, or undefined. */
export function matchRoute(method: string, pathname: string): MatchedRoute | undefined {
  for (const route of COMPILED) {
    const match = route.method === method ? route.pattern.exec(pathname) : null;
    if (match) {
      const params = Object.fromEntries(route.names.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
      return { key: route.key, auth: route.auth, handle: route.handle, params };
    }
  }
  return undefined;
}
