/**
 * Simulated Lambda functions: each function gets up to `maxContainers` containers (worker threads, see
 * container-worker.mjs), each with the function's environment and its bundle, each running one invocation at a
 * time. A container is created when an invocation finds every existing one busy (a cold start) and then stays
 * warm, so module-scope caches (installation tokens, the capacity count, the cached webhook secret) behave as in
 * a warm Lambda container.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { ARCHIVE_ENTRY } from "../program/shared/bundle";

export interface FunctionOptions {
  /** Role in the pipeline, used in logs ("webhook", "launcher", "reaper"). */
  role: string;
  functionName: string;
  functionArn: string;
  /** The archive's files, file name → code (`bundleFunction`): `index.mjs` and the chunks it imports. */
  files: Record<string, string>;
  /** The function's full environment (recorded variables after rewriting, plus the AWS runtime variables). */
  environment: Record<string, string>;
  memorySize: number;
  timeoutSeconds: number;
  maxContainers: number;
  /** Directory for the archive's files (a directory per role below it). */
  workDir: string;
  /** Receives each line the function logs (Powertools JSON logs, EMF metrics). */
  onLog(role: string, line: string): void;
  /** The simulation clock's shared offset (clock.ts): the container's Date follows it. */
  clock?: SharedArrayBuffer;
}

export interface InvocationResult<T> {
  result: T;
  /** Time inside the handler, ms. */
  handlerMs: number;
  /** True when this invocation started a new container. */
  coldStart: boolean;
  /** CPU time of the container's thread during the handler, ms (the function's own work). */
  cpuMs: number;
}

interface Container {
  worker: Worker;
  busy: boolean;
  pending: Map<
    number,
    {
      resolve(value: { ok: boolean; result?: unknown; error?: string; handlerMs?: number; cpuMs?: number }): void;
      reject(error: Error): void;
    }
  >;
}

export class SimulatedFunction {
  /** Counts, and the handlers' CPU time in total (ms, successful invocations). */
  readonly invocations = { count: 0, coldStarts: 0, errors: 0, cpuMs: 0 };
  private readonly containers: Container[] = [];
  private readonly waiting: Array<(container: Container) => void> = [];
  private readonly bundlePath: string;
  private nextId = 1;
  private stopped = false;

  constructor(private readonly options: FunctionOptions) {
    const dir = path.join(options.workDir, options.role);
    mkdirSync(dir, { recursive: true });
    // Every file of the archive, as Lambda unpacks it: the entry's relative imports of its chunks resolve here.
    for (const [name, code] of Object.entries(options.files)) writeFileSync(path.join(dir, name), code);
    this.bundlePath = path.join(dir, ARCHIVE_ENTRY);
  }

  /** Containers this function may run at once. */
  get maxContainers(): number {
    return this.options.maxContainers;
  }

  get containerCount(): number {
    return this.containers.length;
  }

  private startContainer(): Container {
    const { options } = this;
    // Plain Node on the bundle, as in Lambda: no TypeScript loader inherited from this process.
    const worker = new Worker(path.join(__dirname, "container-worker.mjs"), {
      env: options.environment,
      execArgv: [],
      workerData: {
        bundlePath: this.bundlePath,
        functionName: options.functionName,
        functionArn: options.functionArn,
        memorySize: options.memorySize,
        timeoutSeconds: options.timeoutSeconds,
        clock: options.clock,
      },
      stdout: true,
      stderr: true,
    });
    const container: Container = { worker, busy: false, pending: new Map() };
    for (const stream of [worker.stdout, worker.stderr]) {
      let buffer = "";
      stream.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        for (const line of lines) if (line.trim()) options.onLog(options.role, line);
      });
    }
    worker.on(
      "message",
      (message: { id: number; ok: boolean; result?: unknown; error?: string; handlerMs?: number; cpuMs?: number }) => {
        container.pending.get(message.id)?.resolve(message);
        container.pending.delete(message.id);
      },
    );
    worker.on("error", (error) => {
      for (const pending of container.pending.values()) pending.reject(error);
      container.pending.clear();
    });
    this.containers.push(container);
    return container;
  }

  /** A free container: an idle one, a new one while under the limit, or the next one to become free. */
  private acquire(): Promise<{ container: Container; cold: boolean }> {
    const idle = this.containers.find((c) => !c.busy);
    if (idle) {
      idle.busy = true;
      return Promise.resolve({ container: idle, cold: false });
    }
    if (this.containers.length < this.options.maxContainers) {
      const container = this.startContainer();
      container.busy = true;
      return Promise.resolve({ container, cold: true });
    }
    return new Promise((resolve) => this.waiting.push((container) => resolve({ container, cold: false })));
  }

  private release(container: Container): void {
    const next = this.waiting.shift();
    if (next) next(container);
    else container.busy = false;
  }

  /** Invokes the handler with `event`; a handler error becomes a rejected promise (as Lambda reports it). */
  async invoke<T>(event: unknown): Promise<InvocationResult<T>> {
    if (this.stopped) throw new Error(`function ${this.options.role} is stopped`);
    const { container, cold } = await this.acquire();
    this.invocations.count += 1;
    if (cold) this.invocations.coldStarts += 1;
    const id = this.nextId++;
    try {
      const answer = await new Promise<{
        ok: boolean;
        result?: unknown;
        error?: string;
        handlerMs?: number;
        cpuMs?: number;
      }>((resolve, reject) => {
        container.pending.set(id, { resolve, reject });
        container.worker.postMessage({ id, event, requestId: randomUUID() });
      });
      if (!answer.ok) {
        this.invocations.errors += 1;
        throw new Error(`${this.options.role} handler failed: ${answer.error}`);
      }
      this.invocations.cpuMs += answer.cpuMs ?? 0;
      return {
        result: answer.result as T,
        handlerMs: answer.handlerMs ?? 0,
        coldStart: cold,
        cpuMs: answer.cpuMs ?? 0,
      };
    } finally {
      this.release(container);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.containers.map((c) => c.worker.terminate()));
    this.containers.length = 0;
  }
}
