/**
 * Starts one execution (or follows this run attempt's own) and waits for it, with a Step Functions client, a clock
 * and a cancel signal given by the caller (the CLI and the action pass real ones; tests pass a client pointed at
 * moto and a fast sleep). Used by tools/run-task/cli.ts and actions/run-task.
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { type RetryDeps, type RetryPolicy, withRetry } from "./aws-retry";
import { startExclusive } from "./exclusive";
import {
  type Backoff,
  describeAwsError,
  describeFailure,
  executionConsoleUrl,
  interpretExecution,
  type LogLocation,
  logLocationOf,
  logStreamConsoleUrl,
  logsLine,
  pollDelay,
} from "./lib";
import { EXIT, type RunTaskOptions } from "./options";
import { LogFollower, type LogReader, logLocationFromHistory } from "./task-logs";

export interface RunDeps extends RetryDeps {
  client: SFNClient;
  /** Waits `ms`, or less when the run is cancelled. */
  sleep(ms: number): Promise<void>;
  backoff?: Backoff;
  /** Aborted with the signal's name ("SIGINT", "SIGTERM") when the job is cancelled. */
  signal?: AbortSignal;
  /** Reads the task's log stream; without one the run prints the stream's link as soon as the task starts. */
  logs?: LogReader;
  /** Where the task's own log lines go (default: `log`). */
  printTaskLog?(line: string): void;
}

/** How a run ended, for the action's outputs and step summary. */
export interface RunResult {
  exitCode: number;
  /** SUCCEEDED, FAILED, TIMED_OUT, ABORTED; WAIT_TIMEOUT, CANCELLED, REFUSED or ERROR from this side. */
  status: string;
  executionArn?: string;
  executionUrl?: string;
  logsUrl?: string;
  /** One line: what happened. */
  message: string;
}

/** Exit code of a process ended by a signal, as shells report it (128 + signal number). */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
/** GitHub sends SIGTERM 7.5 s after SIGINT and kills 2.5 s later: the stop must fit in that window. */
const STOP_RETRY: RetryPolicy = { baseMs: 200, capMs: 1_000, budgetMs: 5_000 };

/** Runs the task and reports how it ended. Never throws for AWS errors or cancellation: it prints them. */
export async function runTask(options: RunTaskOptions, deps: RunDeps): Promise<RunResult> {
  const { client, log, region } = { ...deps, region: options.region };
  const startedAt = deps.now();
  const deadline = startedAt + options.timeoutMs;
  const fail = (error: unknown, executionArn?: string): RunResult => {
    const { message, exitCode } = describeAwsError(error, options);
    log(`error: ${message}`);
    if (executionArn) log(`  execution: ${executionConsoleUrl(region, executionArn)}`);
    return {
      exitCode,
      status: "ERROR",
      executionArn,
      executionUrl: executionArn && executionConsoleUrl(region, executionArn),
      message,
    };
  };

  let start;
  try {
    start = await startExclusive(options, deps, deadline);
  } catch (error) {
    return deps.signal?.aborted ? cancelledBeforeStart(deps) : fail(error);
  }
  if (start.kind === "refused") {
    log(`error: ${start.message}`);
    return { exitCode: EXIT.failure, status: "REFUSED", message: start.message };
  }
  if (start.kind === "cancelled") return cancelledBeforeStart(deps);
  const { executionArn } = start;
  const executionUrl = executionConsoleUrl(region, executionArn);
  if (start.kind === "started") log(`started ${executionArn} with image tag ${options.imageTag}`);
  log(`  execution: ${executionUrl}`);

  let located: LogLocation | undefined;
  let follower: LogFollower | undefined;
  let historyDenied = false;
  let lastStatus = "";
  const logsUrl = () => located && logStreamConsoleUrl(region, located.logGroup, located.logStream);
  for (let attempt = 0; ; attempt++) {
    if (deps.signal?.aborted) return stop(options, deps, executionArn, logsUrl());
    let description;
    try {
      description = await withRetry(
        "DescribeExecution",
        () => client.send(new DescribeExecutionCommand({ executionArn })),
        deps,
      );
    } catch (error) {
      return deps.signal?.aborted ? stop(options, deps, executionArn, logsUrl()) : fail(error, executionArn);
    }
    if (!located && !historyDenied) {
      try {
        located = logLocationFromHistory(await history(client, executionArn), options.imageTag);
        if (located) {
          log(`task started; logs: ${logsUrl()}`);
          if (deps.logs) follower = new LogFollower(deps.logs, located, deps.printTaskLog ?? log, log);
        }
      } catch (error) {
        // Finding the stream is a convenience: the final report still links the execution.
        historyDenied = (error as { name?: string }).name === "AccessDeniedException";
        if (historyDenied)
          log("cannot read the execution's history (states:GetExecutionHistory denied): no live log link");
      }
    }
    await follower?.drain();
    const outcome = interpretExecution(description);
    const elapsed = Math.round((deps.now() - startedAt) / 1000);
    if (outcome.kind !== "running") {
      await follower?.drain();
      const location = logLocationOf(outcome.summary) ?? located;
      const finalLogsUrl = location && logStreamConsoleUrl(region, location.logGroup, location.logStream);
      if (outcome.kind === "succeeded") {
        log(`task succeeded after ${elapsed}s (exit code 0)`);
        log(logsLine(region, location));
        log(`  execution: ${executionUrl}`);
        return {
          exitCode: EXIT.success,
          status: "SUCCEEDED",
          executionArn,
          executionUrl,
          logsUrl: finalLogsUrl,
          message: "task succeeded",
        };
      }
      const lines = describeFailure(outcome, region, executionArn, located);
      for (const line of lines) log(line);
      return {
        exitCode: outcome.exitCode,
        status: outcome.status,
        executionArn,
        executionUrl,
        logsUrl: finalLogsUrl,
        message: lines[0],
      };
    }
    if (description.status !== lastStatus) {
      log(`${description.status} (${elapsed}s)`);
      lastStatus = description.status ?? "";
    }
    const delay = pollDelay(attempt, deps.backoff);
    if (deps.now() + delay > deadline) {
      const message = `still running after ${Math.round(options.timeoutMs / 1000)}s (timeout); the execution goes on`;
      log(`error: ${message}`);
      log(logsLine(region, located));
      log(`  execution: ${executionUrl}`);
      return {
        exitCode: EXIT.failure,
        status: "WAIT_TIMEOUT",
        executionArn,
        executionUrl,
        logsUrl: logsUrl(),
        message,
      };
    }
    if (attempt > 0 && attempt % 5 === 0 && !follower) log(`still ${description.status} (${elapsed}s)`);
    await deps.sleep(delay);
  }
}

function cancelledBeforeStart(deps: RunDeps): RunResult {
  const signal = String(deps.signal?.reason ?? "signal");
  const message = `cancelled (${signal}) before an execution started: nothing to stop`;
  deps.log(message);
  return { exitCode: SIGNAL_EXIT[signal] ?? EXIT.failure, status: "CANCELLED", message };
}

/** The execution's events, oldest first (a run has a few dozen; 1,000 per page is the API's maximum). */
async function history(client: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/**
 * StopExecution on cancel. The execution ends ABORTED with this error and cause (at most 256 and 32,768
 * characters, StopExecution API reference); for `ecs:runTask.sync` Step Functions then stops the ECS task
 * ("Run a Job (.sync)": stopping the execution stops the task, with the state machine role's ecs:StopTask).
 */
async function stop(
  options: RunTaskOptions,
  deps: RunDeps,
  executionArn: string,
  logsUrl?: string,
): Promise<RunResult> {
  const signal = String(deps.signal?.reason ?? "signal");
  const exitCode = SIGNAL_EXIT[signal] ?? EXIT.failure;
  const executionUrl = executionConsoleUrl(options.region, executionArn);
  const cause = `${options.runUrl ? `GitHub Actions run ${options.runUrl}` : "run-task"} was cancelled (${signal})`;
  try {
    await withRetry(
      "StopExecution",
      () =>
        deps.client.send(new StopExecutionCommand({ executionArn, error: "Cancelled", cause: cause.slice(0, 32_768) })),
      // Not the run's sleep and signal: both are cut short by the cancel this call is answering.
      {
        ...deps,
        signal: undefined,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        retry: STOP_RETRY,
      },
    );
  } catch (error) {
    const { message } = describeAwsError(error, options);
    const text = `cancelled (${signal}) but could not stop execution ${executionArn}: ${message}; stop it in the console: ${executionUrl}`;
    deps.log(`error: ${text}`);
    return { exitCode, status: "CANCELLED", executionArn, executionUrl, logsUrl, message: text };
  }
  const message = `cancelled (${signal}): stopped execution ${executionArn} (cause: ${cause}); Step Functions stops the task`;
  deps.log(message);
  if (logsUrl) deps.log(`  logs: ${logsUrl}`);
  deps.log(`  execution: ${executionUrl}`);
  return { exitCode, status: "CANCELLED", executionArn, executionUrl, logsUrl, message };
}
