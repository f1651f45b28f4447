/**
 * An API Gateway HTTP API emulator for the webhook route: each request becomes a payload 2.0 event (raw body,
 * header names lower-cased and repeated headers joined with commas, as API Gateway does), the function's result
 * becomes the response, a function error becomes API Gateway's 500. Requests to other routes get its 404.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { SIMULATION_ACCOUNT_ID } from "./callers";
import type { Delivery } from "./deliveries";
import type { InvocationResult } from "./functions";

/** Response header naming the endpoint's record of a request (its index in `records`). */
const RECORD_HEADER = "x-simulation-record";

export interface DeliveryRecord {
  name?: string;
  deliveryId?: string;
  status: number;
  responseBody: string;
  /** Epoch ms the request arrived / was answered. */
  receivedAt: number;
  answeredAt: number;
  /** Time inside the webhook handler. */
  handlerMs: number;
}

/** API Gateway HTTP API (payload format 2.0) event for a request. */
export function httpApiEvent(req: IncomingMessage, body: Buffer, routeKey: string): APIGatewayProxyEventV2 {
  // Node keeps every occurrence of a header under its lower-cased name; API Gateway joins them with commas.
  const headers = Object.fromEntries(Object.entries(req.headersDistinct).map(([name, all]) => [name, all?.join(",")]));
  const url = new URL(req.url ?? "/", "http://localhost");
  const now = new Date();
  return {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ""),
    headers,
    requestContext: {
      accountId: SIMULATION_ACCOUNT_ID,
      apiId: "simulation",
      domainName: headers.host ?? "127.0.0.1",
      domainPrefix: "simulation",
      http: {
        method: req.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomBytes(8).toString("hex"),
      routeKey,
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body: body.toString("utf8"),
    isBase64Encoded: false,
  };
}

export interface ApiGateway {
  /** The route's URL. */
  url: string;
  records: DeliveryRecord[];
  /** Requests being answered. */
  inFlight(): number;
  /** While set, every request is answered with this status and the function is not invoked (an outage). */
  setOutage(status: number | undefined): void;
  /** Sends one delivery exactly as given; resolves with its record. */
  deliver(delivery: Delivery): Promise<DeliveryRecord>;
  stop(): Promise<void>;
}

export async function startApiGateway(options: {
  /** e.g. "POST /github/webhook" */
  routeKey: string;
  invoke(event: APIGatewayProxyEventV2): Promise<InvocationResult<APIGatewayProxyStructuredResultV2>>;
  log(line: string): void;
}): Promise<ApiGateway> {
  const records: DeliveryRecord[] = [];
  let inFlight = 0;
  let outage: number | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      inFlight += 1;
      const receivedAt = Date.now();
      const delivery = req.headers["x-github-delivery"];
      const record: DeliveryRecord = {
        deliveryId: typeof delivery === "string" ? delivery : undefined,
        status: 500,
        responseBody: "",
        receivedAt,
        answeredAt: 0,
        handlerMs: 0,
      };
      try {
        if (outage !== undefined) {
          // What API Gateway answers when the integration is down or throttled: the function never runs.
          record.status = outage;
          record.responseBody = JSON.stringify({
            message: outage === 429 ? "Too Many Requests" : "Service Unavailable",
          });
          res.setHeader("content-type", "application/json");
        } else if (`${req.method} ${new URL(req.url ?? "/", "http://localhost").pathname}` !== options.routeKey) {
          record.status = 404;
          record.responseBody = JSON.stringify({ message: "Not Found" });
          res.setHeader("content-type", "application/json");
        } else {
          const invocation = await options.invoke(httpApiEvent(req, Buffer.concat(chunks), options.routeKey));
          const result = invocation.result;
          record.handlerMs = invocation.handlerMs;
          record.status = result.statusCode ?? 200;
          record.responseBody = result.isBase64Encoded
            ? Buffer.from(result.body ?? "", "base64").toString("utf8")
            : (result.body ?? "");
          for (const [header, value] of Object.entries(result.headers ?? {})) res.setHeader(header, String(value));
        }
      } catch (error) {
        record.status = 500;
        record.responseBody = JSON.stringify({ message: "Internal Server Error" });
        res.setHeader("content-type", "application/json");
        options.log(`  ! webhook function error: ${(error as Error).message}`);
      }
      record.answeredAt = Date.now();
      // The record is named in a response header: the request stays exactly as the sender made it.
      res.setHeader(RECORD_HEADER, String(records.push(record) - 1));
      res.writeHead(record.status);
      res.end(record.responseBody);
      inFlight -= 1;
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}${options.routeKey.split(" ")[1]}`;
  return {
    url,
    records,
    inFlight: () => inFlight,
    setOutage(status) {
      outage = status;
    },
    async deliver(delivery) {
      const response = await fetch(url, { method: "POST", headers: delivery.headers, body: delivery.body });
      await response.text();
      const record = records[Number(response.headers.get(RECORD_HEADER))];
      if (!record) throw new Error(`the webhook endpoint answered ${response.status} without a delivery record`);
      record.name = delivery.name;
      return record;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
