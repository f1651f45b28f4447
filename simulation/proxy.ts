/**
 * A counting HTTP proxy in front of moto. Every simulated Lambda function (and the simulated instances) get
 * `AWS_ENDPOINT_URL` pointing here, so their AWS calls are counted without touching the function code.
 *
 * With `sqsTarget` (the benchmark's ElasticMQ), requests whose `X-Amz-Target` starts with `AmazonSQS.` go there and
 * everything else to moto; queue URLs in its answers are rewritten to name this proxy, so clients that send to a
 * queue URL (the SDK does) still come through here and every call is counted as before. With `serviceTargets`
 * (the benchmark's moto server per service, testkit/moto.ts `startMotoPerService`) a request signed for a named
 * service (the SigV4 credential scope: "dynamodb", "ec2", "ssm", "s3") goes to that service's server.
 *
 * Each request is recorded with the caller (the access key id in the SigV4 `Authorization` header: every
 * simulated function gets its own, like its own IAM role), the service and operation (`X-Amz-Target` for the
 * JSON protocols of SQS and SSM, the `Action` form field for EC2's query protocol, method + path for S3) and the
 * time it arrived. For EC2 `CreateFleet` the instance ids of the answer are kept too, which ties each instance
 * to the moment its fleet call was made (delivery → launch latency).
 *
 * DynamoDB writes reach moto one at a time per item (`ItemLocks`): DynamoDB serialises the writes to one item, so of
 * two conditional writes made from the same state exactly one lands, while moto checks and applies them without a
 * lock (two that arrive together can both land: 3 in 200 measured). Writes to different items, and all reads, still
 * run concurrently, so the simulation is neither kinder nor harsher than DynamoDB.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";

export interface AwsCall {
  /** Access key id of the caller (see `SIMULATION_CALLERS`). */
  caller: string;
  /** "ec2", "ssm", "sqs", "s3" (from the SigV4 credential scope). */
  service: string;
  /** API operation, e.g. "CreateFleet", "SendMessage", or "PUT /bucket/key" for S3. */
  action: string;
  /** Epoch ms when the request reached the proxy. */
  at: number;
  /** Epoch ms when the emulator's answer was complete. */
  doneAt?: number;
  status?: number;
  /** CreateFleet only: the instance ids in the answer. */
  instanceIds?: string[];
}

/** The DynamoDB operations that write items; each names the items it writes in its JSON body. */
const DYNAMODB_WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"]);
const DYNAMODB_TARGET = "DynamoDB_20120810.";

type AttributeValues = Record<string, unknown>;

/** One item's lock name: its table and its key attributes (sorted by name, so attribute order does not matter). */
export function itemLockName(table: string, key: AttributeValues): string {
  const names = Object.keys(key).sort();
  return JSON.stringify([table, ...names.map((name) => [name, key[name]])]);
}

/** The key of an item as a PutItem (or a put in a transaction or batch) writes it: its key attributes only. */
function keyOf(item: AttributeValues, keyNames: readonly string[]): AttributeValues {
  return Object.fromEntries(keyNames.map((name) => [name, item[name]]));
}

/** What a write touches: `key` for keyed requests, `item` (key names needed) for puts. */
interface Touch {
  table: string;
  key?: AttributeValues;
  item?: AttributeValues;
}

/** The items a DynamoDB write request touches (empty for anything else, or a body that does not parse). */
export function touchedItems(operation: string, body: string): Touch[] {
  let input: Record<string, unknown>;
  try {
    input = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return [];
  }
  const table = String(input.TableName ?? "");
  switch (operation) {
    case "UpdateItem":
    case "DeleteItem":
      return [{ table, key: input.Key as AttributeValues }];
    case "PutItem":
      return [{ table, item: input.Item as AttributeValues }];
    case "TransactWriteItems":
      return ((input.TransactItems ?? []) as Array<Record<string, Record<string, unknown>>>).flatMap(
        (entry): Touch[] => {
          const action = entry.Put ?? entry.Update ?? entry.Delete ?? entry.ConditionCheck;
          if (!action) return [];
          const name = String(action.TableName ?? "");
          return entry.Put
            ? [{ table: name, item: action.Item as AttributeValues }]
            : [{ table: name, key: action.Key as AttributeValues }];
        },
      );
    case "BatchWriteItem":
      return Object.entries(
        (input.RequestItems ?? {}) as Record<string, Array<Record<string, Record<string, unknown>>>>,
      ).flatMap(([name, requests]) =>
        requests.map((request) =>
          request.PutRequest
            ? { table: name, item: request.PutRequest.Item as AttributeValues }
            : { table: name, key: request.DeleteRequest?.Key as AttributeValues },
        ),
      );
    default:
      return [];
  }
}

/**
 * Per-name locks, each a promise chain: a holder waits for the one before it and releases the one after it. Several
 * names are taken in sorted order, so two requests that touch the same items cannot each hold one the other waits for.
 */
export class ItemLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Number of names locked or waited for now. */
  get size(): number {
    return this.tails.size;
  }

  async acquire(names: readonly string[]): Promise<() => void> {
    const releases: Array<() => void> = [];
    for (const name of [...new Set(names)].sort()) {
      const before = this.tails.get(name) ?? Promise.resolve();
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tail = before.then(() => held);
      this.tails.set(name, tail);
      releases.push(() => {
        release();
        if (this.tails.get(name) === tail) this.tails.delete(name);
      });
      await before;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const release of releases) release();
    };
  }
}

export interface CountingProxy {
  /** Base URL to use as AWS_ENDPOINT_URL. */
  url: string;
  calls: AwsCall[];
  /** Calls by `service:action`, optionally only those of one caller. */
  count(filter?: { caller?: string; since?: number }): Record<string, number>;
  stop(): Promise<void>;
}

const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/[^/]+\/([^/]+)\//;

/** Caller and service from a SigV4 Authorization header. */
function identify(req: IncomingMessage): { caller: string; service: string } {
  const match = CREDENTIAL.exec(String(req.headers.authorization ?? ""));
  return match ? { caller: match[1], service: match[2] } : { caller: "anonymous", service: "unknown" };
}

function operation(req: IncomingMessage, body: Buffer): string {
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") return target.slice(target.lastIndexOf(".") + 1);
  const url = new URL(req.url ?? "/", "http://proxy");
  const fromQuery = url.searchParams.get("Action");
  if (fromQuery) return fromQuery;
  if (String(req.headers["content-type"] ?? "").includes("application/x-www-form-urlencoded")) {
    const action = new URLSearchParams(body.toString("utf8")).get("Action");
    if (action) return action;
  }
  // S3 (REST): the method and the path name the operation well enough for counting.
  return `${req.method} ${url.pathname}`;
}

/**
 * moto stamps resources with real time; functions reading them live on the simulation clock (clock.ts). These
 * answers carry timestamps the functions compare with "now": EC2 `launchTime` (XML, ISO) and SSM
 * `LastModifiedDate` (JSON, epoch seconds). Each is mapped to the simulated time at which moto took it.
 */
export function toSimulatedTimestamps(
  action: string,
  payload: string,
  toSimulated: (realMs: number) => number,
): string {
  if (action === "DescribeInstances")
    return payload.replace(
      /<launchTime>([^<]+)<\/launchTime>/g,
      (_, iso: string) => `<launchTime>${new Date(toSimulated(Date.parse(iso))).toISOString()}</launchTime>`,
    );
  if (action === "GetParametersByPath" || action === "DescribeParameters" || action === "GetParameter")
    return payload.replace(
      /"LastModifiedDate":\s*([0-9.]+)/g,
      (_, seconds: string) => `"LastModifiedDate": ${toSimulated(Number(seconds) * 1000) / 1000}`,
    );
  return payload;
}

/** The key attribute names of a table, from the emulator's DescribeTable (the caller's headers sign it for moto). */
function describeKeyNames(to: URL, req: IncomingMessage, table: string): Promise<string[]> {
  const body = JSON.stringify({ TableName: table });
  const headers = {
    ...req.headers,
    "x-amz-target": `${DYNAMODB_TARGET}DescribeTable`,
    "content-length": String(Buffer.byteLength(body)),
  };
  return new Promise((resolve, reject) => {
    const ask = httpRequest({ host: to.hostname, port: to.port, method: "POST", path: "/", headers }, (answer) => {
      const parts: Buffer[] = [];
      answer.on("data", (chunk: Buffer) => parts.push(chunk));
      answer.on("error", reject);
      answer.on("end", () => {
        if (answer.statusCode !== 200) return reject(new Error(`DescribeTable ${table}: ${answer.statusCode}`));
        const described = JSON.parse(Buffer.concat(parts).toString("utf8")) as {
          Table?: { KeySchema?: Array<{ AttributeName: string }> };
        };
        const names = described.Table?.KeySchema?.map((k) => k.AttributeName) ?? [];
        if (names.length === 0) return reject(new Error(`DescribeTable ${table}: no key schema`));
        resolve(names);
      });
    });
    ask.on("error", reject);
    ask.end(body);
  });
}

/** Called when moto's answer to a call is complete, with the request body (JSON protocols carry the input). */
export type CallListener = (call: AwsCall, requestBody: string) => void;

/** Whether a request is an SQS call (the JSON protocol names it in X-Amz-Target). */
export function isSqsRequest(req: IncomingMessage): boolean {
  const target = req.headers["x-amz-target"];
  return typeof target === "string" && target.startsWith("AmazonSQS.");
}

export async function startCountingProxy(
  target: string,
  onCall?: CallListener,
  /** The simulation clock's mapping of real to simulated time (clock.ts); none: timestamps pass unchanged. */
  toSimulated?: (realMs: number) => number,
  /** Where SQS calls go instead of `target` (an SQS emulator such as ElasticMQ); none: moto serves SQS too. */
  sqsTarget?: string,
  /** Service (SigV4 signing name) → the server of its own; services not named go to `target`. */
  serviceTargets: Record<string, string> = {},
): Promise<CountingProxy> {
  const upstream = new URL(target);
  const serviceUpstreams = new Map(Object.entries(serviceTargets).map(([service, url]) => [service, new URL(url)]));
  const sqsUpstream = sqsTarget ? new URL(sqsTarget) : undefined;
  let ownOrigin = "";
  const calls: AwsCall[] = [];
  const locks = new ItemLocks();
  const keySchemas = new Map<string, Promise<string[]>>();

  /** A table's key attribute names, asked of the emulator once (DescribeTable, signed as the request that needs it). */
  function keyNamesOf(table: string, to: URL, req: IncomingMessage): Promise<string[]> {
    const cacheKey = `${to.origin} ${table}`;
    let names = keySchemas.get(cacheKey);
    if (!names) {
      names = describeKeyNames(to, req, table);
      keySchemas.set(cacheKey, names);
      names.catch(() => keySchemas.delete(cacheKey));
    }
    return names;
  }

  /** The lock names of the items a DynamoDB write touches (none for anything else). */
  async function lockNamesOf(req: IncomingMessage, action: string, body: Buffer, to: URL): Promise<string[]> {
    const target = req.headers["x-amz-target"];
    if (typeof target !== "string" || !target.startsWith(DYNAMODB_TARGET)) return [];
    if (action === "CreateTable" || action === "DeleteTable") {
      const table = String((JSON.parse(body.toString("utf8") || "{}") as { TableName?: unknown }).TableName ?? "");
      keySchemas.delete(`${to.origin} ${table}`);
      return [];
    }
    if (!DYNAMODB_WRITES.has(action)) return [];
    return Promise.all(
      touchedItems(action, body.toString("utf8")).map(async ({ table, key, item }) => {
        if (key) return itemLockName(table, key);
        // A table the emulator cannot describe: the write fails there anyway; the whole item names the lock.
        const names = await keyNamesOf(table, to, req).catch(() => undefined);
        return itemLockName(table, names ? keyOf(item ?? {}, names) : (item ?? {}));
      }),
    );
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      const { caller, service } = identify(req);
      const call: AwsCall = { caller, service, action: operation(req, body), at: Date.now() };
      calls.push(call);
      // The Host header is forwarded unchanged: moto builds queue URLs from it, so they point back at the proxy.
      // The SQS emulator builds them from its own address: they are rewritten below.
      const toSqs = sqsUpstream !== undefined && isSqsRequest(req);
      const to = toSqs ? sqsUpstream : (serviceUpstreams.get(service) ?? upstream);
      // Held until the emulator's answer is complete (or the request failed): DynamoDB's one write per item at a time.
      const release = await locks.acquire(await lockNamesOf(req, call.action, body, to).catch(() => []));
      const forward = httpRequest(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => parts.push(chunk));
          answer.on("error", release);
          answer.on("end", () => {
            let payload = Buffer.concat(parts);
            const headers = { ...answer.headers };
            if (toSqs) {
              const text = payload.toString("utf8");
              const mapped = text.replaceAll(sqsUpstream.origin, ownOrigin);
              if (mapped !== text) {
                payload = Buffer.from(mapped, "utf8");
                headers["content-length"] = String(payload.length);
              }
            } else if (toSimulated && answer.statusCode === 200) {
              const text = payload.toString("utf8");
              const mapped = toSimulatedTimestamps(call.action, text, toSimulated);
              if (mapped !== text) {
                payload = Buffer.from(mapped, "utf8");
                headers["content-length"] = String(payload.length);
              }
            }
            release();
            call.status = answer.statusCode;
            call.doneAt = Date.now();
            if (call.action === "CreateFleet")
              call.instanceIds = [...payload.toString("utf8").matchAll(/<item>(i-[0-9a-f]+)<\/item>/g)].map(
                (m) => m[1],
              );
            res.writeHead(answer.statusCode ?? 502, headers);
            res.end(payload);
            onCall?.(call, body.toString("utf8"));
          });
        },
      );
      forward.on("error", (error) => {
        release();
        call.status = 502;
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(`counting proxy could not reach ${toSqs ? "the SQS emulator" : "moto"}: ${error.message}`);
      });
      forward.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("counting proxy did not get a TCP port");
  ownOrigin = `http://127.0.0.1:${address.port}`;
  return {
    url: ownOrigin,
    calls,
    count(filter = {}) {
      const counts: Record<string, number> = {};
      for (const call of calls) {
        if (filter.caller !== undefined && call.caller !== filter.caller) continue;
        if (filter.since !== undefined && call.at < filter.since) continue;
        const key = `${call.service}:${call.action}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    },
    stop() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
