/**
 * ElasticMQ (an SQS emulator on the JVM) for the benchmarks: fetched from Maven Central with `mvn
 * dependency:copy-dependencies` into a cache directory outside the repository, started on 127.0.0.1 on a free port,
 * stopped after. moto stays the emulator of the tests and of everything but SQS: it serves SQS at a few tens of
 * requests a second, so a burst measured through it measures moto.
 *
 *   const sqs = await startSqsEmulator();   // sqs.endpoint → an SQS client's `endpoint`
 *   ...
 *   await sqs.stop();
 *
 * Or `npx tsx bench/sqs-emulator.ts [--messages 2000] [--concurrent 16]`: FIFO SendMessage latency of ElasticMQ
 * and of moto side by side (interleaved rounds), each with its own fresh queue; `--install` only fetches ElasticMQ
 * into the cache (.ci/run).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  ListQueuesCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";

/** The server artifact and its version (Maven Central: org.elasticmq:elasticmq-server_2.13). */
export const ELASTICMQ = { groupId: "org.elasticmq", artifactId: "elasticmq-server_2.13", version: "1.6.11" };

/** Cache of the jars, outside git: `$CIRUNNERS_CACHE` or `~/.cache/cirunners`, then `elasticmq/<version>`. */
export function elasticMqCacheDir(): string {
  const base = process.env.CIRUNNERS_CACHE ?? path.join(homedir(), ".cache", "cirunners");
  return path.join(base, "elasticmq", ELASTICMQ.version);
}

export interface SqsEmulator {
  /** Base URL, e.g. http://127.0.0.1:43121: an SQS client's `endpoint`. */
  endpoint: string;
  /** The emulator's region in the queue URLs it hands out. */
  region: string;
  stop(): Promise<void>;
}

/** Downloads ElasticMQ and its dependencies with Maven (once); returns the directory of jars. */
export function ensureElasticMq(log: (line: string) => void = () => undefined): string {
  const dir = elasticMqCacheDir();
  const lib = path.join(dir, "lib");
  const jar = `${ELASTICMQ.artifactId}-${ELASTICMQ.version}.jar`;
  if (existsSync(path.join(lib, jar))) return lib;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, "pom.xml"),
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local.cirunners</groupId><artifactId>elasticmq-fetch</artifactId><version>1</version><packaging>pom</packaging>
<dependencies><dependency><groupId>${ELASTICMQ.groupId}</groupId><artifactId>${ELASTICMQ.artifactId}</artifactId><version>${ELASTICMQ.version}</version></dependency></dependencies>
</project>
`,
  );
  log(`fetching ${ELASTICMQ.groupId}:${ELASTICMQ.artifactId}:${ELASTICMQ.version} with Maven into ${lib}`);
  const mvn = spawnSync("mvn", ["-q", "-B", "dependency:copy-dependencies", `-DoutputDirectory=${lib}`], {
    cwd: dir,
    encoding: "utf8",
    timeout: 600_000,
  });
  if (mvn.status !== 0 || !existsSync(path.join(lib, jar)))
    throw new Error(`mvn could not fetch ElasticMQ (exit ${mvn.status}): ${(mvn.stdout + mvn.stderr).slice(-2000)}`);
  return lib;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function waitUntilServing(client: SQSClient, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ElasticMQ exited (${child.exitCode}): ${output().slice(-2000)}`);
    try {
      await client.send(new ListQueuesCommand({}));
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`ElasticMQ did not answer within 60 s: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Starts ElasticMQ on 127.0.0.1 (a free port unless given) and waits until it answers ListQueues. */
export async function startSqsEmulator(
  options: {
    port?: number;
    region?: string;
    /**
     * host:port that queue URLs name (default the emulator's own): a counting proxy in front of it gives its own,
     * so clients that send to the queue URL go through the proxy.
     */
    publicAddress?: { host: string; port: number };
    log?: (line: string) => void;
  } = {},
): Promise<SqsEmulator> {
  const lib = ensureElasticMq(options.log);
  const port = options.port ?? (await freePort());
  const region = options.region ?? "us-east-1";
  const config = path.join(elasticMqCacheDir(), `server-${port}.conf`);
  writeFileSync(
    config,
    `include classpath("application.conf")
node-address { protocol = http, host = "${options.publicAddress?.host ?? "127.0.0.1"}", port = ${options.publicAddress?.port ?? port}, context-path = "" }
rest-sqs { enabled = true, bind-port = ${port}, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
aws { region = "${region}", accountId = "000000000000" }
`,
  );
  const classpath = readdirSync(lib)
    .filter((f) => f.endsWith(".jar"))
    .map((f) => path.join(lib, f))
    .join(path.delimiter);
  const child = spawn("java", [`-Dconfig.file=${config}`, "-cp", classpath, "org.elasticmq.server.Main"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output = (output + chunk).slice(-8000);
  });
  child.stderr?.on("data", (chunk) => {
    output = (output + chunk).slice(-8000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const probe = new SQSClient({ endpoint, region, credentials: { accessKeyId: "x", secretAccessKey: "x" } });
  try {
    await waitUntilServing(probe, child, () => output);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  } finally {
    probe.destroy();
  }
  options.log?.(`ElasticMQ ${ELASTICMQ.version} listening on ${endpoint}`);
  return {
    endpoint,
    region,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

export interface SendLatency {
  /** Every SendMessage's round trip, ms, in completion order. */
  samples: number[];
  concurrent: number;
}

/** FIFO SendMessage latency at `concurrent` requests in flight, on a fresh queue of its own (deleted after). */
export async function measureFifoSend(
  endpoint: string,
  region: string,
  messages: number,
  concurrent: number,
  queueName = `bench-send-${process.pid}-${Date.now()}.fifo`,
): Promise<SendLatency> {
  const sqs = new SQSClient({ endpoint, region, credentials: { accessKeyId: "benchsqs", secretAccessKey: "bench" } });
  try {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: queueName,
        Attributes: { FifoQueue: "true", DeduplicationScope: "messageGroup", FifoThroughputLimit: "perMessageGroupId" },
      }),
    );
    const samples: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrent }, async () => {
        while (next < messages) {
          const i = next++;
          const t0 = performance.now();
          await sqs.send(
            new SendMessageCommand({
              QueueUrl,
              MessageBody: "x".repeat(600),
              MessageGroupId: String(i),
              MessageDeduplicationId: `send-${i}`,
            }),
          );
          samples.push(performance.now() - t0);
        }
      }),
    );
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    return { samples, concurrent };
  } finally {
    sqs.destroy();
  }
}

/** p50 and p99 when there are at least 100 samples; otherwise the median and "max of N". */
export function describeLatency(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const r = (v: number) => Math.round(v * 100) / 100;
  if (sorted.length >= 100)
    return `p50 ${r(at(0.5))} ms, p99 ${r(at(0.99))} ms, max ${r(sorted.at(-1) ?? 0)} ms (n=${sorted.length})`;
  return `p50 ${r(at(0.5))} ms, max of ${sorted.length} ${r(sorted.at(-1) ?? 0)} ms`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: "string", default: "1000" },
      concurrent: { type: "string", default: "16" },
      rounds: { type: "string", default: "3" },
      /** Only fetch ElasticMQ into the cache (.ci/run does, so the benchmark needs no download). */
      install: { type: "boolean", default: false },
    },
  });
  if (values.install) {
    process.stdout.write(
      `ElasticMQ ${ELASTICMQ.version} in ${ensureElasticMq((line) => process.stderr.write(`${line}\n`))}\n`,
    );
    return;
  }
  const messages = Number(values.messages);
  const concurrent = Number(values.concurrent);
  const rounds = Number(values.rounds);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { startMoto } = await import("../testkit/moto");
  const elastic = await startSqsEmulator({ log });
  const moto = await startMoto({ setEnv: false });
  log(`moto listening on ${moto.endpoint}`);
  const all: Record<string, number[]> = { elasticmq: [], moto: [] };
  try {
    // Warm-up of both (JIT, first queue), not counted.
    await measureFifoSend(elastic.endpoint, elastic.region, 200, concurrent);
    await measureFifoSend(moto.endpoint, "us-east-1", 50, concurrent);
    for (let round = 0; round < rounds; round++) {
      for (const [name, endpoint, region] of [
        ["elasticmq", elastic.endpoint, elastic.region],
        ["moto", moto.endpoint, "us-east-1"],
      ] as const) {
        const t0 = performance.now();
        const { samples } = await measureFifoSend(endpoint, region, messages, concurrent);
        const seconds = (performance.now() - t0) / 1000;
        all[name].push(...samples);
        log(`round ${round + 1} ${name}: ${Math.round(messages / seconds)} SendMessage/s, ${describeLatency(samples)}`);
      }
    }
  } finally {
    await elastic.stop();
    await moto.stop();
  }
  for (const [name, samples] of Object.entries(all))
    process.stdout.write(`${name} FIFO SendMessage at ${concurrent} concurrent: ${describeLatency(samples)}\n`);
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
