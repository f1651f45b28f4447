/** HTTP plumbing of the GitHub stand-in: the error GitHub answers with, and writing a response as GitHub does. */
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";

/** `documentation_url` of the stand-in's error bodies (GitHub links the route's page). */
export const DOCS = "https://docs.github.com/rest";

/** A response GitHub gives as `{ message, documentation_url }` with a status other than 2xx. */
export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** What a route answers: a JSON body (or none), extra headers, or raw bytes (asset downloads). */
export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  raw?: Buffer;
}

/** Writes a response with the headers every GitHub API response carries. */
export function send(res: ServerResponse, result: RouteResult): void {
  const common = {
    "x-github-request-id": randomBytes(8).toString("hex"),
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": "4999",
    ...result.headers,
  };
  if (result.raw) {
    res.writeHead(result.status, {
      "content-type": "application/octet-stream",
      "content-length": String(result.raw.length),
      ...common,
    });
    res.end(result.raw);
  } else if (result.body === undefined) {
    res.writeHead(result.status, common);
    res.end();
  } else {
    const text = JSON.stringify(result.body);
    res.writeHead(result.status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(Buffer.byteLength(text)),
      ...common,
    });
    res.end(text);
  }
}

/** The error body GitHub sends with a failure. */
export function failureResult(failure: HttpFailure): RouteResult {
  return {
    status: failure.status,
    body: { message: failure.message, documentation_url: DOCS },
    headers: failure.headers,
  };
}
