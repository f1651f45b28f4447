/**
 * One execution per task at a time, and never two for one run attempt.
 *
 * Before starting, ListExecutions (statusFilter RUNNING) on the state machine: this run attempt's own execution
 * is followed instead of started again; another one is refused (`if-running: fail`, the default) or waited for
 * (`if-running: wait`, up to the timeout). Two runs checking at the same instant can both start: the check
 * narrows the window, the workflow's `concurrency` group closes it within one repository.
 *
 * StartExecution with a name is idempotent for STANDARD state machines: the same name and input while that
 * execution runs returns it again; a closed execution of that name, or a different input, raises
 * ExecutionAlreadyExists (Step Functions API reference, StartExecution). The closed execution of this same
 * attempt is then followed (its result reported) rather than run twice. A running execution of this name is
 * followed only with the same input, as StartExecution would: with another one (another job of the same attempt
 * with another command or image tag) its result is not this run's, and the run fails with the conflict whether
 * that execution still runs or has ended.
 */
import {
  DescribeExecutionCommand,
  type ExecutionListItem,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { executionArnOf, type TaskRunInput } from "../../contract/task";
import { type RetryDeps, withRetry } from "./aws-retry";
import { type Backoff, executionConsoleUrl, pollDelay } from "./lib";
import type { RunTaskOptions } from "./options";

export interface ExclusiveDeps extends RetryDeps {
  client: SFNClient;
  backoff?: Backoff;
  signal?: AbortSignal;
}

export type StartResult =
  | { kind: "started" | "adopted"; executionArn: string }
  | { kind: "refused"; message: string }
  | { kind: "cancelled" };

/** The run's execution input (contract/task.ts), without absent overrides. */
export function executionInput(options: RunTaskOptions): TaskRunInput {
  const input: TaskRunInput = { imageTag: options.imageTag };
  if (options.command) input.command = options.command;
  if (options.environment && Object.keys(options.environment).length > 0) input.environment = options.environment;
  return input;
}

async function runningExecutions(options: RunTaskOptions, deps: ExclusiveDeps): Promise<ExecutionListItem[]> {
  const running: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await withRetry(
      "ListExecutions",
      () =>
        deps.client.send(
          new ListExecutionsCommand({
            stateMachineArn: options.stateMachineArn,
            statusFilter: "RUNNING",
            maxResults: 100,
            nextToken,
          }),
        ),
      deps,
    );
    running.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return running;
}

function describeRunning(options: RunTaskOptions, executions: ExecutionListItem[]): string {
  return executions
    .map(
      (e) =>
        `${e.name} (started ${e.startDate?.toISOString() ?? "?"}): ${executionConsoleUrl(options.region, e.executionArn ?? "")}`,
    )
    .join("; ");
}

/** Starts the run's execution, or finds this attempt's own, or refuses/waits while another one runs. */
export async function startExclusive(
  options: RunTaskOptions,
  deps: ExclusiveDeps,
  deadline: number,
): Promise<StartResult> {
  const input = JSON.stringify(executionInput(options));
  for (let attempt = 0; ; attempt++) {
    const running = await runningExecutions(options, deps);
    const own = running.find((e) => options.executionName !== undefined && e.name === options.executionName);
    if (own?.executionArn) {
      await ensureSameInput(own.executionArn, input, deps);
      deps.log(`this run attempt's execution ${own.name} is already running: following it instead of starting another`);
      return { kind: "adopted", executionArn: own.executionArn };
    }
    if (running.length === 0) break;
    const others = describeRunning(options, running);
    if (options.ifRunning === "fail")
      return {
        kind: "refused",
        message: `another execution of this task is running, refusing to start a second one (if-running: fail): ${others}`,
      };
    const left = deadline - deps.now();
    if (left <= 0)
      return { kind: "refused", message: `another execution of this task was still running at the timeout: ${others}` };
    if (attempt === 0) deps.log(`waiting for the running execution to end (if-running: wait): ${others}`);
    await deps.sleep(Math.min(pollDelay(attempt, deps.backoff), left));
    if (deps.signal?.aborted) return { kind: "cancelled" };
  }
  if (deps.signal?.aborted) return { kind: "cancelled" };
  const start = () =>
    deps.client.send(
      new StartExecutionCommand({ stateMachineArn: options.stateMachineArn, name: options.executionName, input }),
    );
  try {
    // Without a name a retried StartExecution could start a second execution: only named starts are retried.
    const started = options.executionName ? await withRetry("StartExecution", start, deps) : await start();
    return { kind: "started", executionArn: started.executionArn as string };
  } catch (error) {
    if ((error as { name?: string }).name !== "ExecutionAlreadyExists" || !options.executionName) throw error;
    const executionArn = executionArnOf(options.stateMachineArn, options.executionName);
    const existing = await describeExecution(executionArn, deps);
    if (hasOtherInput(existing, input)) throw error;
    deps.log(
      `this run attempt already has execution ${options.executionName} (${existing.status}): reporting it instead of running the task twice`,
    );
    return { kind: "adopted", executionArn };
  }
}

function describeExecution(executionArn: string, deps: ExclusiveDeps) {
  return withRetry("DescribeExecution", () => deps.client.send(new DescribeExecutionCommand({ executionArn })), deps);
}

/** Throws what StartExecution throws for this name with another input (ExecutionAlreadyExists) when they differ. */
async function ensureSameInput(executionArn: string, input: string, deps: ExclusiveDeps): Promise<void> {
  if (!hasOtherInput(await describeExecution(executionArn, deps), input)) return;
  throw Object.assign(new Error(`Execution Already Exists: '${executionArn}' is running with another input`), {
    name: "ExecutionAlreadyExists",
  });
}

/** The execution was started with another input than `input` (an unknown input is not another). */
function hasOtherInput(existing: { input?: string }, input: string): boolean {
  return existing.input !== undefined && !sameJson(existing.input, input);
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}
