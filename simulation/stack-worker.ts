/** Worker thread of `loadStack`: one offline preview (the Pulumi runtime is per realm) and the function bundles. */
import { parentPort, workerData } from "node:worker_threads";
import { bundleFunction } from "../program/shared/bundle";
import * as path from "node:path";
import { PreviewInputError, readStackConfig, runOfflinePreview } from "../tools/preview/engine";

const { stack, entries } = workerData as { stack: string; entries: string[] };

async function main(): Promise<void> {
  const started = Date.now();
  const result = await runOfflinePreview({ stack });
  const previewMs = Date.now() - started;
  const bundles = Object.fromEntries(
    await Promise.all(entries.map(async (entry) => [entry, await bundleFunction(entry)] as const)),
  );
  const { config } = readStackConfig(path.resolve(__dirname, ".."), stack);
  const region = config["aws:region"] ?? "us-east-1";
  parentPort!.postMessage({ ok: true, snapshot: { stack, region, resources: result.resources, bundles, previewMs } });
}

main().catch((error: unknown) => {
  // A user's mistake (unknown stack, invalid stack config) is reported by its message alone; anything else with its
  // stack trace, since it is a defect.
  const userError = error instanceof PreviewInputError;
  parentPort!.postMessage({
    ok: false,
    userError,
    error: error instanceof Error ? (userError ? error.message : (error.stack ?? error.message)) : String(error),
  });
});
