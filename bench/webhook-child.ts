/**
 * The deliveries, environment and measuring child process of bench/webhook.ts: a fresh `node` process imports the
 * bundle (index.mjs), answers its first request (cold) and, in warm mode, every delivery of the mix in a row.
 */
import { randomUUID } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { ENV } from "../contract/names";
import { signBody } from "../simulation/deliveries";
import { workflowJobPayload } from "../testkit/github/payloads";
import { type AwsStub, BENCH_SECRET_ARN } from "./webhook-aws-stub";

const POOL_LABELS = ["self-hosted", "linux", "x64"];
const OWNER = "acme-platform";

export interface BenchEvent {
  kind: "queued-match" | "queued-no-pool" | "in-progress-or-completed";
  event: Record<string, unknown>;
}

function httpEvent(secret: string, payload: Record<string, unknown>): Record<string, unknown> {
  const body = JSON.stringify(payload);
  return {
    version: "2.0",
    routeKey: "POST /github/webhook",
    rawPath: "/github/webhook",
    rawQueryString: "",
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/bench",
      "x-github-event": "workflow_job",
      "x-github-delivery": randomUUID(),
      "x-github-hook-id": "1",
      "x-hub-signature-256": signBody(secret, body),
    },
    requestContext: { http: { method: "POST", path: "/github/webhook", sourceIp: "140.82.115.1" } },
    body,
    isBase64Encoded: false,
  };
}

/** The mix: 60 % queued for a pool, 20 % queued for labels no pool has, 20 % in_progress / completed; shuffled. */
export function deliveryMix(secret: string, count: number, firstJobId = 1_000_000): BenchEvent[] {
  const events: BenchEvent[] = [];
  for (let i = 0; i < count; i++) {
    const slot = i % 10;
    const jobId = firstJobId + i;
    const common = { jobId, owner: OWNER, repository: "orders-service", repositoryId: 4242 };
    if (slot < 6)
      events.push({
        kind: "queued-match",
        event: httpEvent(secret, workflowJobPayload({ ...common, labels: POOL_LABELS })),
      });
    else if (slot < 8)
      events.push({
        kind: "queued-no-pool",
        event: httpEvent(
          secret,
          workflowJobPayload({ ...common, labels: slot === 6 ? ["ubuntu-latest"] : ["self-hosted", "gpu"] }),
        ),
      });
    else
      events.push({
        kind: "in-progress-or-completed",
        event: httpEvent(
          secret,
          workflowJobPayload({ ...common, labels: POOL_LABELS, action: slot === 8 ? "in_progress" : "completed" }),
        ),
      });
  }
  // Deterministic shuffle (a linear congruential generator), so every run sends the same order.
  let seed = 17;
  for (let i = events.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [events[i], events[j]] = [events[j], events[i]];
  }
  return events;
}

export function webhookEnvironment(stub: AwsStub): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    [ENV.pools]: JSON.stringify([
      { name: "linux-x64", labels: POOL_LABELS, instanceTypes: ["m7i.large"], architecture: "x64", maxRunners: 50 },
    ]),
    [ENV.jobQueueUrl]: `${stub.url}/000000000000/cirunners-jobs-bench.fifo`,
    [ENV.webhookSecretArn]: BENCH_SECRET_ARN,
    [ENV.ledgerTable]: "cirunners-ledger-bench",
    [ENV.githubOwner]: OWNER,
    [ENV.runnerScope]: "org",
    [ENV.repositories]: "[]",
    // What Lambda sets in every container (credentials of the role come as environment variables).
    AWS_REGION: "eu-west-1",
    AWS_DEFAULT_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "ASIABENCHBENCHBENCH",
    AWS_SECRET_ACCESS_KEY: "bench-secret-access-key",
    AWS_SESSION_TOKEN: "bench-session-token",
    AWS_LAMBDA_FUNCTION_NAME: "webhook-bench",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "256",
    AWS_ENDPOINT_URL: stub.url,
    NODE_ENV: "production",
  };
}

const LAMBDA_CONTEXT = {
  awsRequestId: "bench",
  functionName: "webhook-bench",
  functionVersion: "$LATEST",
  memoryLimitInMB: "256",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:webhook-bench",
  logGroupName: "/aws/lambda/webhook-bench",
  logStreamName: "bench",
  getRemainingTimeInMillis: 5000,
};

/** The child: cold (import, first request) or warm (then every event of events.json). Writes result.json. */
export const MEASURE = `import { readFileSync, writeFileSync } from "node:fs";
const mode = process.argv[2];
const context = ${JSON.stringify(LAMBDA_CONTEXT)};
context.getRemainingTimeInMillis = () => 5000;
const first = JSON.parse(readFileSync(new URL("./first.json", import.meta.url), "utf8"));
const t0 = performance.now();
const { handler } = await import("./index.mjs");
const t1 = performance.now();
const answer = await handler(first, context);
const t2 = performance.now();
const out = { status: answer.statusCode, body: answer.body, load: t1 - t0, first: t2 - t1 };
if (mode === "warm") {
  const events = JSON.parse(readFileSync(new URL("./events.json", import.meta.url), "utf8"));
  out.samples = [];
  for (const { kind, event } of events) {
    const s = performance.now();
    const a = await handler(event, context);
    out.samples.push([kind, performance.now() - s, a.statusCode]);
  }
}
writeFileSync(new URL("./result-" + process.pid + ".json", import.meta.url), JSON.stringify(out));
process.exit(0);
`;

export interface ChildResult {
  status: number;
  body?: string;
  load: number;
  first: number;
  samples?: Array<[string, number, number]>;
}

export async function runChild(dir: string, mode: "cold" | "warm", env: Record<string, string>): Promise<ChildResult> {
  const child = execFile(process.execPath, [path.join(dir, "measure.mjs"), mode], {
    cwd: dir,
    env,
    timeout: 300_000,
    maxBuffer: 512 * 1024 * 1024,
  });
  const pid = child.pid;
  await new Promise<void>((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (c) => {
      stderr = (stderr + c).slice(-4000);
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`measurement process exited ${code}: ${stderr}`)),
    );
  });
  const file = path.join(dir, `result-${pid}.json`);
  const result = JSON.parse(readFileSync(file, "utf8")) as ChildResult;
  rmSync(file);
  return result;
}
