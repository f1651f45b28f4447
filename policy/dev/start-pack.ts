// Starts the policy pack the way the Pulumi CLI does: `node @pulumi/pulumi/cmd/run-policy-pack <engine> <dir>`,
// which compiles the pack with ts-node against the pack's own tsconfig.json, type-checking it. Used by the tests
// (a type error must stop the start) and the bench (cold start time). Not part of the pack (outside tsconfig's include).
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";

export const POLICY_DIR = path.resolve(__dirname, "..");

export interface StartedPack {
  child: ChildProcess;
  port: number;
  /** Milliseconds from spawn to the analyzer printing its port. */
  startMs: number;
}

/**
 * Spawns run-policy-pack for the pack in `dir` and resolves with the gRPC port it prints; rejects with its stderr
 * when it exits first. `coldCache` gives ts-node an empty cache directory (a cold start).
 */
export function startPackLikeCli(
  dir = POLICY_DIR,
  options: { coldCache?: boolean; timeoutMs?: number } = {},
): Promise<StartedPack> {
  const runner = createRequire(path.join(dir, "package.json")).resolve("@pulumi/pulumi/cmd/run-policy-pack");
  const env = { ...process.env };
  if (options.coldCache) env.TS_NODE_CACHE_DIRECTORY = fs.mkdtempSync(path.join(os.tmpdir(), "ts-node-cold-"));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // The engine address is only used by a pack that talks back to the engine; ours never does.
    const child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], {
      cwd: dir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`policy pack did not start in time: ${err}`));
    }, options.timeoutMs ?? 90_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\s*$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), startMs: Date.now() - started });
      }
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`policy pack exited with ${code}: ${out}\n${err}`));
    });
  });
}

/**
 * Copies the pack's sources to a fresh temporary directory with a `node_modules` link to the repository's (ts-node
 * compiles nothing under a node_modules path, so the copy cannot live inside one).
 */
export function copyPack(): string {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), "policy-copy-"));
  fs.symlinkSync(path.resolve(POLICY_DIR, "..", "node_modules"), path.join(target, "node_modules"), "dir");
  for (const entry of [
    "index.ts",
    "pack.ts",
    "policies.ts",
    "evaluate.ts",
    "lib",
    "rules",
    "package.json",
    "tsconfig.json",
    "PulumiPolicy.yaml",
  ]) {
    fs.cpSync(path.join(POLICY_DIR, entry), path.join(target, entry), { recursive: true });
  }
  return target;
}
