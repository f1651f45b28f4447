import "../tools/node-version";
/**
 * Benchmarks of the runner pipeline (not a test): `npm run bench [-- --jobs 200] [--stack prod] [--preview-runs 3]
 * [--webhook-runs 20] [--deliveries 3000]`. One run prints every figure of the README's table:
 *
 *  1. the webhook function alone (bench/webhook.ts): bundle bytes raw / gzip and per package, cold start in fresh
 *     `node` processes (median of --webhook-runs, load / first request, spread), warm p50 / p99 over the
 *     --deliveries mix, AWS stubbed on loopback;
 *  2. the pipeline burst (bench/pipeline.ts): a warm-up, a paced phase, then --jobs jobs at once, with SQS served by
 *     ElasticMQ (bench/sqs-emulator.ts, started here) and DynamoDB, EC2, SSM and S3 by a moto server each (one
 *     moto process serves one call at a time); as many webhook containers as requests in flight (Lambda scales
 *     out); delivery → CreateFleet, GitHub and EC2 calls, ElasticMQ's own SendMessage floor through the same proxy,
 *     and the burst's CPU by part (the functions' own threads, each emulator, the simulation) against the cores;
 *  3. the ledger burst (simulation/ledger-burst.ts, issue 12): --jobs jobs, 10 % cancelled, 10 % asking for fewer
 *     labels than their pool: jobs lost, duplicate runners, idle runner-minutes, calls per job;
 *  4. the offline preview of the prod stack (median of --preview-runs);
 *  5. policy evaluation throughput and the pack's cold start (bench/policy.ts).
 * Peers' figures come from bench/peers.ts, cited. Writes bench/results/latest.json and latest.md, prints the tables.
 * Exit 0 when the run completed (a target may FAIL: the table says so), 2 when it could not run; every server it
 * started is stopped on every path, Ctrl-C included.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { runLedgerBurst } from "../simulation/ledger-burst";
import { startPipeline } from "../simulation/pipeline";
import { median } from "./burst-measure";
import { BENCH_MOTO_PER_SERVICE, benchPipelineBurst } from "./pipeline";
import { benchPackColdStart, benchPolicyEvaluation } from "./policy";
import { type BenchResult, markdown, targets } from "./report";
import { startTracked, stopAllTracked, stoppingBySignal, stopOnSignals, track } from "./servers";
import { ELASTICMQ, startSqsEmulator } from "./sqs-emulator";
import { benchWebhook } from "./webhook";
import { PEERS } from "./peers";

const ROOT = path.resolve(__dirname, "..");

/** One offline preview of the prod stack in a child process (asynchronous, so a signal can stop it). */
function previewOnce(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("npx", ["tsx", "tools/preview.ts", "--stack", "prod", "--json"], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    const untrack = track(() => {
      child.kill("SIGTERM");
    });
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      untrack();
      // Exit 1: the preview ran and reported policy violations; still a complete preview.
      if (code === 0 || code === 1) resolve(Math.round(performance.now() - started) / 1000);
      else reject(new Error(`offline preview of prod failed (exit ${code}): ${stderr}`));
    });
  });
}

async function timePreview(runs: number): Promise<{ medianSeconds: number; runs: number[] }> {
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) seconds.push(Math.round((await previewOnce()) * 100) / 100);
  return { medianSeconds: median(seconds), runs: seconds };
}

function positiveInteger(name: string, value: string, minimum = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < minimum) throw new Error(`--${name} must be an integer ≥ ${minimum}, got ${value}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      jobs: { type: "string", default: "200" },
      stack: { type: "string", default: "prod" },
      "preview-runs": { type: "string", default: "3" },
      "webhook-runs": { type: "string", default: "20" },
      deliveries: { type: "string", default: "3000" },
    },
    strict: true,
  });
  const jobs = positiveInteger("jobs", values.jobs);
  const previewRuns = positiveInteger("preview-runs", values["preview-runs"]);
  const webhookRuns = positiveInteger("webhook-runs", values["webhook-runs"]);
  const deliveries = positiveInteger("deliveries", values.deliveries);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const quiet = (line: string) => (line.startsWith("  ") ? undefined : log(line));
  stopOnSignals(log);
  const wallSeconds: Record<string, number> = {};
  const began = performance.now();
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      wallSeconds[name] = Math.round((performance.now() - t0) / 1000);
      log(`   (${name}: ${wallSeconds[name]} s)`);
    }
  };

  try {
    log(`== webhook alone: bundle, cold start (${webhookRuns} fresh processes), warm mix of ${deliveries}`);
    const webhook = await timed("webhook", () =>
      benchWebhook({ runs: webhookRuns, deliveries, variants: ["deployed"], log }),
    );

    log(
      `== ElasticMQ ${ELASTICMQ.version} for SQS; in the burst a moto server each for ${BENCH_MOTO_PER_SERVICE.join(", ")}`,
    );
    const { value: sqs } = await startTracked(startSqsEmulator({ log }));

    log(`== pipeline burst: ${jobs} jobs on stack ${values.stack}`);
    const burst = await timed("burst", () =>
      benchPipelineBurst({ stack: values.stack, jobs, sqsEndpoint: sqs.endpoint, log: quiet }),
    );

    log(`== ledger burst: ${jobs} jobs, 10 % cancelled, 10 % asking for fewer labels than their pool`);
    const ledger = await timed("ledger", async () => {
      const { value: pipeline, stop } = await startTracked(
        startPipeline({ stack: values.stack, sqsEndpoint: sqs.endpoint, log: quiet }),
      );
      try {
        return await runLedgerBurst(pipeline, { jobs, log: quiet });
      } finally {
        await stop();
      }
    });
    await stopAllTracked(log);

    log(`== offline preview of prod (${previewRuns} runs)`);
    const preview = await timed("preview", () => timePreview(previewRuns));
    log("== policy evaluation and the pack's cold start");
    const { policy, policyPackColdStartMs } = await timed("policy", async () => ({
      policy: await benchPolicyEvaluation([1000, 10000, 50000]),
      policyPackColdStartMs: (await benchPackColdStart()).coldStartMs,
    }));
    wallSeconds.total = Math.round((performance.now() - began) / 1000);

    const defaults: Record<string, string> = {
      jobs: "200",
      stack: "prod",
      "preview-runs": "3",
      "webhook-runs": "20",
      deliveries: "3000",
    };
    const given = Object.entries(values)
      .filter(([k, v]) => defaults[k] !== undefined && String(v) !== defaults[k])
      .map(([k, v]) => `--${k} ${v}`);
    const command = `npm run bench${given.length ? ` -- ${given.join(" ")}` : ""}`;
    const result: BenchResult = {
      command,
      at: new Date().toISOString(),
      node: process.version,
      wallSeconds,
      sqsEmulator: `ElasticMQ ${ELASTICMQ.version}`,
      webhook,
      burst,
      ledger,
      preview,
      policy,
      policyPackColdStartMs,
    };
    const dir = path.join(ROOT, "bench", "results");
    mkdirSync(dir, { recursive: true });
    const table = markdown(result);
    writeFileSync(
      path.join(dir, "latest.json"),
      `${JSON.stringify({ ...result, targets: targets(result), peers: PEERS }, null, 2)}\n`,
    );
    writeFileSync(path.join(dir, "latest.md"), table);
    process.stdout.write(table);
    return 0;
  } finally {
    await stopAllTracked(log);
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    // Stopped by a signal: the handler stops what runs and exits 130; the error is the servers going away.
    if (stoppingBySignal()) return;
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
