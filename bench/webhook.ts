/**
 * The webhook function alone, as Lambda runs it (not a test): `npx tsx bench/webhook.ts [--runs 20]
 * [--deliveries 3000] [--variants deployed,runtime-sdk,cjs-sdk] [--root DIR]`
 *
 *  - its bundle: bytes raw and gzip, and bytes per package from esbuild's metafile, built with the options
 *    `bundleFunction` deploys (`BUNDLE_OPTIONS`, program/shared/lambda.ts);
 *  - its cold start: a fresh `node` process imports the bundle (index.mjs) and answers its first request, a signed
 *    `queued` delivery that matches a pool (so the first request reads the secret from SSM and sends to SQS);
 *    median of `--runs` processes per variant, variants interleaved, with the split load / first request;
 *  - its warm latency: one process answers `--deliveries` deliveries one after the other (60 % queued and
 *    matching a pool, 20 % queued for labels no pool has, 20 % in_progress / completed), p50 and p99.
 *
 * AWS is a stub on loopback (this process): SQS SendMessage, SSM GetParameter, DynamoDB PutItem / UpdateItem /
 * TransactWriteItems answered as the SDK expects, so the times are the function's, not an emulator's.
 *
 * Variants: `deployed` (BUNDLE_OPTIONS); `runtime-sdk` (`@aws-sdk/*` and `@smithy/*` external, loaded at cold start
 * from node_modules as Lambda's nodejs22.x loads them from /var/runtime/node_modules); `cjs-sdk` (esbuild's default
 * mainFields for node, i.e. the AWS SDK's CommonJS builds: the options before issue 17). `--root` measures a
 * patched copy of the repository (contract/ and runtime/ changes tried outside the working tree).
 */
import { execFile } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { ENV } from "../contract/names";
import { BUNDLE_OPTIONS, REPO_ROOT } from "../program/shared/lambda";
import { signBody } from "../simulation/deliveries";
import { workflowJobPayload } from "../testkit/github/payloads";

export const VARIANTS = {
  deployed: { description: "deployed options (BUNDLE_OPTIONS)", options: {}, runtimeSdk: false },
  "runtime-sdk": {
    description: "AWS SDK from the Lambda runtime (@aws-sdk/*, @smithy/* external)",
    options: { external: ["@aws-sdk/*", "@smithy/*"] },
    runtimeSdk: true,
  },
  "cjs-sdk": {
    description: "AWS SDK CommonJS builds (esbuild's default mainFields for node)",
    options: { mainFields: ["main", "module"] },
    runtimeSdk: false,
  },
} satisfies Record<string, { description: string; options: esbuild.BuildOptions; runtimeSdk: boolean }>;
export type VariantName = keyof typeof VARIANTS;

export interface Spread {
  median: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
  n: number;
}

export interface VariantResult {
  /** The variant's name, with `@<root>` when it was built from a patched copy. */
  variant: string;
  description: string;
  bytes: number;
  gzipBytes: number;
  /** Bytes in the output per npm package (or repository directory), largest first. */
  packages: Array<{ name: string; bytes: number }>;
  coldStartMs: { total: Spread; load: Spread; firstRequest: Spread };
  /** AWS calls of one cold start's first request, by action. */
  firstRequestCalls: Record<string, number>;
  warm: {
    deliveries: number;
    p50: number;
    /** Present only with at least 100 samples. */
    p99?: number;
    max: number;
    byKind: Record<string, { n: number; p50: number; p99?: number }>;
    statuses: Record<string, number>;
  };
}

export interface WebhookBenchResult {
  root: string;
  node: string;
  runs: number;
  variants: VariantResult[];
}

const r1 = (v: number) => Math.round(v * 10) / 10;
const r2 = (v: number) => Math.round(v * 100) / 100;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  return {
    median: r1(quantile(s, 0.5)),
    p10: r1(quantile(s, 0.1)),
    p90: r1(quantile(s, 0.9)),
    min: r1(s[0]),
    max: r1(s[s.length - 1]),
    n: s.length,
  };
}

/** Builds the webhook entry of `root` with the deployed options plus the variant's; returns code and metafile. */
export function buildWebhook(root: string, variant: VariantName): { code: string; metafile: esbuild.Metafile } {
  const entry = path.join(root, "runtime", "handlers", "webhook.ts");
  const result = esbuild.buildSync({
    ...BUNDLE_OPTIONS,
    ...VARIANTS[variant].options,
    entryPoints: { "runtime/handlers/webhook": entry },
    absWorkingDir: root,
    outdir: path.join(root, ".bundles"),
    metafile: true,
  });
  const [file] = result.outputFiles ?? [];
  if (!file || !result.metafile) throw new Error("esbuild produced no webhook bundle");
  return { code: file.text, metafile: result.metafile };
}

/** Bytes in the output per npm package (scope included) or, for our own code, per top-level directory. */
export function bytesPerPackage(metafile: esbuild.Metafile): Array<{ name: string; bytes: number }> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs))
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const inModules = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
      const name = inModules ? inModules[1] : file.split("/").slice(0, 2).join("/");
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

// ---- AWS on loopback ---------------------------------------------------------------------------------------

interface AwsStub {
  url: string;
  secret: string;
  calls: Map<string, number>;
  close(): Promise<void>;
}

/** Answers the JSON-protocol calls the webhook makes (x-amz-target), with the fields the SDK checks. */
async function startAwsStub(secret: string): Promise<AwsStub> {
  const calls = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? "");
      const action = target.split(".").pop() ?? "";
      calls.set(target, (calls.get(target) ?? 0) + 1);
      const input = chunks.length
        ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>)
        : {};
      let status = 200;
      let body: unknown;
      if (target === "AmazonSQS.SendMessage") {
        body = {
          MessageId: randomUUID(),
          MD5OfMessageBody: createHash("md5")
            .update(String(input.MessageBody ?? ""), "utf8")
            .digest("hex"),
          SequenceNumber: "1",
        };
      } else if (target === "AmazonSSM.GetParameter") {
        body = { Parameter: { Name: input.Name, Type: "SecureString", Value: secret, Version: 1 } };
      } else if (
        target.startsWith("DynamoDB_20120810.") &&
        /^(PutItem|UpdateItem|TransactWriteItems|GetItem)$/.test(action)
      ) {
        body = {};
      } else {
        status = 400;
        body = { __type: "UnknownOperationException", message: `stub does not answer ${target}` };
      }
      const text = JSON.stringify(body);
      res.writeHead(status, {
        "content-type": target.startsWith("DynamoDB") ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1",
        "content-length": Buffer.byteLength(text),
        "x-amzn-requestid": randomUUID(),
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    secret,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- deliveries ----------------------------------------------------------------------------------------------

const POOL_LABELS = ["self-hosted", "linux", "x64"];
const OWNER = "acme-platform";

interface BenchEvent {
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

function webhookEnvironment(stub: AwsStub): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    [ENV.pools]: JSON.stringify([
      { name: "linux-x64", labels: POOL_LABELS, instanceTypes: ["m7i.large"], architecture: "x64", maxRunners: 50 },
    ]),
    [ENV.jobQueueUrl]: `${stub.url}/000000000000/cirunners-jobs-bench.fifo`,
    [ENV.webhookSecretParameter]: "/cirunners/bench/webhook-secret",
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
const MEASURE = `import { readFileSync, writeFileSync } from "node:fs";
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

interface ChildResult {
  status: number;
  body?: string;
  load: number;
  first: number;
  samples?: Array<[string, number, number]>;
}

async function runChild(dir: string, mode: "cold" | "warm", env: Record<string, string>): Promise<ChildResult> {
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

export interface WebhookBenchOptions {
  /** Repository root whose runtime/ and contract/ are bundled (default: this repository). */
  root?: string;
  /** Fresh processes per variant for the cold start (default 20). */
  runs?: number;
  /** Deliveries of the warm mix (default 3000). */
  deliveries?: number;
  /** Variants, each optionally `@<root>` (a patched copy): `deployed`, `deployed@/tmp/patched`. */
  variants?: string[];
  log?: (line: string) => void;
}

export async function benchWebhook(options: WebhookBenchOptions = {}): Promise<WebhookBenchResult> {
  const root = path.resolve(options.root ?? REPO_ROOT);
  const runs = options.runs ?? 20;
  const deliveries = options.deliveries ?? 3000;
  const specs = (options.variants ?? ["deployed", "runtime-sdk", "cjs-sdk"]).map((spec) => {
    const [name, at] = spec.split("@") as [VariantName, string | undefined];
    if (!(name in VARIANTS)) throw new Error(`unknown variant ${name}: ${Object.keys(VARIANTS).join(", ")}`);
    return { label: spec, name, root: at ? path.resolve(at) : root };
  });
  const log = options.log ?? (() => undefined);
  const stub = await startAwsStub("bench-webhook-secret-0123456789abcdefghij");
  const work = mkdtempSync(path.join(tmpdir(), "cirunners-webhook-bench-"));
  try {
    const env = webhookEnvironment(stub);
    const firstEvent = deliveryMix(stub.secret, 1, 1)[0];
    if (firstEvent.kind !== "queued-match") throw new Error("the first delivery must be a queued job for a pool");
    const mix = deliveryMix(stub.secret, deliveries);
    const built = specs.map(({ label, name, root: from }, index) => {
      const { code, metafile } = buildWebhook(from, name);
      const dir = path.join(work, String(index));
      mkdirSync(dir);
      writeFileSync(path.join(dir, "index.mjs"), code);
      writeFileSync(path.join(dir, "measure.mjs"), MEASURE);
      writeFileSync(path.join(dir, "first.json"), JSON.stringify(firstEvent.event));
      writeFileSync(path.join(dir, "events.json"), JSON.stringify(mix));
      // Lambda resolves the runtime's SDK from /var/runtime/node_modules; here, the repository's node_modules.
      if (VARIANTS[name].runtimeSdk) symlinkSync(path.join(from, "node_modules"), path.join(dir, "node_modules"));
      const result = {
        name,
        label,
        dir,
        bytes: Buffer.byteLength(code),
        gzipBytes: gzipSync(code, { level: 9 }).length,
        packages: bytesPerPackage(metafile),
        cold: [] as ChildResult[],
        firstRequestCalls: {} as Record<string, number>,
      };
      log(`${label}: ${result.bytes} bytes, ${result.gzipBytes} gzip`);
      return result;
    });
    // One untimed process per variant first (file cache), then the runs interleaved across variants.
    for (const b of built) await runChild(b.dir, "cold", env);
    for (let i = 0; i < runs; i++)
      for (const b of i % 2 ? [...built].reverse() : built) {
        stub.calls.clear();
        const result = await runChild(b.dir, "cold", env);
        if (result.status !== 202)
          throw new Error(`${b.label}: the first request was answered ${result.status} ${result.body}`);
        b.firstRequestCalls = Object.fromEntries(stub.calls);
        b.cold.push(result);
      }
    log(`cold starts done (${runs} per variant)`);
    const variants: VariantResult[] = [];
    for (const b of built) {
      const warm = await runChild(b.dir, "warm", env);
      const samples = warm.samples ?? [];
      const statuses: Record<string, number> = {};
      const byKind = new Map<string, number[]>();
      for (const [kind, ms, status] of samples) {
        statuses[`${kind} ${status}`] = (statuses[`${kind} ${status}`] ?? 0) + 1;
        byKind.set(kind, [...(byKind.get(kind) ?? []), ms]);
      }
      const all = samples.map(([, ms]) => ms).sort((a, c) => a - c);
      const stats = (sorted: number[]) => ({
        n: sorted.length,
        p50: r2(quantile(sorted, 0.5)),
        ...(sorted.length >= 100 ? { p99: r2(quantile(sorted, 0.99)) } : {}),
      });
      variants.push({
        variant: b.label,
        description: `${VARIANTS[b.name].description}${b.label.includes("@") ? `, ${b.label.split("@")[1]}` : ""}`,
        bytes: b.bytes,
        gzipBytes: b.gzipBytes,
        packages: b.packages,
        coldStartMs: {
          total: spread(b.cold.map((c) => c.load + c.first)),
          load: spread(b.cold.map((c) => c.load)),
          firstRequest: spread(b.cold.map((c) => c.first)),
        },
        firstRequestCalls: b.firstRequestCalls,
        warm: {
          deliveries: all.length,
          ...stats(all),
          max: r2(all[all.length - 1] ?? 0),
          byKind: Object.fromEntries([...byKind].map(([kind, ms]) => [kind, stats(ms.sort((a, c) => a - c))])),
          statuses,
        },
      });
      log(`${b.label}: warm mix done`);
    }
    return { root, node: process.version, runs, variants };
  } finally {
    await stub.close();
    rmSync(work, { recursive: true, force: true });
  }
}

const fmt = (s: Spread) => `${s.median} ms (p10–p90 ${s.p10}–${s.p90}, min–max ${s.min}–${s.max}, n=${s.n})`;
const warmText = (w: VariantResult["warm"]) =>
  w.p99 === undefined ? `p50 ${w.p50} ms, max of ${w.deliveries} ${w.max} ms` : `p50 ${w.p50} / p99 ${w.p99} ms`;

/** Rows for bench/results/latest.md (`| measurement | value |`). */
export function webhookMarkdownRows(result: WebhookBenchResult): string[] {
  return result.variants.flatMap((v) => [
    `| webhook bundle, ${v.description} | ${v.bytes} bytes, ${v.gzipBytes} gzip |`,
    `| webhook cold start, ${v.variant} (fresh node ${result.node}: load + first request, median of ${v.coldStartMs.total.n}) | ${v.coldStartMs.total.median} ms = load ${v.coldStartMs.load.median} + first request ${v.coldStartMs.firstRequest.median} (total p10–p90 ${v.coldStartMs.total.p10}–${v.coldStartMs.total.p90} ms) |`,
    `| webhook handler alone, warm, ${v.variant}: ${v.warm.deliveries} deliveries (60 % pool, 20 % no pool, 20 % in_progress/completed) | ${warmText(v.warm)} |`,
  ]);
}

export function webhookReport(result: WebhookBenchResult): string {
  const lines = [`node ${result.node}, root ${result.root}`, ""];
  for (const v of result.variants) {
    lines.push(
      `== ${v.variant}: ${v.description}`,
      `bundle: ${v.bytes} bytes, ${v.gzipBytes} gzip`,
      `cold start (load + first request): ${fmt(v.coldStartMs.total)}`,
      `  load: ${fmt(v.coldStartMs.load)}`,
      `  first request: ${fmt(v.coldStartMs.firstRequest)}; its AWS calls: ${Object.entries(v.firstRequestCalls)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")}`,
      `warm, ${v.warm.deliveries} deliveries: ${warmText(v.warm)}, max ${v.warm.max} ms; ${Object.entries(v.warm.byKind)
        .map(([k, s]) => `${k} (${s.n}): p50 ${s.p50}${s.p99 === undefined ? "" : ` / p99 ${s.p99}`} ms`)
        .join("; ")}`,
      `  answers: ${Object.entries(v.warm.statuses)
        .map(([k, n]) => `${k}: ${n}`)
        .join(", ")}`,
      `largest packages: ${v.packages
        .slice(0, 12)
        .map((p) => `${p.name} ${p.bytes}`)
        .join(", ")}`,
      "",
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "20" },
      deliveries: { type: "string", default: "3000" },
      variants: { type: "string", default: "deployed,runtime-sdk,cjs-sdk" },
      root: { type: "string" },
      json: { type: "string" },
    },
    strict: true,
  });
  const variants = values.variants.split(",").map((v) => v.trim());
  const result = await benchWebhook({
    root: values.root,
    runs: Number(values.runs),
    deliveries: Number(values.deliveries),
    variants,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(webhookReport(result));
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(2);
    },
  );
}
