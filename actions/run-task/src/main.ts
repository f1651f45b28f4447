/**
 * The run-task GitHub Action: reads the step's inputs, runs tools/run-task (the same code as the CLI), and
 * reports through GitHub's workflow commands and files (no @actions/core: `::error::`, GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY are plain text formats, documented in "Workflow commands for GitHub Actions").
 */
import { appendFileSync } from "node:fs";
import {
  buildOptions,
  EXIT,
  githubRun,
  OPTION_NAMES,
  type OptionName,
  UsageError,
} from "../../../tools/run-task/options";
import { liveDeps } from "../../../tools/run-task/process";
import { runTask } from "../../../tools/run-task/run";
import { escapeCommandData, outputLines, summaryMarkdown } from "./report";

/** An input's value: the runner passes `with:` values as INPUT_<NAME> (upper case, spaces as `_`, dashes kept). */
function input(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`];
  return value?.trim() ? value : undefined;
}

function appendTo(file: string | undefined, text: string): void {
  if (file) appendFileSync(file, text);
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  let options;
  try {
    const raw = Object.fromEntries(OPTION_NAMES.map((name) => [name, input(env, name)]));
    options = buildOptions(raw, (name: OptionName) => `input "${name}"`, githubRun(env));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    log(`::error title=run-task: invalid input::${escapeCommandData(error.message)}`);
    appendTo(env.GITHUB_OUTPUT, outputLines({ status: "INVALID_INPUT", exitCode: EXIT.usage }));
    return EXIT.usage;
  }
  const result = await runTask(options, liveDeps(options, log));
  if (result.exitCode !== EXIT.success)
    log(`::error title=run-task: ${result.status}::${escapeCommandData(result.message)}`);
  appendTo(env.GITHUB_OUTPUT, outputLines(result));
  appendTo(env.GITHUB_STEP_SUMMARY, summaryMarkdown(options, result));
  return result.exitCode;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      // Only a bug gets here (AWS and input errors are reported above): the stack is what a fix needs.
      process.stdout.write(
        `::error title=run-task: internal error::${escapeCommandData(String((error as Error)?.stack ?? error))}\n`,
      );
      process.exit(EXIT.failure);
    },
  );
}
