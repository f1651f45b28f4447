/**
 * run-task: starts a task runner execution and exits with the task's exit code (local use; workflows use the
 * GitHub Action in actions/run-task, which runs the same code).
 *
 *   npx tsx tools/run-task/cli.ts --state-machine-arn arn:aws:states:... --image-tag "$GITHUB_SHA" --timeout 45m
 *
 * Credentials come from the environment; the region comes from the state machine ARN.
 */
import { EXIT, parseArgs, USAGE, UsageError } from "./options";
import { liveDeps } from "./process";
import { runTask } from "./run";

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseArgs(argv, process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (options === "help") {
    console.log(USAGE);
    return EXIT.success;
  }
  const result = await runTask(
    options,
    liveDeps(options, (line) => console.log(line)),
  );
  return result.exitCode;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    // Not an AWS or usage error (those are reported by runTask and parseArgs): a bug, so the stack helps.
    console.error(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(EXIT.failure);
  },
);
