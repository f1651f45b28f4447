/**
 * Benchmarks of the runner pipeline (not a test): `npm run bench [-- --jobs N] [--stack prod] [--preview-runs 3]`
 *
 *  - jobs through the full local pipeline (bench/pipeline.ts): a paced phase at a rate the local emulator sustains
 *    (the latency the design adds: delivery → CreateFleet) and a burst of N jobs (throughput, GitHub calls per job,
 *    EC2 calls per launch batch), with moto's own SendMessage latency as the floor under the burst;
 *  - the webhook bundle (bundleFunction) size and its cold start in a fresh Node process;
 *  - the offline preview time of the prod stack (`npx tsx tools/preview.ts --stack prod --json`, median);
 *  - policy evaluation throughput (bench/policy.ts).
 * Writes bench/results/latest.json and bench/results/latest.md and prints the table.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { benchLedgerBurst, type LedgerBurstResult } from "../simulation/ledger-burst";
import { benchPipelineBurst, percentiles, type BurstResult } from "./pipeline";
import { benchPackColdStart, benchPolicyEvaluation } from "./policy";

const ROOT = path.resolve(__dirname, "..");

/** What the peer designs in NOTES.md cost (the comparison column). */
const PEER = {
  queueDelaySeconds: 30,
  /** A fresh installation token per invocation plus the runner registration call. */
  gitHubCallsPerJob: 2,
};

function timePreview(runs: number): { medianSeconds: number; runs: number[] } {
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const run = spawnSync("npx", ["tsx", "tools/preview.ts", "--stack", "prod", "--json"], {
      cwd: ROOT,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      timeout: 300_000,
    });
    const elapsed = (performance.now() - started) / 1000;
    if (run.status !== 0 && run.status !== 1)
      throw new Error(`offline preview of prod failed (exit ${run.status}): ${run.stderr.slice(-2000)}`);
    seconds.push(Math.round(elapsed * 100) / 100);
  }
  return { medianSeconds: percentiles(seconds).p50, runs: seconds };
}

interface Target {
  name: string;
  ours: string;
  peer: string;
  target: string;
  pass: boolean;
}

function targets(burst: BurstResult): Target[] {
  return [
    {
      name: "added queue delay",
      ours: `${burst.queue.delaySeconds} s (queue delaySeconds), batching window ${burst.queue.maximumBatchingWindowInSeconds} s`,
      peer: `${PEER.queueDelaySeconds} s`,
      target: "0 s",
      pass: burst.queue.zeroAddedDelay,
    },
    {
      name: `delivery → CreateFleet p99 (${burst.paced.perSecond} jobs/s)`,
      ours: `${burst.paced.deliveryToCreateFleetMs.p99} ms (p50 ${burst.paced.deliveryToCreateFleetMs.p50} ms, ${burst.paced.launched} jobs)`,
      peer: `≥ ${PEER.queueDelaySeconds * 1000} ms (queue delay alone)`,
      target: "< 1000 ms",
      pass: burst.paced.launched > 0 && burst.paced.deliveryToCreateFleetMs.p99 < 1000,
    },
    {
      name: "GitHub calls per job (steady state)",
      ours: `${burst.github.callsPerJob} (generate-jitconfig ${burst.github.jitConfigPerJob}/job; ${burst.github.tokenMints} token mints in the burst)`,
      peer: `${PEER.gitHubCallsPerJob} (token mint + registration per job)`,
      target: "≤ 1 + amortised token",
      pass: burst.github.jitConfigPerJob <= 1 && burst.github.tokenMints <= burst.github.launcherContainers,
    },
    {
      name: "EC2 launch calls per launch batch",
      ours: `${burst.ec2.createFleetPerLaunchBatch} CreateFleet (${burst.ec2.instancesPerCreateFleet} instances per call)`,
      peer: "1 RunInstances per job",
      target: "≤ 1",
      pass: burst.ec2.createFleetPerLaunchBatch <= 1,
    },
  ];
}

function markdown(result: {
  burst: BurstResult;
  preview: { medianSeconds: number };
  policy: Awaited<ReturnType<typeof benchPolicyEvaluation>>;
  command: string;
  at: string;
}): string {
  const { burst } = result;
  const lines = [
    `Command: \`${result.command}\` (${result.at}, stack ${burst.stack}, ${burst.jobs} jobs, ${burst.launched} launched)`,
    "",
    "| target | ours | peer design | target | result |",
    "|---|---|---|---|---|",
    ...targets(burst).map((t) => `| ${t.name} | ${t.ours} | ${t.peer} | ${t.target} | ${t.pass ? "PASS" : "FAIL"} |`),
    "",
    "| measurement | value |",
    "|---|---|",
    `| burst: webhook handler latency p50 / p99 | ${burst.webhook.handlerMs.p50} / ${burst.webhook.handlerMs.p99} ms |`,
    `| burst: webhook HTTP round trip p50 / p99 | ${burst.webhook.roundTripMs.p50} / ${burst.webhook.roundTripMs.p99} ms |`,
    `| burst: webhook throughput | ${burst.webhook.requestsPerSecond} requests/s (${burst.webhook.concurrentRequests} concurrent) |`,
    `| delivery → CreateFleet in the burst, p50 / p99 / max | ${burst.deliveryToCreateFleetMs.p50} / ${burst.deliveryToCreateFleetMs.p99} / ${burst.deliveryToCreateFleetMs.max} ms (moto-bound, see the floor) |`,
    `| moto's own FIFO SendMessage at ${burst.emulatorFloor.concurrent} concurrent (the floor) | p50 ${burst.emulatorFloor.sendMessageMs.p50} / p99 ${burst.emulatorFloor.sendMessageMs.p99} ms |`,
    `| paced phase (${burst.paced.jobs} jobs at ${burst.paced.perSecond}/s): webhook handler p50 / p99 | ${burst.paced.handlerMs.p50} / ${burst.paced.handlerMs.p99} ms |`,
    `| all EC2 calls per launch batch | ${burst.ec2.callsPerLaunchBatch}: ${Object.entries(burst.ec2.perLaunchBatch)
      .map(([k, n]) => `${k.replace("ec2:", "")} ${n}`)
      .join(", ")} (CreateTags: the per-job tags of multi-job fleets; DescribeInstances: capacity, cached 15 s) |`,
    `| GitHub calls in the burst | ${Object.entries(burst.github.byRoute)
      .map(([k, n]) => `${k}: ${n}`)
      .join("; ")} |`,
    `| launcher | ${burst.launcher.invocations} invocations (${burst.launcher.coldStarts} cold), ${burst.github.launcherContainers} containers, ${burst.launcher.returnedMessages} messages returned |`,
    `| EC2 calls of the launcher | ${Object.entries(burst.ec2.byAction)
      .map(([k, n]) => `${k.replace("ec2:", "")} ${n}`)
      .join(", ")} over ${burst.ec2.launchBatches} launch batches (${burst.ec2.sqsBatches} SQS batches) |`,
    `| webhook bundle | ${burst.bundle.bytes} bytes, ${burst.bundle.gzipBytes} gzip |`,
    `| webhook cold start (fresh node) | ${burst.coldStartMs.total} ms = load ${burst.coldStartMs.moduleLoad} + first request ${burst.coldStartMs.firstRequest} (median of ${burst.coldStartMs.runs}) |`,
    `| offline preview, prod stack | ${result.preview.medianSeconds} s (median of 3, \`npx tsx tools/preview.ts --stack prod --json\`) |`,
    ...result.policy.map(
      (p) =>
        `| policy evaluation, ${p.size} resources | ${p.resourcesPerSecond} resources/s warm (${p.seconds} s, median of ${p.warmRuns}); first run ${p.firstRunResourcesPerSecond} resources/s (${p.firstRunSeconds} s) |`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

/** Issue 12's burst: jobs lost and duplicate runners must be 0. */
function ledgerMarkdown(ledger: LedgerBurstResult): string {
  const s = ledger.summary;
  const c = ledger.callsPerJob;
  return [
    "",
    `Ledger burst: ${ledger.jobs} jobs, ${ledger.cancelled} cancelled before they started, ${ledger.fewerLabels} asking for fewer labels than their pool (${ledger.simulatedMinutes} simulated minutes, ${ledger.wallSeconds} s)`,
    "",
    "| measurement | value | target | result |",
    "|---|---|---|---|",
    `| jobs lost | ${s.jobsLost} of ${s.jobsSeen} (${s.jobsRun} run, ${s.jobsCancelled} cancelled) | 0 | ${s.jobsLost === 0 ? "PASS" : "FAIL"} |`,
    `| duplicate runners | ${s.duplicateRunners} | 0 | ${s.duplicateRunners === 0 ? "PASS" : "FAIL"} |`,
    `| idle runner-minutes | ${s.idleRunnerMinutes} (${s.idleRunnersLeft} idle runners left) | | |`,
    `| calls per job | DynamoDB ${c.dynamodb}, SQS ${c.sqs}, GitHub ${c.github}, EC2 ${c.ec2} | | |`,
    "",
  ].join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      jobs: { type: "string", default: "200" },
      stack: { type: "string", default: "prod" },
      "preview-runs": { type: "string", default: "3" },
    },
    strict: true,
  });
  const jobs = Number(values.jobs);
  const previewRuns = Number(values["preview-runs"]);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs must be a positive integer, got ${values.jobs}`);
  if (!Number.isInteger(previewRuns) || previewRuns < 1)
    throw new Error(`--preview-runs must be a positive integer, got ${values["preview-runs"]}`);
  const log = (line: string) => process.stderr.write(`${line}\n`);

  log(`== pipeline burst: ${jobs} jobs on stack ${values.stack}`);
  const burst = await benchPipelineBurst({
    stack: values.stack,
    jobs,
    log: (line) => (line.startsWith("  ") ? undefined : log(line)),
  });
  log(`== ledger burst: ${jobs} jobs, 10 % cancelled, 10 % asking for fewer labels than their pool`);
  const ledger = await benchLedgerBurst(values.stack, {
    jobs,
    log: (line) => (line.startsWith("  ") ? undefined : log(line)),
  });
  log(`== offline preview of prod (${previewRuns} runs)`);
  const preview = timePreview(previewRuns);
  log("== policy evaluation");
  const policy = await benchPolicyEvaluation([1000, 10000, 50000]);
  const { coldStartMs: policyColdStartMs } = await benchPackColdStart();
  log(`policy pack cold start (run-policy-pack, ts-node, empty cache): ${policyColdStartMs} ms`);

  const command = `npm run bench -- --jobs ${jobs}${values.stack === "prod" ? "" : ` --stack ${values.stack}`}`;
  const result = {
    command,
    at: new Date().toISOString(),
    burst,
    ledger,
    targets: targets(burst),
    preview,
    policy,
    peer: PEER,
  };
  const dir = path.join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
  const table = `${markdown(result)}${ledgerMarkdown(ledger)}`;
  writeFileSync(path.join(dir, "latest.md"), table);
  process.stdout.write(table);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
