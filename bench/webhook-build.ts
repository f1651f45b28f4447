/**
 * The webhook archive for bench/webhook.ts: built by `bundleArchive` (program/shared/bundle.ts), as deployed, with
 * the deployed options (`BUNDLE_OPTIONS`) plus a variant's, and esbuild's metafile for the bytes per package.
 */
import * as path from "node:path";
import type * as esbuild from "esbuild";
import { bundleArchive, type FunctionBundle } from "../program/shared/bundle";

export const VARIANTS = {
  deployed: { description: "deployed options (BUNDLE_OPTIONS)", options: {}, runtimeSdk: false },
  "runtime-sdk": {
    description: "AWS SDK from the Lambda runtime (@aws-sdk/*, @smithy/* external)",
    options: { external: ["@aws-sdk/*", "@smithy/*"] },
    runtimeSdk: true,
  },
  "credential-chain": {
    description: "the SDK's whole default credential chain (no alias to runtime/shared/credentials.ts)",
    options: { alias: {} },
    runtimeSdk: false,
  },
  "single-file": {
    description: "one file, no code splitting (dynamic imports inlined, as deployed before splitting)",
    options: { splitting: false },
    runtimeSdk: false,
  },
  "cjs-sdk": {
    description: "AWS SDK CommonJS builds (esbuild's default mainFields for node)",
    // The CommonJS builds require() Node built-ins, which esbuild leaves to its "Dynamic require of" shim: an ES
    // module needs a `require` of its own (the deployed builds have none: test/program/shared/require.test.ts).
    options: {
      mainFields: ["main", "module"],
      banner: { js: 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);' },
    },
    runtimeSdk: false,
  },
} satisfies Record<string, { description: string; options: esbuild.BuildOptions; runtimeSdk: boolean }>;
export type VariantName = keyof typeof VARIANTS;

/** Builds the webhook archive of `root` with the deployed options plus the variant's: files and metafile. */
export function buildWebhook(root: string, variant: VariantName): Promise<FunctionBundle> {
  return bundleArchive(path.join("runtime", "handlers", "webhook.ts"), { root, overrides: VARIANTS[variant].options });
}

/**
 * Bytes in the output per npm package (scope included) or, for our own code, per top-level directory; with
 * `files`, only in the archive's files of those names (e.g. the cold path's).
 */
export function bytesPerPackage(
  metafile: esbuild.Metafile,
  files?: ReadonlySet<string>,
): Array<{ name: string; bytes: number }> {
  const totals = new Map<string, number>();
  for (const [outputPath, output] of Object.entries(metafile.outputs)) {
    if (files && !files.has(path.basename(outputPath))) continue;
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const inModules = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
      const name = inModules ? inModules[1] : file.split("/").slice(0, 2).join("/");
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}
