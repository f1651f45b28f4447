/**
 * The webhook bundle for bench/webhook.ts: built with the options `bundleFunction` deploys (`BUNDLE_OPTIONS`,
 * program/shared/lambda.ts) plus a variant's, with esbuild's metafile for the bytes per package.
 */
import * as path from "node:path";
import type * as esbuild from "esbuild";
import { buildSync } from "esbuild";
import { BUNDLE_OPTIONS } from "../program/shared/lambda";

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
  "cjs-sdk": {
    description: "AWS SDK CommonJS builds (esbuild's default mainFields for node)",
    options: { mainFields: ["main", "module"] },
    runtimeSdk: false,
  },
} satisfies Record<string, { description: string; options: esbuild.BuildOptions; runtimeSdk: boolean }>;
export type VariantName = keyof typeof VARIANTS;

/** Builds the webhook entry of `root` with the deployed options plus the variant's; returns code and metafile. */
export function buildWebhook(root: string, variant: VariantName): { code: string; metafile: esbuild.Metafile } {
  const entry = path.join(root, "runtime", "handlers", "webhook.ts");
  const result = buildSync({
    ...BUNDLE_OPTIONS,
    ...VARIANTS[variant].options,
    entryPoints: { "runtime/handlers/webhook": entry },
    absWorkingDir: root,
    outdir: path.join(root, ".bundles"),
    metafile: true,
  });
  const [file] = result.outputFiles ?? [];
  if (!file || !result.metafile) throw new Error("esbuild produced no webhook bundle");
  return { code: file.text, metafile: result.metafile };
}

/** Bytes in the output per npm package (scope included) or, for our own code, per top-level directory. */
export function bytesPerPackage(metafile: esbuild.Metafile): Array<{ name: string; bytes: number }> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs))
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const inModules = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
      const name = inModules ? inModules[1] : file.split("/").slice(0, 2).join("/");
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}
