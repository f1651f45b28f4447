/**
 * The cold path of bench/webhook.ts: which of an archive's files a fresh process loads until its first answer, as
 * the module hook webhook-loaded-hooks.mjs records them, and the bytes of a set of an archive's files.
 */
import { realpathSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

/** Bytes of some of an archive's files: raw, and gzip of each file alone, summed (as a zip archive compresses). */
export interface FileBytes {
  files: string[];
  bytes: number;
  gzipBytes: number;
}

/** The module hook of the run that records the cold path. */
const LOADED_HOOKS = path.join(__dirname, "webhook-loaded-hooks.mjs");

export function fileBytes(files: Record<string, string>, names: string[]): FileBytes {
  const codes = names.map((name) => files[name]);
  return {
    files: names,
    bytes: codes.reduce((sum, code) => sum + Buffer.byteLength(code), 0),
    gzipBytes: codes.reduce((sum, code) => sum + gzipSync(code, { level: 9 }).length, 0),
  };
}

/** The node options and environment of a child whose loaded modules webhook-loaded-hooks.mjs records in `record`. */
export function recordingEnvironment(record: string): Record<string, string> {
  return { NODE_OPTIONS: `--import=${pathToFileURL(LOADED_HOOKS).href}`, BENCH_LOADED_FILES: record };
}

/** The archive's files among the URLs the hook recorded, in load order (node_modules, measure.mjs are not). */
export function archiveFilesLoaded(dir: string, files: Record<string, string>, urls: string[]): string[] {
  const real = realpathSync(dir);
  return urls
    .map((url) => fileURLToPath(url))
    .filter((file) => path.dirname(file) === real && path.basename(file) in files)
    .map((file) => path.basename(file));
}

/** "312,110 bytes, 92,714 gzip (1 file: index.mjs)". */
export function fileBytesText(f: FileBytes): string {
  const names = f.files.length > 6 ? `${f.files.slice(0, 6).join(", ")}, …` : f.files.join(", ");
  return `${f.bytes.toLocaleString("en-US")} bytes, ${f.gzipBytes.toLocaleString("en-US")} gzip (${f.files.length} file${f.files.length === 1 ? "" : "s"}: ${names})`;
}
