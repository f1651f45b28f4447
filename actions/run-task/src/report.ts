/** The action's outputs and job summary, as the text GitHub reads from GITHUB_OUTPUT and GITHUB_STEP_SUMMARY. */
import { randomUUID } from "node:crypto";
import type { RunTaskOptions } from "../../../tools/run-task/options";
import type { RunResult } from "../../../tools/run-task/run";

/** Workflow command data escaping (`%`, CR, LF), as @actions/core's issueCommand does. */
export function escapeCommandData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** GITHUB_OUTPUT lines; the heredoc form with a random delimiter, so no value can end its own block early. */
export function outputLines(result: Pick<RunResult, "status" | "exitCode" | "executionArn" | "logsUrl">): string {
  const values: Record<string, string> = {
    "execution-arn": result.executionArn ?? "",
    status: result.status,
    "exit-code": String(result.exitCode),
    "logs-url": result.logsUrl ?? "",
  };
  return Object.entries(values)
    .map(([name, value]) => {
      const delimiter = `EOF_${randomUUID()}`;
      return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
    })
    .join("");
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** Markdown for the job summary: status, exit code, and always a link or the reason there is none. */
export function summaryMarkdown(options: RunTaskOptions, result: RunResult): string {
  const name = result.executionArn?.split(":").pop();
  const logs = result.logsUrl
    ? `[task log stream](${result.logsUrl})`
    : result.executionArn
      ? "none: the task never started (see the execution's events)"
      : "none: no execution was started";
  const rows = [
    ["Status", `${result.status}${result.exitCode === 0 ? "" : ` (exit code ${result.exitCode})`}`],
    ["Execution", result.executionUrl ? `[${name}](${result.executionUrl})` : "none"],
    ["Image tag", `\`${options.imageTag}\``],
    ["Logs", logs],
    ["Detail", cell(result.message)],
  ];
  return `### run-task\n\n| | |\n| --- | --- |\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join("\n")}\n\n`;
}
