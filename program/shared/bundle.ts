/**
 * How a function's code becomes its Lambda archive: esbuild bundles (code splitting for `SPLIT_ENTRIES`, one file
 * for the others), the AWS SDK's package.json trimmed to what the SDK reads. `functionArchive` (lambda.ts) wraps
 * the files for Pulumi; bench/webhook.ts measures the same archive. See docs/webhook.md, "Bundle and cold start".
 */
import * as esbuild from "esbuild";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { FUNCTION_ENTRY } from "../../contract/names";

/** Root of the repository: function entry points are given relative to it. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * The AWS SDK clients' package.json files, which esbuild's `sdkPackageVersion` plugin loads as `{ name, version }`:
 * each client's runtimeConfig.js does `import packageInfo from "../package.json"` and reads only `packageInfo.version`
 * (for the user agent), but a default import keeps the whole JSON (scripts, dependencies, …; 1,022 bytes gzip on
 * the webhook's cold path). test/program/shared/sdk-package-json.test.ts fails if an SDK module reads another field.
 */
export const SDK_PACKAGE_JSON = /[\\/]node_modules[\\/]@aws-sdk[\\/][^\\/]+[\\/]package\.json$/;

/** The fields of an AWS SDK package.json the bundles keep. */
export const SDK_PACKAGE_FIELDS = ["name", "version"] as const;

const sdkPackageVersion: esbuild.Plugin = {
  name: "aws-sdk-package-version",
  setup(build) {
    build.onLoad({ filter: SDK_PACKAGE_JSON }, async ({ path: file }) => {
      const json = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
      const kept = Object.fromEntries(SDK_PACKAGE_FIELDS.map((field) => [field, json[field]]));
      return { contents: JSON.stringify(kept), loader: "json" };
    });
  },
};

/**
 * esbuild's options for every function (entry points and directories are added by `bundleArchive`); exported so
 * `bench/webhook.ts` measures exactly what is deployed. See docs/webhook.md, "Bundle".
 */
export const BUNDLE_OPTIONS: esbuild.BuildOptions = {
  bundle: true,
  write: false,
  platform: "node",
  target: "node22",
  format: "esm",
  outExtension: { ".js": ".mjs" },
  // Code splitting: what a function reaches only through a dynamic import() (in the AWS SDK the event-stream codec
  // and bowser, which no function's operation loads; @octokit/webhooks-methods in ours) goes to a chunk of its own,
  // which Node reads only when the import runs, so the cold path parses less. Chunks sit next to the entry (flat
  // names), so the entry's relative imports resolve inside the archive. Only `SPLIT_ENTRIES` are built so.
  splitting: true,
  entryNames: "[name]",
  chunkNames: "[name]-[hash]",
  // The AWS SDK's ES module builds (dist-es, `module`) instead of esbuild's default for node (`main`: dist-cjs, one
  // file per client holding every command): esbuild then keeps only the commands and code a function imports.
  mainFields: ["module", "main"],
  minify: true,
  treeShaking: true,
  legalComments: "none",
  charset: "utf8",
  // Lambda gives a function its role's credentials in environment variables: the SDK's default chain (STS, SSO,
  // ini files, metadata endpoints) is reduced to that link in every bundle (runtime/shared/credentials.ts).
  alias: { "@aws-sdk/credential-provider-node": "./runtime/shared/credentials.ts" },
  // No `require` banner: with the ES module builds nothing calls require(), so no output holds esbuild's
  // "Dynamic require of" shim (test/program/shared/require.test.ts builds every function and checks).
  plugins: [sdkPackageVersion],
  logLevel: "silent",
};

/** The archive's file the handler lives in: Lambda's handler `index.handler`. */
export const ARCHIVE_ENTRY = "index.mjs";

/** esbuild's output directory; nothing is written there (`write: false`), outputs are named relative to it. */
const OUT_DIR = ".bundles";

export interface FunctionBundle {
  /** The archive's files by name: `index.mjs` and every chunk it imports, statically or dynamically. */
  files: Record<string, string>;
  /** esbuild's metafile of the build (bytes per input in each output, for bench/webhook.ts). */
  metafile: esbuild.Metafile;
}

/**
 * One esbuild run of `entries` (`out` names the entry's output, relative to OUT_DIR, without extension); each
 * entry's archive is the outputs it reaches in the metafile, named relative to its own output's directory.
 */
async function runEsbuild(
  root: string,
  entries: Array<{ in: string; out: string }>,
  overrides: esbuild.BuildOptions = {},
): Promise<{ archives: Array<Record<string, string>>; metafile: esbuild.Metafile }> {
  const result = await esbuild.build({
    ...BUNDLE_OPTIONS,
    ...overrides,
    write: false,
    metafile: true,
    entryPoints: entries.map((entry) => ({ in: path.resolve(root, entry.in), out: entry.out })),
    absWorkingDir: root,
    outdir: path.join(root, OUT_DIR),
  });
  const metafile = result.metafile;
  if (!metafile) throw new Error(`esbuild produced no metafile for ${entries.map((e) => e.in).join(", ")}`);
  const text = new Map(result.outputFiles.map((file) => [path.relative(root, file.path), file.text]));
  const archives = entries.map((entry) => {
    // Only the outputs the entry reaches: esbuild also writes chunks no import names (bowser's, whose dynamic
    // import tree shaking removed), and external imports (the runtime's SDK in a bench variant) are not files.
    const reached = new Set<string>();
    const visit = (output: string) => {
      if (reached.has(output)) return;
      reached.add(output);
      for (const imported of metafile.outputs[output]?.imports ?? [])
        if (!imported.external && (imported.kind === "import-statement" || imported.kind === "dynamic-import"))
          visit(imported.path);
    };
    const entryOutput = `${OUT_DIR}/${entry.out}.mjs`;
    visit(entryOutput);
    const files: Record<string, string> = {};
    for (const output of [...reached].sort()) {
      const name = path.relative(path.dirname(entryOutput), output);
      const code = text.get(output);
      if (code === undefined || name.includes("/"))
        throw new Error(`esbuild's output ${output} for ${entry.in} is not a file beside ${ARCHIVE_ENTRY}`);
      files[name] = code;
    }
    return files;
  });
  return { archives, metafile };
}

const ENTRY_NAME = ARCHIVE_ENTRY.replace(/\.mjs$/, "");

/**
 * Bundles one function's entry point (relative to `root`, default this repository) in an esbuild run of its own,
 * with `BUNDLE_OPTIONS` (code splitting) and `overrides` (bench/webhook-build.ts's variants). One run per split
 * entry: with code splitting, a run of several entries cuts chunks along every entry's import graph, so a change
 * to one function could rename or reshape a chunk another function's archive holds (measured: one import added
 * to the webhook changed the launcher's, the reaper's and the reconciler's archives), and bench/webhook.ts would
 * not measure the deployed archive. The output is deterministic: content-hashed chunk names, no source maps with
 * absolute paths, no timestamps.
 */
export async function bundleArchive(
  entry: string,
  options: { root?: string; overrides?: esbuild.BuildOptions } = {},
): Promise<FunctionBundle> {
  const { archives, metafile } = await runEsbuild(
    options.root ?? REPO_ROOT,
    [{ in: entry, out: ENTRY_NAME }],
    options.overrides,
  );
  return { files: archives[0], metafile };
}

/**
 * Bundles entry points (relative to `root`) each into one file, in one esbuild run without code splitting:
 * without splitting, each output holds only its own entry's import graph, so the run's other entries change
 * nothing in it (tested in test/program/shared/lambda.test.ts).
 */
export async function bundleSingleFiles(entries: string[], root = REPO_ROOT): Promise<Array<Record<string, string>>> {
  const { archives } = await runEsbuild(
    root,
    entries.map((entry, index) => ({ in: entry, out: `${index}/${ENTRY_NAME}` })),
    { splitting: false, entryNames: "[dir]/[name]" },
  );
  return archives;
}

/**
 * Entries bundled with code splitting, each in an esbuild run of its own (`bundleArchive`, which bench/webhook.ts
 * measures): the webhook, the one function GitHub waits on (issue 17 bounds the files its fresh process loads until
 * the first answer). Every other function is one file (`bundleSingleFiles`), all requested together in one esbuild
 * run: without splitting no archive depends on another function's code, and the shared SDK is parsed once. They
 * give up deferring the SDK's event-stream chunk (≈ 5 KB gzip of 110 to 280 KB; the webhook's cold start, split
 * or one file, was the same within the noise of bench/webhook.ts).
 * Offline preview of prod (`npx tsx tools/preview.ts --stack prod --json`), one interleaved series, 6 runs each, on
 * a shared 2-core machine (load 2.5 to 4), median (min–max): every function split, one run each, run in sequence
 * (before) 9.6 s (6.6–10.8); the same runs all started at once 10.0 s (6.6–12.5), or awaited one after another
 * 9.0 s (6.4–10.9); this 6.9 s (4.9–7.3). esbuild alone for the 7 functions: the 7 split runs started at once
 * ≈ 4.5 s, the one single-file run ≈ 2.0 s (esbuild's Go workers are as busy either way on 2 cores).
 */
const SPLIT_ENTRIES = new Set([path.resolve(REPO_ROOT, FUNCTION_ENTRY.webhook)]);

const bundles = new Map<string, Promise<Record<string, string>>>();
let batch: { entries: string[]; run: Promise<Array<Record<string, string>>> } | undefined;

/** A single-file entry's archive, from one esbuild run for every entry requested before the event loop turns. */
function inBatch(entry: string): Promise<Record<string, string>> {
  if (!batch) {
    const entries: string[] = [];
    // The program declares its functions synchronously: they all join this run, which starts on the next turn.
    const run = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      batch = undefined;
      return bundleSingleFiles(entries);
    });
    batch = { entries, run };
  }
  const index = batch.entries.push(entry) - 1;
  return batch.run.then((archives) => archives[index]);
}

/** A function's archive files, built once per entry in this process (`SPLIT_ENTRIES`): file name → code. */
export function bundleFunction(entry: string): Promise<Record<string, string>> {
  const absolute = path.resolve(REPO_ROOT, entry);
  let files = bundles.get(absolute);
  if (!files) {
    files = SPLIT_ENTRIES.has(absolute) ? bundleArchive(absolute).then((bundle) => bundle.files) : inBatch(absolute);
    bundles.set(absolute, files);
  }
  return files;
}
