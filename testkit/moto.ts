/**
 * Starts moto's server mode (a real AWS API emulator) on 127.0.0.1 for tests, the simulation and benchmarks.
 * Every AWS SDK v3 client created while `AWS_ENDPOINT_URL` points at it talks to moto instead of AWS.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import * as path from "node:path";

export interface MotoServer {
  /** Base URL, e.g. http://127.0.0.1:43121 — use as `AWS_ENDPOINT_URL` or a client's `endpoint`. */
  endpoint: string;
  /** Clears every emulated resource (between tests). */
  reset(): Promise<void>;
  /** Stops the server process. */
  stop(): Promise<void>;
}

/** Where `.ci/run`, `npm run simulate` and the tests keep moto: a project-local venv at the pinned version. */
export const MOTO_VENV = path.resolve(__dirname, "..", ".moto", "venv");

/** The moto version CI pins (`.ci/run` installs the same file). */
const MOTO_REQUIREMENTS = path.resolve(__dirname, "..", ".ci", "moto-requirements.txt");

function pinnedMotoVersion(): string {
  const pinned = /^moto\[server\]==(\S+)$/m.exec(readFileSync(MOTO_REQUIREMENTS, "utf8"))?.[1];
  if (!pinned) throw new Error(`${MOTO_REQUIREMENTS}: expected a line moto[server]==<version>`);
  return pinned;
}

/**
 * The command that starts the pinned moto's server, or undefined when the project's venv does not hold that version.
 * Another moto on the machine is not used: moto's behaviour changes between releases, and the tests' expectations
 * are checked against the pinned one (the version CI runs).
 */
export function findMotoCommand(): string[] | undefined {
  const probe = spawnSync(path.join(MOTO_VENV, "bin", "python"), ["-c", "import moto; print(moto.__version__)"], {
    encoding: "utf8",
  });
  const installed = probe.status === 0 ? probe.stdout.trim() : undefined;
  return installed === pinnedMotoVersion() ? [path.join(MOTO_VENV, "bin", "moto_server")] : undefined;
}

let motoCommand: string[] | undefined;

/**
 * Installs moto's server mode at the version `.ci/run` pins when the venv lacks it (by `npm run simulate`, and by
 * the first test that starts moto), once per process. It goes into a venv of its own: Debian's system Python
 * refuses `pip install` outside one (PEP 668).
 */
export function ensureMotoInstalled(log: (line: string) => void = () => undefined): string[] {
  motoCommand ??= findMotoCommand();
  if (motoCommand) return motoCommand;
  log(`moto ${pinnedMotoVersion()} is not in ${MOTO_VENV}: installing ${MOTO_REQUIREMENTS} into it`);
  const venv = spawnSync("python3", ["-m", "venv", MOTO_VENV], { stdio: "inherit" });
  if (venv.status !== 0)
    throw new Error(`could not create a Python venv at ${MOTO_VENV}: install python3-venv (Debian) and retry`);
  const pip = spawnSync(
    path.join(MOTO_VENV, "bin", "pip"),
    ["install", "--quiet", "--disable-pip-version-check", "-r", MOTO_REQUIREMENTS],
    { stdio: "inherit" },
  );
  motoCommand = findMotoCommand();
  if (pip.status !== 0 || !motoCommand)
    throw new Error(
      `could not install moto: run \`${path.join(MOTO_VENV, "bin", "pip")} install -r ${MOTO_REQUIREMENTS}\``,
    );
  return motoCommand;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function waitUntilUp(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto server exited early with code ${child.exitCode}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto server did not answer at ${endpoint} within ${timeoutMs} ms`);
}

/**
 * Starts a moto server on a free loopback port and sets the environment the AWS SDK reads
 * (`AWS_ENDPOINT_URL`, dummy credentials, region) unless `setEnv` is false.
 */
export async function startMoto(
  options: {
    region?: string;
    setEnv?: boolean;
    timeoutMs?: number;
    /** Extra environment of the server process (e.g. a label a profiler reads); default none. */
    env?: Record<string, string>;
  } = {},
): Promise<MotoServer> {
  // A fresh clone's first `npm test` installs the pinned moto here, once, as `npm run simulate` does.
  const command = ensureMotoInstalled((line) => process.stderr.write(`${line}\n`));
  const port = await freePort();
  const child = spawn(command[0], [...command.slice(1), "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: "true", ...options.env },
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(endpoint, child, options.timeoutMs ?? 30_000);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  if (options.setEnv !== false) {
    process.env.AWS_ENDPOINT_URL = endpoint;
    process.env.AWS_ACCESS_KEY_ID = "testing";
    process.env.AWS_SECRET_ACCESS_KEY = "testing";
    process.env.AWS_REGION = options.region ?? "us-east-1";
    delete process.env.AWS_PROFILE;
  }
  return {
    endpoint,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      if (!response.ok) throw new Error(`moto reset failed: ${response.status}`);
    },
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      });
    },
  };
}

export interface MotoServers {
  /** The server of every service not named in `services`. */
  endpoint: string;
  /** Service (SigV4 signing name: "dynamodb", "ec2", "ssm", "s3") → the endpoint of its own server. */
  services: Record<string, string>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One moto server per named service, plus one for everything else, started in parallel (benchmarks: a moto
 * server is one Python process, so services on one server wait for each other under load; on servers of their own
 * they run side by side). A caller routes each request by its service, e.g. with the counting proxy of the
 * simulation or AWS_ENDPOINT_URL_<SERVICE>. Services that read each other's state inside moto must share a server.
 * Each process gets MOTO_SERVICE=<service> (or "rest") in its environment, so a profiler can tell them apart.
 */
export async function startMotoPerService(
  services: string[],
  options: { timeoutMs?: number } = {},
): Promise<MotoServers> {
  const names = [...services, "rest"];
  const started = await Promise.allSettled(
    names.map((service) => startMoto({ setEnv: false, timeoutMs: options.timeoutMs, env: { MOTO_SERVICE: service } })),
  );
  const servers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    await Promise.all(servers.map((s) => s.stop()));
    throw failed.reason;
  }
  const byName = Object.fromEntries(
    names.map((name, i) => [name, (started[i] as PromiseFulfilledResult<MotoServer>).value]),
  );
  return {
    endpoint: byName.rest.endpoint,
    services: Object.fromEntries(services.map((service) => [service, byName[service].endpoint])),
    async reset() {
      await Promise.all(Object.values(byName).map((s) => s.reset()));
    },
    async stop() {
      await Promise.all(Object.values(byName).map((s) => s.stop()));
    },
  };
}
