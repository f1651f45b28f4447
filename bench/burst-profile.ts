/**
 * Where the pipeline burst's time goes (not a test, not part of `npm run bench`):
 *
 *   npx tsx bench/burst-profile.ts [--jobs 200] [--stack prod] [--webhook-concurrency 16]
 *     [--moto-per-service dynamodb,ec2,ssm,s3 | none] [--json out.json]
 *
 * Runs bench/pipeline.ts's phases (warm-up, paced, burst) with SQS on ElasticMQ and prints the burst's CPU by part
 * (bench/cpu.ts: the functions' own threads, the rest of this process, each emulator, other work on the machine).
 * Then, for the burst only: each emulator
 * call's latency by service and action (proxy.calls: arrival at the proxy → answer complete), and per job the
 * split of delivery → CreateFleet into waiting for a webhook container, the handler, the queue and the launcher.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startPipeline } from "../simulation/pipeline";
import { latencyText, percentiles } from "./burst-measure";
import { BENCH_MOTO_PER_SERVICE, measureBurst } from "./pipeline";
import { burstRows } from "./report";
import { startTracked, stopAllTracked, stopOnSignals } from "./servers";
import { startSqsEmulator } from "./sqs-emulator";

/** "none" or "" → one moto for everything; else the comma-separated services. */
function motoPerService(value: string): string[] {
  return value === "none" || value === "" ? [] : value.split(",");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      jobs: { type: "string", default: "200" },
      stack: { type: "string", default: "prod" },
      "webhook-concurrency": { type: "string", default: "16" },
      "moto-per-service": { type: "string", default: BENCH_MOTO_PER_SERVICE.join(",") },
      json: { type: "string" },
    },
  });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  stopOnSignals(log);
  const jobs = Number(values.jobs);
  try {
    const { value: sqs } = await startTracked(startSqsEmulator({ log }));
    const { value: pipeline } = await startTracked(
      startPipeline({
        stack: values.stack,
        sqsEndpoint: sqs.endpoint,
        webhookConcurrency: Number(values["webhook-concurrency"]),
        motoPerService: motoPerService(values["moto-per-service"]),
        log: (line) => (line.startsWith("  ") ? undefined : log(line)),
      }),
    );
    let burstStartedAt = 0;
    let burstEndedAt = 0;
    const options = {
      stack: values.stack,
      jobs,
      sqsEndpoint: sqs.endpoint,
      motoPerService: motoPerService(values["moto-per-service"]),
    };
    const result = await measureBurst(pipeline, options, (line) => {
      log(line);
      if (line.startsWith("measured burst:")) burstStartedAt = Date.now();
      if (line.startsWith("emulator floor:")) burstEndedAt = Date.now();
    });
    const { cpu } = result;
    const wallSeconds = cpu.wallSeconds;
    // Emulator calls of the burst: latency by service:action, and the number in flight at once.
    const calls = pipeline.proxy.calls.filter((c) => c.at >= burstStartedAt && c.at <= burstEndedAt && c.doneAt);
    const byAction = new Map<string, number[]>();
    for (const c of calls) {
      const key = `${c.service}:${c.action}`;
      byAction.set(key, [...(byAction.get(key) ?? []), (c.doneAt ?? c.at) - c.at]);
    }
    const events = calls.flatMap((c) => [
      { t: c.at, d: 1, s: c.service },
      { t: c.doneAt ?? c.at, d: -1, s: c.service },
    ]);
    events.sort((a, b) => a.t - b.t || a.d - b.d);
    const inFlight: Record<string, number> = {};
    const maxInFlight: Record<string, number> = {};
    for (const e of events) {
      inFlight[e.s] = (inFlight[e.s] ?? 0) + e.d;
      maxInFlight[e.s] = Math.max(maxInFlight[e.s] ?? 0, inFlight[e.s]);
    }
    // Per job: gateway wait, handler, answered → first receive, first receive → CreateFleet.
    const records = pipeline.deliveries.filter((r) => r.receivedAt >= burstStartedAt);
    const receivedBy = new Map<string, number>();
    for (const m of pipeline.messages.values())
      if (m.deliveryId)
        receivedBy.set(m.deliveryId, Math.min(m.firstReceivedAt, receivedBy.get(m.deliveryId) ?? Infinity));
    const gatewayWait = records.map((r) => r.answeredAt - r.receivedAt - r.handlerMs);
    const handler = records.map((r) => r.handlerMs);
    const toReceive = records.flatMap((r) => {
      const at = r.deliveryId ? receivedBy.get(r.deliveryId) : undefined;
      return at === undefined ? [] : [at - r.answeredAt];
    });
    const report = {
      jobs,
      wallSeconds,
      result,
      summary: {
        deliveryToCreateFleetMs: result.deliveryToCreateFleetMs,
        webhook: result.webhook,
        paced: result.paced.deliveryToCreateFleetMs,
        launcher: result.launcher,
      },
      cpu,
      callLatencyMs: Object.fromEntries(
        [...byAction].sort((a, b) => b[1].length - a[1].length).map(([k, v]) => [k, percentiles(v)]),
      ),
      maxInFlight,
      perJob: {
        gatewayWaitMs: percentiles(gatewayWait),
        handlerMs: percentiles(handler),
        answeredToFirstReceiveMs: percentiles(toReceive),
      },
    };
    log("");
    log(
      `webhook containers ${values["webhook-concurrency"]}, moto per service: ${values["moto-per-service"] || "none"}`,
    );
    log(`burst: ${jobs} jobs in ${wallSeconds} s (delivery of the first → idle)`);
    log(`delivery → CreateFleet: ${latencyText(result.deliveryToCreateFleetMs)}`);
    log(
      `webhook handler: ${latencyText(result.webhook.handlerMs)}; round trip ${latencyText(result.webhook.roundTripMs)}`,
    );
    log(`waiting for a webhook container: ${latencyText(report.perJob.gatewayWaitMs)}`);
    log(`answered → first receive by the event source: ${latencyText(report.perJob.answeredToFirstReceiveMs)}`);
    log(
      `CPU during the burst (${wallSeconds} s wall, arrivals over ${cpu.arrivalSeconds} s, ${cpu.cores} cores), seconds:`,
    );
    const parts = {
      webhook: cpu.seconds.webhook,
      launcher: cpu.seconds.launcher,
      simulation: cpu.seconds.simulation,
      ...cpu.seconds.emulators,
      other: cpu.seconds.other,
    };
    for (const [name, seconds] of Object.entries(parts))
      log(
        `  ${name}: ${seconds} s (${Math.round((seconds / wallSeconds) * 100) / 100} cores, ${Math.round((seconds * 1000) / jobs)} ms per job)`,
      );
    log("emulator calls in the burst (proxy arrival → answer):");
    for (const [k, p] of Object.entries(report.callLatencyMs)) log(`  ${k}: ${latencyText(p)}`);
    log(`most calls in flight at once, per service: ${JSON.stringify(maxInFlight)}`);
    log("");
    for (const row of burstRows(result)) log(row);
    if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await stopAllTracked(log);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
