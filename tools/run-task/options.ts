/**
 * The run-task options and their validation, shared by the command line (`--image-tag`) and the GitHub Action
 * (`image-tag` input): each problem is one UsageError naming the argument or input as the caller spells it.
 */
import { executionNameFor, EXECUTION_NAME_PATTERN, imageTagProblem, taskRunInputProblems } from "../../contract/task";

/** Exit codes besides the task's own. */
export const EXIT = { success: 0, failure: 1, usage: 2 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What to do when another execution of the task is running: refuse (default) or wait for it. */
export type IfRunning = "fail" | "wait";

export interface RunTaskOptions {
  stateMachineArn: string;
  /** The region in the state machine ARN. */
  region: string;
  imageTag: string;
  /** Longest wait, in milliseconds. */
  timeoutMs: number;
  executionName?: string;
  command?: string[];
  environment?: Record<string, string>;
  ifRunning: IfRunning;
  /** The GitHub Actions run, named in the cause of a StopExecution on cancel. */
  runUrl?: string;
}

/** Raw option values as text, keyed by the option's name without dashes' prefix (e.g. "image-tag"). */
export type RawOptions = Partial<Record<OptionName, string>>;
export const OPTION_NAMES = [
  "state-machine-arn",
  "image-tag",
  "timeout",
  "execution-name",
  "command",
  "environment",
  "if-running",
] as const;
export type OptionName = (typeof OPTION_NAMES)[number];

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):stateMachine:([A-Za-z0-9_-]{1,80})$/;
export const DEFAULT_TIMEOUT_MS = 60 * 60_000;

/** "900", "900s", "45m", "2h" → milliseconds. `label` names the option in the message. */
export function parseDuration(text: string, label = "--timeout"): number {
  const match = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (!match || Number(match[1]) <= 0)
    throw new UsageError(`${label}: expected a duration like 900, 900s, 45m or 2h, found "${text}"`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? "s") as "s" | "m" | "h"];
  return Number(match[1]) * unit;
}

/**
 * A tag, or an image reference `<registry>/<repository>:<tag>` whose tag is taken (the state machine runs the
 * task's own repository, so only the tag travels). Digests are refused: the state machine takes tags.
 */
export function imageTagOf(text: string, label: string): string {
  const value = text.trim();
  if (value.includes("@")) throw new UsageError(`${label}: digests are not supported, pass the tag ("${text}")`);
  const lastSlash = value.lastIndexOf("/");
  const lastColon = value.lastIndexOf(":");
  if (lastSlash >= 0 && lastColon < lastSlash)
    throw new UsageError(`${label}: "${text}" has no tag; pass <repository>:<tag> or the tag alone`);
  const problem = imageTagProblem(lastColon >= 0 ? value.slice(lastColon + 1) : value);
  if (problem) throw new UsageError(`${label}: ${problem}`);
  return lastColon >= 0 ? value.slice(lastColon + 1) : value;
}

/** A JSON array of strings (exec form: no shell splits or expands it). */
export function parseCommand(text: string, label: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${label}: expected a JSON array of strings like ["npm","run","migrate"], found ${text}`);
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === "string" && v !== ""))
    throw new UsageError(`${label}: expected a non-empty JSON array of non-empty strings, found ${text}`);
  return value;
}

/** `NAME=value` lines (blank lines and `#` comments skipped); the value may contain `=`. */
export function parseEnvironment(text: string, label: string): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new UsageError(`${label}: line ${index + 1}: expected NAME=value, found "${line}"`);
    const name = line.slice(0, eq);
    if (name in environment) throw new UsageError(`${label}: ${name} is given twice`);
    environment[name] = raw.slice(raw.indexOf("=") + 1);
  }
  return environment;
}

/** GitHub Actions' run variables, or undefined outside a workflow run. */
export function githubRun(env: NodeJS.ProcessEnv): { executionName: string; runUrl: string } | undefined {
  const { GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_SERVER_URL } = env;
  if (!GITHUB_REPOSITORY || !GITHUB_RUN_ID || !GITHUB_RUN_ATTEMPT) return undefined;
  return {
    executionName: executionNameFor({
      repository: GITHUB_REPOSITORY,
      runId: GITHUB_RUN_ID,
      runAttempt: GITHUB_RUN_ATTEMPT,
    }),
    runUrl: `${GITHUB_SERVER_URL ?? "https://github.com"}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}/attempts/${GITHUB_RUN_ATTEMPT}`,
  };
}

/**
 * Validates raw values into options. `label` spells an option the way the caller's user wrote it; `run` supplies
 * the execution name and run URL when the values do not name the execution.
 */
export function buildOptions(
  raw: RawOptions,
  label: (name: OptionName) => string,
  run?: { executionName: string; runUrl: string },
): RunTaskOptions {
  const stateMachineArn = raw["state-machine-arn"]?.trim();
  if (!stateMachineArn) throw new UsageError(`${label("state-machine-arn")} is required`);
  const arn = STATE_MACHINE_ARN.exec(stateMachineArn);
  if (!arn)
    throw new UsageError(
      `${label("state-machine-arn")}: expected arn:aws:states:<region>:<account>:stateMachine:<name>, found "${stateMachineArn}"`,
    );
  if (raw["image-tag"] === undefined) throw new UsageError(`${label("image-tag")} is required`);
  const imageTag = imageTagOf(raw["image-tag"], label("image-tag"));
  const executionName = raw["execution-name"]?.trim() || run?.executionName;
  if (executionName !== undefined && !EXECUTION_NAME_PATTERN.test(executionName))
    throw new UsageError(
      `${label("execution-name")}: expected 1-80 letters, digits, _ and -, found "${executionName}"`,
    );
  const ifRunning = raw["if-running"]?.trim() || "fail";
  if (ifRunning !== "fail" && ifRunning !== "wait")
    throw new UsageError(`${label("if-running")}: expected "fail" or "wait", found "${ifRunning}"`);
  const command = raw.command?.trim() ? parseCommand(raw.command, label("command")) : undefined;
  const environment = raw.environment?.trim() ? parseEnvironment(raw.environment, label("environment")) : undefined;
  const problems = taskRunInputProblems({ imageTag, command, environment });
  if (problems.length > 0)
    throw new UsageError(
      problems.map((p) => p.replace(/^(command|environment)\b/, (name) => label(name as OptionName))).join("; "),
    );
  const timeout = raw.timeout?.trim();
  return {
    stateMachineArn,
    region: arn[1],
    imageTag,
    timeoutMs: timeout ? parseDuration(timeout, label("timeout")) : DEFAULT_TIMEOUT_MS,
    executionName,
    command,
    environment,
    ifRunning,
    runUrl: run?.runUrl,
  };
}

export const USAGE = `Usage: run-task --state-machine-arn ARN --image-tag TAG [options]

Starts one execution of a task runner state machine, waits for it to end and exits with the task container's
exit code (1 when unknown, 2 for usage errors and rejected input, 130/143 when interrupted: the execution is
stopped).

  --state-machine-arn ARN   the task's state machine (GitHub variable CIRUNNERS_<TASK>_<STACK>_STATE_MACHINE_ARN)
  --image-tag TAG           immutable ECR tag that was pushed (e.g. the commit SHA), or <repository>:<tag>
  --timeout DURATION        how long to wait, e.g. 900, 900s, 45m, 2h (default 60m); the execution goes on after it
  --execution-name NAME     default in GitHub Actions: <repo>-<run id>-<run attempt>; else Step Functions picks one
  --command JSON            replace the container's command, e.g. '["npm","run","migrate:down"]' (if allowed)
  --env NAME=VALUE          add an environment variable (repeatable; names must be allowed for the task)
  --if-running fail|wait    another execution of the task is running: refuse (default) or wait for it
  --help                    this text`;

const FLAGS: Record<string, OptionName> = {
  "--state-machine-arn": "state-machine-arn",
  "--image-tag": "image-tag",
  "--timeout": "timeout",
  "--execution-name": "execution-name",
  "--command": "command",
  "--env": "environment",
  "--if-running": "if-running",
};
const FLAG_OF = Object.fromEntries(Object.entries(FLAGS).map(([flag, name]) => [name, flag])) as Record<
  OptionName,
  string
>;

/** Parses the command line (without `node` and the script). Throws UsageError with a message naming the problem. */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = {}): RunTaskOptions | "help" {
  const raw: RawOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return "help";
    const eq = arg.indexOf("=");
    const key = eq >= 0 ? arg.slice(0, eq) : arg;
    const name = FLAGS[key];
    if (!name) throw new UsageError(`unknown argument "${arg}"`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith("--"))) throw new UsageError(`${key}: expected a value`);
    if (name === "environment")
      raw.environment = raw.environment === undefined ? value : `${raw.environment}\n${value}`;
    else if (raw[name] !== undefined) throw new UsageError(`${key} given twice`);
    else raw[name] = value;
  }
  return buildOptions(raw, (name) => FLAG_OF[name], githubRun(env));
}
