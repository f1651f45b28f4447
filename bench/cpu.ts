/**
 * CPU accounting of a benchmark phase on this machine (Linux /proc): this process and every process it started
 * (moto servers, ElasticMQ), named, and the machine as a whole, so work that is not the benchmark's (anything
 * else running on the box) shows as "other". The simulated Lambda containers are threads of this process; their
 * own CPU time is counted per invocation (simulation/container-worker.mjs, `invocations.cpuMs`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

const TICKS_PER_SECOND = 100; // USER_HZ

function statFields(pid: number | "self"): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** utime + stime of a process (all its threads), seconds. */
function processCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND : 0;
}

/** What a started process is: "moto(<service>)" (MOTO_SERVICE, testkit/moto.ts), "moto", "elasticmq", or its command. */
function processName(pid: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
    if (cmd.includes("moto")) {
      const service = /(?:^|\0)MOTO_SERVICE=([\w-]+)/.exec(readFileSync(`/proc/${pid}/environ`, "utf8"))?.[1];
      return service ? `moto(${service})` : "moto";
    }
    if (cmd.includes("elasticmq")) return "elasticmq";
    return cmd.split(" ").slice(0, 2).join(" ").slice(0, 60);
  } catch {
    return `pid ${pid}`;
  }
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = Number(statFields(Number(entry))?.[1]);
    if (!Number.isFinite(parent)) continue;
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

/** Busy CPU seconds of the machine, all cores. */
function machineBusySeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return (fields.reduce((a, b) => a + b, 0) - fields[3] - fields[4]) / TICKS_PER_SECOND;
}

export interface CpuSample {
  at: number;
  machine: number;
  /** "node" (this process) and each started process by name, CPU seconds so far. */
  byProcess: Record<string, number>;
}

export function sampleCpu(): CpuSample {
  const byProcess: Record<string, number> = { node: processCpuSeconds(process.pid) };
  for (const pid of descendants(process.pid)) {
    const seconds = processCpuSeconds(pid);
    if (seconds === 0) continue;
    const name = processName(pid);
    byProcess[name] = (byProcess[name] ?? 0) + seconds;
  }
  return { at: Date.now(), machine: machineBusySeconds(), byProcess };
}

export interface CpuUse {
  wallSeconds: number;
  /** Cores of this machine (os.availableParallelism()). */
  cores: number;
  /** CPU seconds per process between the two samples; "other": the machine's busy time not in these. */
  seconds: Record<string, number>;
}

export function cpuBetween(before: CpuSample, after: CpuSample): CpuUse {
  const seconds: Record<string, number> = {};
  let ours = 0;
  for (const [name, total] of Object.entries(after.byProcess)) {
    const used = total - (before.byProcess[name] ?? 0);
    ours += used;
    seconds[name] = Math.round(used * 10) / 10;
  }
  seconds.other = Math.max(0, Math.round((after.machine - before.machine - ours) * 10) / 10);
  return { wallSeconds: Math.round((after.at - before.at) / 100) / 10, cores: availableParallelism(), seconds };
}
