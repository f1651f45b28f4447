/**
 * What the stack declares, read from the offline preview: the REAL Pulumi program (index.ts) runs under mocks with
 * Pulumi.<stack>.yaml in a worker thread (the Pulumi runtime is global to a JavaScript realm, and a worker is a
 * realm of its own, so the caller's process may hold other mocks, as the test runner does). The worker also
 * bundles the functions with `bundleFunction` (program/shared/bundle.ts): the simulation runs the same archive
 * (`index.mjs` and its chunks) that Lambda would.
 */
import { FUNCTION_ENTRY } from "../contract/names";
import { Worker } from "node:worker_threads";
import * as path from "node:path";
import type { PreviewResource } from "../tools/preview/engine";

/** Entry points by function name; the ledger's scheduled functions are listed once their handlers exist. */
const ENTRY = FUNCTION_ENTRY as Readonly<Partial<Record<string, string>>>;

/** The Lambda functions the simulation runs, by the Pulumi resource name suffix the components give them. */
export const SIMULATED_FUNCTIONS = {
  webhook: { resourceSuffix: "-webhook", entry: FUNCTION_ENTRY.webhook },
  launcher: { resourceSuffix: "-launcher", entry: FUNCTION_ENTRY.launcher },
  reaper: { resourceSuffix: "-reaper", entry: FUNCTION_ENTRY.reaper },
  "runner-cache": { resourceSuffix: "-runner-cache", entry: FUNCTION_ENTRY["runner-cache"] },
} as const;

/**
 * The ledger's scheduled functions (program/ephemeral-runners/reconciliation.ts): simulated when the contract
 * names their handler and the stack declares them.
 */
export const SCHEDULED_FUNCTIONS = {
  reconciler: { resourceSuffix: "-reconciler", entry: ENTRY.reconciler },
  redeliver: { resourceSuffix: "-redeliver", entry: ENTRY.redeliver },
} as const;

export type CoreRole = keyof typeof SIMULATED_FUNCTIONS;
export type ScheduledRole = keyof typeof SCHEDULED_FUNCTIONS;
export type FunctionRole = CoreRole | ScheduledRole;

/** Every function entry the simulation may run (bundled by the preview worker). */
export function simulatedEntries(): string[] {
  return [
    ...Object.values(SIMULATED_FUNCTIONS).map((f) => f.entry),
    ...Object.values(SCHEDULED_FUNCTIONS).flatMap((f) => (f.entry ? [f.entry] : [])),
  ];
}

/** The scheduled functions this stack declares and whose handlers exist. */
export function scheduledRoles(snapshot: Pick<StackSnapshot, "resources" | "bundles">): ScheduledRole[] {
  return (Object.keys(SCHEDULED_FUNCTIONS) as ScheduledRole[]).filter((role) => {
    const { entry, resourceSuffix } = SCHEDULED_FUNCTIONS[role];
    return (
      entry !== undefined &&
      snapshot.bundles[entry] !== undefined &&
      snapshot.resources.some((r) => r.type === "aws:lambda/function:Function" && r.name.endsWith(resourceSuffix))
    );
  });
}

function suffixOf(role: FunctionRole): string {
  return role in SIMULATED_FUNCTIONS
    ? SIMULATED_FUNCTIONS[role as CoreRole].resourceSuffix
    : SCHEDULED_FUNCTIONS[role as ScheduledRole].resourceSuffix;
}

/** The bundle entry of a role. */
export function entryOf(role: FunctionRole): string {
  const entry =
    role in SIMULATED_FUNCTIONS
      ? SIMULATED_FUNCTIONS[role as CoreRole].entry
      : SCHEDULED_FUNCTIONS[role as ScheduledRole].entry;
  if (!entry) throw new Error(`the contract names no handler for ${role}`);
  return entry;
}

export interface StackSnapshot {
  stack: string;
  /** The stack's aws:region. */
  region: string;
  resources: PreviewResource[];
  /** The archive's files (file name → code: `index.mjs` and its chunks) per function entry. */
  bundles: Record<string, Record<string, string>>;
  /** Wall time of the preview, ms. */
  previewMs: number;
}

/** Runs the offline preview of `stack` and bundles `entries`, in a worker thread. */
/** The stack cannot be previewed because of its input (no such stack file, invalid config): the message says why. */
export class StackInputError extends Error {}

export function loadStack(stack: string, entries: string[]): Promise<StackSnapshot> {
  const worker = new Worker(path.join(__dirname, "stack-worker.ts"), {
    workerData: { stack, entries },
    // The program's own output (and Pulumi's) stays off our stdout: --json output must stay clean.
    stdout: true,
    stderr: true,
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  worker.stdout.on("data", keep);
  worker.stderr.on("data", keep);
  return new Promise<StackSnapshot>((resolve, reject) => {
    type Message = { ok: true; snapshot: StackSnapshot } | { ok: false; userError: boolean; error: string };
    worker.once("message", (message: Message) => {
      void worker.terminate();
      if (message.ok) resolve(message.snapshot);
      else if (message.userError) reject(new StackInputError(message.error));
      else reject(new Error(`offline preview of stack ${stack} failed: ${message.error}\n${output}`));
    });
    worker.once("error", (error) =>
      reject(new Error(`offline preview of stack ${stack} crashed: ${error.message}\n${output}`)),
    );
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`offline preview worker exited with code ${code}\n${output}`));
    });
  });
}

/** The recorded Lambda function of a role (by its Pulumi resource name). */
export function functionResource(
  snapshot: Pick<StackSnapshot, "resources" | "stack">,
  role: FunctionRole,
): PreviewResource {
  const suffix = suffixOf(role);
  const found = snapshot.resources.filter((r) => r.type === "aws:lambda/function:Function" && r.name.endsWith(suffix));
  if (found.length !== 1) {
    throw new Error(
      `stack ${snapshot.stack}: expected one aws:lambda/function:Function named *${suffix}, found ${found.length}`,
    );
  }
  return found[0];
}

/** The function's recorded `environment.variables`: exactly what Lambda would get. */
export function recordedEnvironment(resource: PreviewResource): Record<string, string> {
  const environment = resource.inputs.environment as { variables?: Record<string, unknown> } | undefined;
  const variables = environment?.variables ?? {};
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value !== "string" || value === "[unknown]" || value === "[secret]") {
      throw new Error(
        `function ${resource.name}: environment variable ${name} is not a plain string in the preview (${JSON.stringify(value)})`,
      );
    }
    out[name] = value;
  }
  return out;
}

export function resourcesOfType(snapshot: Pick<StackSnapshot, "resources">, type: string): PreviewResource[] {
  return snapshot.resources.filter((r) => r.type === type);
}
