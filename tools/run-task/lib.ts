/**
 * Pure parts of run-task: poll backoff, reading an execution's result, console links and the messages for AWS
 * errors. No I/O here.
 */
import { TASK_RUN_ERRORS, type TaskRunSummary } from "../../contract/task";
import { EXIT, type RunTaskOptions } from "./options";

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
  // A refused input (malformed, or outside the task's allow-list) is the caller's to fix, like a usage error.
  const refused = error === TASK_RUN_ERRORS.invalidInput || error === TASK_RUN_ERRORS.notAllowed;
  const exitCode = refused ? EXIT.usage : processExitCode(summary.exitCode);
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

/** Where a started task's container writes its logs. */
export interface LogLocation {
  logGroup: string;
  logStream: string;
}

/**
 * The log stream in a run summary, only when the task started (a task ARN): a summary without one names no
 * stream that exists.
 */
export function logLocationOf(summary: TaskRunSummary): LogLocation | undefined {
  if (!summary.taskArn || !summary.logGroup || !summary.logStream) return undefined;
  return { logGroup: summary.logGroup, logStream: summary.logStream };
}

/** The logs line of a final report: a link to the stream, or why there is none. */
export function logsLine(region: string, location: LogLocation | undefined): string {
  return location
    ? `  logs: ${logStreamConsoleUrl(region, location.logGroup, location.logStream)}`
    : "  logs: none, the task never started (see the execution's events)";
}

/**
 * Human lines for a failed run: what failed, why, and links. `located` is the stream found in the execution's
 * history while it ran: an execution that timed out (States.Timeout) carries no summary of its own.
 */
export function describeFailure(
  outcome: Extract<Outcome, { kind: "failed" }>,
  region: string,
  executionArn: string,
  located?: LogLocation,
): string[] {
  const { summary } = outcome;
  const lines = [`task run ${outcome.status}: ${outcome.error}`];
  if (outcome.error === TASK_RUN_ERRORS.invalidInput)
    lines.push(`  the state machine rejected the input: ${outcome.cause}`);
  if (outcome.error === TASK_RUN_ERRORS.notAllowed)
    lines.push(`  the task's allow-list (config allowCommandOverride / allowedEnvironment) refused: ${outcome.cause}`);
  if (outcome.error === "States.Timeout")
    lines.push("  the execution hit the state machine's timeout; Step Functions stopped the task");
  if (summary.stoppedReason)
    lines.push(`  stopped reason: ${summary.stoppedReason}${summary.stopCode ? ` (${summary.stopCode})` : ""}`);
  if (summary.exitCode !== undefined) lines.push(`  container exit code: ${summary.exitCode}`);
  if (summary.error && summary.error !== outcome.error) lines.push(`  caused by: ${summary.error}`);
  if (summary.message) lines.push(`  message: ${summary.message}`);
  const explained = outcome.error === TASK_RUN_ERRORS.invalidInput || outcome.error === TASK_RUN_ERRORS.notAllowed;
  if (!explained && Object.keys(summary).length === 0 && outcome.cause) lines.push(`  cause: ${outcome.cause}`);
  lines.push(logsLine(region, logLocationOf(summary) ?? located));
  lines.push(`  execution: ${executionConsoleUrl(region, executionArn)}`);
  return lines;
}

/**
 * A clear message and exit code for an AWS error that is not worth retrying (see aws-retry.ts). Error names are
 * the Step Functions API reference's, per action (StartExecution, DescribeExecution, StopExecution, ...).
 */
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
        message: `an execution with this name already exists with another input (names are unique for 90 days): ${detail}`,
        exitCode: EXIT.usage,
      };
    case "RetryBudgetExceeded":
      return {
        message: `${detail}: gave up waiting; the execution goes on (see its link)`,
        exitCode: EXIT.failure,
      };
    case "ExecutionDoesNotExist":
      return { message: `execution not found: ${detail}`, exitCode: EXIT.failure };
    case "ExecutionLimitExceeded":
      return { message: `too many running executions for this account: ${detail}`, exitCode: EXIT.failure };
    case "AccessDeniedException":
    case "AccessDenied":
    case "UnauthorizedOperation":
      return {
        message: `access denied: ${detail}\n  the deploy role may only start, list, stop and describe executions of its own task's state machine (and read their history); check that the workflow assumed CIRUNNERS_<TASK>_<STACK>_ROLE_ARN of the same stack`,
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
