/**
 * Starts one execution and waits for it, with a Step Functions client and a clock given by the caller (the CLI
 * passes real ones; tests pass a client pointed at moto and a fast sleep).
 */
import { DescribeExecutionCommand, StartExecutionCommand, type SFNClient } from "@aws-sdk/client-sfn";
import {
  describeAwsError,
  describeFailure,
  executionConsoleUrl,
  EXIT,
  interpretExecution,
  logStreamConsoleUrl,
  pollDelay,
  type Backoff,
  type RunTaskOptions,
} from "./lib";

export interface RunDeps {
  client: SFNClient;
  sleep(ms: number): Promise<void>;
  now(): number;
  log(line: string): void;
  backoff?: Backoff;
}

/** Runs the task and returns the process exit code. Never throws for AWS errors: it prints them. */
export async function runTask(options: RunTaskOptions, deps: RunDeps): Promise<number> {
  const { client, log } = deps;
  let executionArn: string;
  try {
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: options.stateMachineArn,
        name: options.executionName,
        input: JSON.stringify({ imageTag: options.imageTag }),
      }),
    );
    executionArn = started.executionArn as string;
  } catch (error) {
    const { message, exitCode } = describeAwsError(error, options);
    log(`error: ${message}`);
    return exitCode;
  }
  log(`started ${executionArn} with image tag ${options.imageTag}`);
  log(`  ${executionConsoleUrl(options.region, executionArn)}`);

  const startedAt = deps.now();
  const deadline = startedAt + options.timeoutMs;
  let lastStatus = "";
  for (let attempt = 0; ; attempt++) {
    let description;
    try {
      description = await client.send(new DescribeExecutionCommand({ executionArn }));
    } catch (error) {
      const { message, exitCode } = describeAwsError(error, options);
      log(`error: ${message}`);
      return exitCode;
    }
    const outcome = interpretExecution(description);
    const elapsed = Math.round((deps.now() - startedAt) / 1000);
    if (outcome.kind === "succeeded") {
      log(`task succeeded after ${elapsed}s (exit code 0)`);
      const { logGroup, logStream } = outcome.summary;
      if (logGroup && logStream) log(`  logs: ${logStreamConsoleUrl(options.region, logGroup, logStream)}`);
      return EXIT.success;
    }
    if (outcome.kind === "failed") {
      for (const line of describeFailure(outcome, options.region, executionArn)) log(line);
      return outcome.exitCode;
    }
    if (description.status !== lastStatus) {
      log(`${description.status} (${elapsed}s)`);
      lastStatus = description.status ?? "";
    }
    const delay = pollDelay(attempt, deps.backoff);
    if (deps.now() + delay > deadline) {
      log(
        `error: still running after ${Math.round(options.timeoutMs / 1000)}s (--timeout); the execution goes on: ${executionConsoleUrl(options.region, executionArn)}`,
      );
      return EXIT.failure;
    }
    if (attempt > 0 && attempt % 5 === 0) log(`still ${description.status} (${elapsed}s)`);
    await deps.sleep(delay);
  }
}
