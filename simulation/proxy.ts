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
 * DynamoDB writes reach moto one at a time per item (dynamodb-write-order.ts), as DynamoDB applies them; writes to
 * different items, and all reads, still run concurrently.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { DynamoDbWriteOrder } from "./dynamodb-write-order";

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
  const writeOrder = new DynamoDbWriteOrder();

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
      const release = await writeOrder.acquire(req, call.action, body, to);
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
