/**
 * run-task: starts a task runner execution and exits with the task's exit code.
 *
 *   npx tsx tools/run-task/cli.ts --state-machine-arn arn:aws:states:... --image-tag "$GITHUB_SHA" --timeout 45m
 *
 * Credentials come from the environment (aws-actions/configure-aws-credentials in the workflow); the region
 * comes from the state machine ARN.
 */
import { SFNClient } from "@aws-sdk/client-sfn";
import { EXIT, parseArgs, USAGE, UsageError } from "./lib";
import { runTask } from "./run";

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (options === "help") {
    console.log(USAGE);
    return EXIT.success;
  }
  const client = new SFNClient({ region: options.region, maxAttempts: 5 });
  return runTask(options, {
    client,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
    log: (line) => console.log(line),
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = EXIT.failure;
  },
);
