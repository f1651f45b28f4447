/**
 * Pure parts of the run-task CLI: argument parsing, backoff, reading an execution's result, console links and
 * the messages for AWS errors. No I/O here.
 */
import { IMAGE_TAG_PATTERN, TASK_RUN_ERRORS, type TaskRunSummary } from "../../program/task-runner/contract";

export const USAGE = `Usage: run-task --state-machine-arn ARN --image-tag TAG [--timeout DURATION] [--execution-name NAME]

Starts one execution of a task runner state machine with {"imageTag": TAG}, waits for it to end and exits with
the task container's exit code (1 when unknown, 2 for usage errors and rejected input).

  --state-machine-arn ARN   the task's state machine (GitHub variable CIRUNNERS_<TASK>_<STACK>_STATE_MACHINE_ARN)
  --image-tag TAG           immutable ECR tag that was pushed, e.g. the commit SHA
  --timeout DURATION        how long to wait, e.g. 900, 900s, 45m, 2h (default 60m); the execution goes on after it
  --execution-name NAME     execution name (unique per state machine for 90 days), e.g. <run id>-<attempt>
  --help                    this text`;

/** Exit codes besides the task's own. */
export const EXIT = { success: 0, failure: 1, usage: 2 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface RunTaskOptions {
  stateMachineArn: string;
  imageTag: string;
  /** Longest wait, in milliseconds. */
  timeoutMs: number;
  executionName?: string;
  /** The region and account in the state machine ARN. */
  region: string;
}

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):stateMachine:([A-Za-z0-9_-]{1,80})$/;
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;
export const DEFAULT_TIMEOUT_MS = 60 * 60_000;

/** "900", "900s", "45m", "2h" → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (!match || Number(match[1]) <= 0)
    throw new UsageError(`--timeout: expected a duration like 900, 900s, 45m or 2h, found "${text}"`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? "s") as "s" | "m" | "h"];
  return Number(match[1]) * unit;
}

/** Why an image tag is not an immutable ECR tag, or undefined when it is one. */
export function imageTagProblem(tag: string): string | undefined {
  if (tag === "") return "the image tag is empty";
  if (!IMAGE_TAG_PATTERN.test(tag)) {
    return `"${tag}" is not an ECR image tag (letters, digits, _ . -, at most 128 characters, not starting with . or -)`;
  }
  if (tag === "latest") return `"latest" names no particular build: use the commit SHA the image was pushed with`;
  return undefined;
}

/** Parses the command line (without `node` and the script). Throws UsageError with a message naming the problem. */
export function parseArgs(argv: string[]): RunTaskOptions | "help" {
  const values = new Map<string, string>();
  const known = ["--state-machine-arn", "--image-tag", "--timeout", "--execution-name"];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return "help";
    const eq = arg.indexOf("=");
    const key = eq >= 0 ? arg.slice(0, eq) : arg;
    if (!known.includes(key)) throw new UsageError(`unknown argument "${arg}"`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith("--"))) throw new UsageError(`${key}: expected a value`);
    if (values.has(key)) throw new UsageError(`${key} given twice`);
    values.set(key, value);
  }
  const stateMachineArn = values.get("--state-machine-arn");
  if (!stateMachineArn) throw new UsageError("--state-machine-arn is required");
  const arn = STATE_MACHINE_ARN.exec(stateMachineArn);
  if (!arn)
    throw new UsageError(
      `--state-machine-arn: expected arn:aws:states:<region>:<account>:stateMachine:<name>, found "${stateMachineArn}"`,
    );
  const imageTag = values.get("--image-tag");
  if (imageTag === undefined) throw new UsageError("--image-tag is required");
  const problem = imageTagProblem(imageTag);
  if (problem) throw new UsageError(`--image-tag: ${problem}`);
  const executionName = values.get("--execution-name");
  if (executionName !== undefined && !EXECUTION_NAME.test(executionName)) {
    throw new UsageError(`--execution-name: expected 1-80 letters, digits, _ and -, found "${executionName}"`);
  }
  const timeout = values.get("--timeout");
  return {
    stateMachineArn,
    imageTag,
    timeoutMs: timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(timeout),
    executionName,
    region: arn[1],
  };
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const POLL_BACKOFF: Backoff = { initialMs: 2_000, maxMs: 30_000, factor: 1.5 };

/** Delay before poll number `attempt` (0-based): initial × factor^attempt, capped at max. */
export function pollDelay(attempt: number, backoff: Backoff = POLL_BACKOFF): number {
  return Math.min(backoff.maxMs, Math.round(backoff.initialMs * backoff.factor ** Math.max(0, attempt)));
}

/** The DescribeExecution fields the CLI reads. */
export interface ExecutionDescription {
  status?: string;
  output?: string;
  error?: string;
  cause?: string;
}

export type Outcome =
  | { kind: "running" }
  | { kind: "succeeded"; exitCode: 0; summary: TaskRunSummary }
  | { kind: "failed"; exitCode: number; status: string; error: string; cause: string; summary: TaskRunSummary };

function parseSummary(text: string | undefined): TaskRunSummary {
  if (!text) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as TaskRunSummary) : {};
  } catch {
    return {};
  }
}

/** The exit code the CLI ends with for a task exit code: the code itself when it fits a process exit code. */
export function processExitCode(taskExitCode: number | undefined): number {
  if (taskExitCode === undefined || !Number.isInteger(taskExitCode) || taskExitCode < 1 || taskExitCode > 255)
    return EXIT.failure;
  return taskExitCode;
}

/** Reads one DescribeExecution answer. */
export function interpretExecution(execution: ExecutionDescription): Outcome {
  const status = execution.status ?? "UNKNOWN";
  if (status === "RUNNING" || status === "PENDING_REDRIVE") return { kind: "running" };
  if (status === "SUCCEEDED") {
    const summary = parseSummary(execution.output);
    if (summary.exitCode === undefined || summary.exitCode === 0) return { kind: "succeeded", exitCode: 0, summary };
    // The state machine only succeeds on exit code 0; anything else is a contract break, not a success.
    return {
      kind: "failed",
      exitCode: processExitCode(summary.exitCode),
      status,
      error: "UnexpectedOutput",
      cause: execution.output ?? "",
      summary,
    };
  }
  const error = execution.error ?? (status === "TIMED_OUT" ? "States.Timeout" : status);
  const cause = execution.cause ?? "";
  const summary = parseSummary(cause);
  const exitCode = error === TASK_RUN_ERRORS.invalidInput ? EXIT.usage : processExitCode(summary.exitCode);
  return { kind: "failed", exitCode, status, error, cause, summary };
}

/** CloudWatch console link to one log stream (the console double-encodes, with `$` for `%`). */
export function logStreamConsoleUrl(region: string, logGroup: string, logStream: string): string {
  const encode = (s: string) => encodeURIComponent(encodeURIComponent(s)).replace(/%/g, "$");
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${encode(logGroup)}/log-events/${encode(logStream)}`;
}

/** Step Functions console link to one execution. */
export function executionConsoleUrl(region: string, executionArn: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** Human lines for a failed run: what failed, why, and where the logs are. */
export function describeFailure(
  outcome: Extract<Outcome, { kind: "failed" }>,
  region: string,
  executionArn: string,
): string[] {
  const { summary } = outcome;
  const lines = [`task run ${outcome.status}: ${outcome.error}`];
  if (outcome.error === TASK_RUN_ERRORS.invalidInput)
    lines.push(`  the state machine rejected the input: ${outcome.cause}`);
  if (summary.stoppedReason)
    lines.push(`  stopped reason: ${summary.stoppedReason}${summary.stopCode ? ` (${summary.stopCode})` : ""}`);
  if (summary.exitCode !== undefined) lines.push(`  container exit code: ${summary.exitCode}`);
  if (summary.error && summary.error !== outcome.error) lines.push(`  caused by: ${summary.error}`);
  if (summary.message) lines.push(`  message: ${summary.message}`);
  if (outcome.error !== TASK_RUN_ERRORS.invalidInput && Object.keys(summary).length === 0 && outcome.cause)
    lines.push(`  cause: ${outcome.cause}`);
  if (summary.logGroup && summary.logStream)
    lines.push(`  logs: ${logStreamConsoleUrl(region, summary.logGroup, summary.logStream)}`);
  lines.push(`  execution: ${executionConsoleUrl(region, executionArn)}`);
  return lines;
}

/** A clear message and exit code for an AWS error from StartExecution/DescribeExecution. */
export function describeAwsError(
  error: unknown,
  options: Pick<RunTaskOptions, "stateMachineArn" | "region">,
): { message: string; exitCode: number } {
  const name = (error as { name?: string } | null)?.name ?? "Error";
  const detail = (error as { message?: string } | null)?.message ?? String(error);
  switch (name) {
    case "StateMachineDoesNotExist":
      return {
        message: `state machine ${options.stateMachineArn} does not exist in ${options.region}: check the CIRUNNERS_<TASK>_<STACK>_STATE_MACHINE_ARN variable and that the platform stack is deployed`,
        exitCode: EXIT.failure,
      };
    case "InvalidArn":
      return { message: `invalid state machine ARN ${options.stateMachineArn}: ${detail}`, exitCode: EXIT.usage };
    case "InvalidExecutionInput":
      return { message: `the state machine rejected the input: ${detail}`, exitCode: EXIT.usage };
    case "InvalidName":
      return { message: `invalid execution name: ${detail}`, exitCode: EXIT.usage };
    case "ExecutionAlreadyExists":
      return {
        message: `an execution with this name already exists (names are unique for 90 days): ${detail}`,
        exitCode: EXIT.usage,
      };
    case "ExecutionLimitExceeded":
      return { message: `too many running executions for this account: ${detail}`, exitCode: EXIT.failure };
    case "AccessDeniedException":
    case "AccessDenied":
    case "UnauthorizedOperation":
      return {
        message: `access denied: ${detail}\n  the deploy role may only start and describe executions of its own task's state machine; check that the workflow assumed CIRUNNERS_<TASK>_<STACK>_ROLE_ARN of the same stack`,
        exitCode: EXIT.failure,
      };
    case "ExpiredTokenException":
    case "UnrecognizedClientException":
    case "CredentialsProviderError":
      return {
        message: `no valid AWS credentials (${name}): ${detail}; run aws-actions/configure-aws-credentials first`,
        exitCode: EXIT.failure,
      };
    default:
      return { message: `${name}: ${detail}`, exitCode: EXIT.failure };
  }
}
