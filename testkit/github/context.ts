/** What every route handler of the stand-in is given. */
import type { AppIdentity, Caller } from "./auth";
import type { RouteResult } from "./http";
import type { JobBoard } from "./jobs";
import type { ReleaseCatalogue } from "./release";
import type { GitHubState } from "./state";

export interface RouteContext {
  state: GitHubState;
  /** Jobs, their assignment to runners, and the webhook's deliveries. */
  jobs: JobBoard;
  app: AppIdentity;
  release: ReleaseCatalogue;
  /** The stand-in's base URL (links in bodies and headers point back at it). */
  baseUrl: string;
  tokenLifetimeMs: number;
}

export interface RouteRequest {
  /** Path parameters by their OpenAPI names, URL-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  path: string;
  accept: string;
  body: unknown;
  caller: Caller;
}

export type RouteHandler = (request: RouteRequest, context: RouteContext) => RouteResult;
