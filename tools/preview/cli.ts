/**
 * The offline preview's command line (tools/preview.ts checks the Node version, then loads this). Exit status:
 * 0 clean or advisory only, 1 mandatory policy violations, 2 bad input or program error.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { PreviewInputError, runOfflinePreview } from "./engine";
import { styleFor } from "./format";
import { hasMandatoryViolation, renderReport } from "./report";

/** The real stdout writer: --json mode points process.stdout.write at stderr while the program runs. */
const writeStdout = process.stdout.write.bind(process.stdout) as (chunk: string, callback?: () => void) => boolean;

const USAGE =
  "usage: npm run preview -- --stack <name> [--json] [--policy-config FILE] [--program FILE] [--stack-file FILE]";

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        stack: { type: "string", short: "s" },
        json: { type: "boolean", default: false },
        "policy-config": { type: "string" },
        program: { type: "string" },
        "stack-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.stack) {
    process.stderr.write(`--stack is required\n${USAGE}\n`);
    return 2;
  }
  let policyConfig;
  if (values["policy-config"]) {
    try {
      policyConfig = JSON.parse(fs.readFileSync(values["policy-config"], "utf8"));
    } catch (error) {
      process.stderr.write(`error: --policy-config ${values["policy-config"]}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  // The program's own console output (and Pulumi's) must not corrupt --json on stdout.
  if (values.json) process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  try {
    const result = await runOfflinePreview({
      stack: values.stack,
      program: values.program,
      stackFile: values["stack-file"],
      policyConfig,
    });
    if (values.json) {
      const { stack, resources, violations } = result;
      writeStdout(`${JSON.stringify({ stack, resources, violations }, null, 2)}\n`);
    } else {
      writeStdout(`${renderReport(result, styleFor(process.stdout, process.env))}\n`);
    }
    return hasMandatoryViolation(result.violations) ? 1 : 0;
  } catch (error) {
    const message =
      error instanceof PreviewInputError || (error as Error).name === "ConfigError"
        ? (error as Error).message
        : ((error as Error).stack ?? String(error));
    process.stderr.write(`error: ${message}\n`);
    return 2;
  }
}

// Exit only once stdout has been flushed: a large --json document written to a pipe would otherwise be cut off.
export const done = main().then(
  (code) => writeStdout("", () => process.exit(code)),
  (error) => {
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
