/**
 * The webhook function alone, as Lambda runs it (not a test): `npx tsx bench/webhook.ts [--runs 20]
 * [--deliveries 3000] [--variants deployed,runtime-sdk,cjs-sdk] [--root DIR]`
 *
 *  - its archive, built as deployed (`bundleArchive`, program/shared/bundle.ts): index.mjs and its chunks, bytes
 *    raw and gzip (each file gzipped alone and summed, as a zip archive compresses them), and its cold path: the
 *    files a fresh process loaded until it answered its first request, recorded by a module hook
 *    (webhook-loaded-hooks.mjs) in an untimed run, with their bytes and their bytes per package (esbuild's metafile);
 *  - its cold start: a fresh `node` process imports the archive (index.mjs) and answers its first request, a signed
 *    `queued` delivery that matches a pool (so the first request reads the secret from Secrets Manager and sends to SQS);
 *    median of `--runs` processes per variant, variants interleaved, with the split load / first request;
 *  - its warm latency: one process answers `--deliveries` deliveries one after the other (60 % queued and
 *    matching a pool, 20 % queued for labels no pool has, 20 % in_progress / completed), p50 and p99.
 *
 * AWS is a stub on loopback (this process): SQS SendMessage, Secrets Manager GetSecretValue, DynamoDB PutItem / UpdateItem /
 * TransactWriteItems answered as the SDK expects, so the times are the function's, not an emulator's.
 *
 * Variants: `deployed` (BUNDLE_OPTIONS); `single-file` (no code splitting: one index.mjs); `runtime-sdk` (`@aws-sdk/*` and `@smithy/*` external, loaded at cold start
 * from node_modules as Lambda's nodejs22.x loads them from /var/runtime/node_modules); `cjs-sdk` (esbuild's default
 * mainFields for node, i.e. the AWS SDK's CommonJS builds); `credential-chain` (no alias: the SDK's whole default
 * credential chain, as before issue 17; `credential-chain@<copy of an older commit>` measures that commit as it was
 * deployed). `--root` measures a
 * patched copy of the repository (contract/ and runtime/ changes tried outside the working tree).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ARCHIVE_ENTRY, REPO_ROOT } from "../program/shared/bundle";
import { startAwsStub } from "./webhook-aws-stub";
import { buildWebhook, bytesPerPackage, VARIANTS, type VariantName } from "./webhook-build";
import {
  archiveFilesLoaded,
  type FileBytes,
  fileBytes,
  fileBytesText,
  recordingEnvironment,
} from "./webhook-cold-path";
import { type ChildResult, deliveryMix, MEASURE, runChild, webhookEnvironment } from "./webhook-child";

export { VARIANTS, type VariantName } from "./webhook-build";

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
  /** Every file of the archive. */
  archive: FileBytes;
  /** The files a fresh process loaded until its first answer (entry first, in load order). */
  coldPath: FileBytes;
  /** Bytes in the archive per npm package (or repository directory), largest first. */
  packages: Array<{ name: string; bytes: number }>;
  /** The same in the cold path's files. */
  coldPathPackages: Array<{ name: string; bytes: number }>;
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
    // The builds run concurrently (esbuild's service); directories and log lines follow the variants' order.
    const bundles = await Promise.all(specs.map(({ name, root: from }) => buildWebhook(from, name)));
    const built = specs.map(({ label, name, root: from }, index) => {
      const { files, metafile } = bundles[index];
      const dir = path.join(work, String(index));
      mkdirSync(dir);
      for (const [file, code] of Object.entries(files)) writeFileSync(path.join(dir, file), code);
      writeFileSync(path.join(dir, "measure.mjs"), MEASURE);
      writeFileSync(path.join(dir, "first.json"), JSON.stringify(firstEvent.event));
      writeFileSync(path.join(dir, "events.json"), JSON.stringify(mix));
      // Lambda resolves the runtime's SDK from /var/runtime/node_modules; here, the repository's node_modules.
      if (VARIANTS[name].runtimeSdk) symlinkSync(path.join(from, "node_modules"), path.join(dir, "node_modules"));
      const result = {
        name,
        label,
        dir,
        files,
        metafile,
        archive: fileBytes(files, Object.keys(files)),
        cold: [] as ChildResult[],
        firstRequestCalls: {} as Record<string, number>,
      };
      log(
        `${label}: ${result.archive.files.length} files, ${result.archive.bytes} bytes, ${result.archive.gzipBytes} gzip`,
      );
      return result;
    });
    // One untimed process per variant first (file cache), with the module hook that records the cold path; then
    // the timed runs, without it, interleaved across variants.
    const coldPaths = new Map<string, string[]>();
    for (const b of built) {
      const record = path.join(b.dir, "loaded.json");
      await runChild(b.dir, "cold", { ...env, ...recordingEnvironment(record) });
      const loaded = archiveFilesLoaded(b.dir, b.files, JSON.parse(readFileSync(record, "utf8")));
      if (loaded[0] !== ARCHIVE_ENTRY)
        throw new Error(`${b.label}: the recorded cold path does not start at ${ARCHIVE_ENTRY}`);
      coldPaths.set(b.label, loaded);
      log(`${b.label}: cold path ${loaded.join(", ")}`);
    }
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
        archive: b.archive,
        coldPath: fileBytes(b.files, coldPaths.get(b.label) ?? []),
        packages: bytesPerPackage(b.metafile, new Set(b.archive.files)),
        coldPathPackages: bytesPerPackage(b.metafile, new Set(coldPaths.get(b.label))),
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

/** The 12 largest packages, "name bytes, …". */
const largest = (packages: VariantResult["packages"]) =>
  packages
    .slice(0, 12)
    .map((p) => `${p.name} ${p.bytes}`)
    .join(", ");

/** Rows for bench/results/latest.md (`| measurement | value |`). */
export function webhookMarkdownRows(result: WebhookBenchResult): string[] {
  return result.variants.flatMap((v) => [
    `| webhook archive, ${v.description} | ${fileBytesText(v.archive)} |`,
    `| webhook cold path (files loaded until the first answer), ${v.variant} | ${fileBytesText(v.coldPath)} |`,
    `| webhook cold start, ${v.variant} (fresh node ${result.node}: load + first request, median of ${v.coldStartMs.total.n}) | ${v.coldStartMs.total.median} ms = load ${v.coldStartMs.load.median} + first request ${v.coldStartMs.firstRequest.median} (total p10–p90 ${v.coldStartMs.total.p10}–${v.coldStartMs.total.p90} ms) |`,
    `| webhook handler alone, warm, ${v.variant}: ${v.warm.deliveries} deliveries (60 % pool, 20 % no pool, 20 % in_progress/completed) | ${warmText(v.warm)} |`,
  ]);
}

export function webhookReport(result: WebhookBenchResult): string {
  const lines = [`node ${result.node}, root ${result.root}`, ""];
  for (const v of result.variants) {
    lines.push(
      `== ${v.variant}: ${v.description}`,
      `archive: ${fileBytesText(v.archive)}`,
      `cold path (files loaded until the first answer): ${fileBytesText(v.coldPath)}`,
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
      `largest packages, archive: ${largest(v.packages)}`,
      `largest packages, cold path: ${largest(v.coldPathPackages)}`,
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
