/**
 * A small local stand-in for GitHub's webhook delivery routes (the shared stand-in in testkit/github does not
 * serve them yet), with just enough App auth for `GitHubApp`: installation lookup and installation tokens.
 *
 * Deliveries follow GitHub's OpenAPI description (`orgs/list-webhook-deliveries`, `repos/list-webhook-deliveries`,
 * `.../redeliver-webhook-delivery`): newest first, `per_page` (default 30, at most 100), cursor pagination with the
 * next page's `cursor` in the `link` header, 202 for a redelivery, which becomes a new delivery with the same guid.
 */
import { createServer } from "node:http";
import { GitHubApp } from "../../../../runtime/adapters/github/app-auth.js";
import { appPrivateKey } from "../../github/fixture.js";

export interface FixtureDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
}

export interface HookFixture {
  url: string;
  /** Deliveries per hook path (e.g. "/orgs/acme/hooks/7"), in creation order. */
  deliveries: Map<string, FixtureDelivery[]>;
  /** Status the webhook answers redeliveries with (0: no answer). */
  webhookStatus: number;
  /** Every request as "METHOD path?query". */
  requests: string[];
  /** Adds a delivery of `guid` to a hook, `minutesAgo` before now. */
  deliver(hook: string, guid: string, statusCode: number, minutesAgo: number, redelivery?: boolean): FixtureDelivery;
  stop(): Promise<void>;
}

const HOOK = /^(\/(?:orgs\/[^/]+|repos\/[^/]+\/[^/]+)\/hooks\/\d+)\/deliveries(?:\/(\d+)\/attempts)?$/;

export async function startHookFixture(installationId = 77): Promise<HookFixture> {
  let nextId = 1;
  const fixture = {
    deliveries: new Map<string, FixtureDelivery[]>(),
    webhookStatus: 200,
    requests: [] as string[],
  };
  const deliver = (hook: string, guid: string, statusCode: number, minutesAgo: number, redelivery = false) => {
    const delivery: FixtureDelivery = {
      id: nextId++,
      guid,
      delivered_at: new Date(Date.now() - minutesAgo * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
      redelivery,
      duration: 0.1,
      status: statusCode === 0 ? "timed out" : statusCode < 400 ? "OK" : `Invalid HTTP Response: ${statusCode}`,
      status_code: statusCode,
      event: "workflow_job",
      action: "queued",
      installation_id: null,
      repository_id: 1,
    };
    const list = fixture.deliveries.get(hook) ?? [];
    list.push(delivery);
    fixture.deliveries.set(hook, list);
    return delivery;
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    fixture.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (/^\/(orgs\/[^/]+|repos\/[^/]+\/[^/]+)\/installation$/.test(url.pathname))
      return json(200, { id: installationId });
    if (url.pathname === `/app/installations/${installationId}/access_tokens`)
      return json(201, { token: "ghs_fixture", expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    const match = HOOK.exec(url.pathname);
    const list = match ? fixture.deliveries.get(match[1]) : undefined;
    if (!match || !list) return json(404, { message: "Not Found" });
    if (match[2] !== undefined) {
      const original = list.find((d) => d.id === Number(match[2]));
      if (req.method !== "POST" || !original) return json(404, { message: "Not Found" });
      deliver(match[1], original.guid, fixture.webhookStatus, 0, true);
      return json(202, {});
    }
    const newestFirst = [...list].reverse();
    const perPage = Math.min(Number(url.searchParams.get("per_page") ?? 30), 100);
    const cursor = url.searchParams.get("cursor");
    const start = cursor ? newestFirst.findIndex((d) => d.id === Number(cursor)) : 0;
    const page = newestFirst.slice(start, start + perPage);
    const next = newestFirst[start + perPage];
    const headers: Record<string, string> = next
      ? { link: `<${baseUrl}${match[1]}/deliveries?per_page=${perPage}&cursor=${next.id}>; rel="next"` }
      : {};
    return json(200, page, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("hook fixture got no port");
  const baseUrl = `http://127.0.0.1:${address.port}`;
  return Object.assign(fixture, {
    url: baseUrl,
    deliver,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  });
}

/** A container's GitHub App pointed at the fixture, its key in memory. */
export function fixtureApp(url: string): GitHubApp {
  return new GitHubApp({ appId: 1, baseUrl: url, privateKey: async () => appPrivateKey() });
}
