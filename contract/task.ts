/**
 * What a task run is, shared by the workflow side (tools/run-task, actions/run-task) and the task runner's state
 * machine (program/task-runner): the execution input and the execution name that ties an execution to one
 * GitHub Actions run attempt. Zod only, so the bundled action carries no Pulumi code.
 */
import * as z from "zod";

/** ECR's image tag syntax (up to 128 characters, no leading dot or dash); the state machine checks the same. */
export const IMAGE_TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** POSIX-style environment variable names, the only ones a shell and most runtimes can read back. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

/**
 * RunTask allows "a total of 8192 characters" of overrides, counting the JSON of the override structure (ECS API
 * reference, RunTask `overrides`). The state machine sends `{"containerOverrides":[<ecsContainerOverride>]}`.
 */
export const ECS_OVERRIDES_MAX_CHARACTERS = 8192;

/** Why an image tag cannot name one build, or undefined when it can. */
export function imageTagProblem(tag: string): string | undefined {
  if (tag === "") return "the image tag is empty";
  if (!IMAGE_TAG_PATTERN.test(tag))
    return `"${tag}" is not an ECR image tag (letters, digits, _ . -, at most 128 characters, not starting with . or -)`;
  if (tag === "latest") return `"latest" names no particular build: use the commit SHA the image was pushed with`;
  return undefined;
}

const imageTag = z.string().superRefine((tag, ctx) => {
  const problem = imageTagProblem(tag);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const taskRunInputSchema = z
  .strictObject({
    /** An immutable ECR tag of the task's repository, e.g. the commit SHA. */
    imageTag,
    /** Replaces the task container's command (exec form, no shell), when the task's config allows it. */
    command: z.array(z.string().min(1, "command arguments must not be empty")).min(1).max(64).optional(),
    /** Added to the task container's environment, when the task's config allows each name. */
    environment: z
      .record(z.string(), z.string())
      .superRefine((environment, ctx) => {
        for (const name of Object.keys(environment))
          if (!ENV_NAME_PATTERN.test(name))
            ctx.addIssue({
              code: "custom",
              path: [name],
              message: "expected a variable name of letters, digits and _, not starting with a digit",
            });
      })
      .optional(),
  })
  .superRefine((input, ctx) => {
    const size = JSON.stringify({ containerOverrides: [ecsContainerOverride(input, "x".repeat(255))] }).length;
    if (size > ECS_OVERRIDES_MAX_CHARACTERS)
      ctx.addIssue({
        code: "custom",
        message: `command and environment take ${size} characters as ECS overrides; RunTask allows ${ECS_OVERRIDES_MAX_CHARACTERS}`,
      });
  });

export type TaskRunInput = z.infer<typeof taskRunInputSchema>;

/** The input's problems as one line per issue, naming the field; empty when the input is valid. */
export function taskRunInputProblems(input: unknown): string[] {
  const result = taskRunInputSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    const [field = "input", ...rest] = issue.path.map(String);
    return `${field}: ${rest.length > 0 ? `${rest.join(".")}: ` : ""}${issue.message}`;
  });
}

/** The ECS ContainerOverride (RunTask API shape) the state machine builds from an input for the task container. */
export function ecsContainerOverride(
  input: Pick<TaskRunInput, "command" | "environment">,
  containerName: string,
): { Name: string; Command?: string[]; Environment?: { Name: string; Value: string }[] } {
  const override: ReturnType<typeof ecsContainerOverride> = { Name: containerName };
  if (input.command) override.Command = input.command;
  const entries = Object.entries(input.environment ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length > 0) override.Environment = entries.map(([Name, Value]) => ({ Name, Value }));
  return override;
}

/**
 * The execution output on success, and (as JSON) the `cause` of a failed execution that reached ECS. Fields the
 * run did not reach are absent (no task ARN when the task never started, no exit code when the container never
 * ran).
 */
export interface TaskRunSummary {
  imageTag?: string;
  taskDefinitionArn?: string;
  taskArn?: string;
  /** The task container's exit code. */
  exitCode?: number;
  /** ECS's reason for stopping the task, e.g. "Essential container in task exited". */
  stoppedReason?: string;
  /** ECS's stop code, e.g. EssentialContainerExited, TaskFailedToStart. */
  stopCode?: string;
  /** The container's CloudWatch log group and stream. */
  logGroup?: string;
  logStream?: string;
  /** The Step Functions error that ended the run (States.Timeout, ECS.AmazonECSException, ...). */
  error?: string;
  /** That error's message when it was not a task description. */
  message?: string;
}

/** `error` names of failed executions. */
export const TASK_RUN_ERRORS = {
  /** The input had no valid imageTag, or a malformed command / environment. */
  invalidInput: "InvalidInput",
  /** The input asked for a command or variables the task's allow-list does not allow. */
  notAllowed: "OverrideNotAllowed",
  /** The task ran and its container exited non-zero (or never ran). */
  taskFailed: "TaskFailed",
  /** The run hit the task's timeout; Step Functions stopped the task. */
  timedOut: "TaskTimedOut",
  /** Looking up or registering the task definition failed. */
  prepareFailed: "PrepareFailed",
  /** ECS refused to start the task (after the capped retries for capacity and throttling). */
  startFailed: "StartFailed",
} as const;

/** awslogs stream prefix of the task container: streams are `<prefix>/<container>/<task id>`. */
export const LOG_STREAM_PREFIX = "task";

/** Per-task allow-list from the platform config: may a run replace the command, which variables may it set. */
export interface TaskOverridePolicy {
  command: boolean;
  environment: string[];
}

/** What an input asks for that the task's allow-list does not allow; empty when nothing. */
export function overridePolicyProblems(input: TaskRunInput, policy: TaskOverridePolicy): string[] {
  const problems: string[] = [];
  if (input.command && !policy.command) problems.push("command: this task does not allow a command override");
  const refused = Object.keys(input.environment ?? {}).filter((name) => !policy.environment.includes(name));
  if (refused.length > 0)
    problems.push(
      `environment: ${refused.join(", ")} not allowed for this task (allowed: ${policy.environment.join(", ") || "none"})`,
    );
  return problems;
}

/**
 * Step Functions execution names: 1-80 characters; for CloudWatch Logs integration only ASCII letters, digits,
 * `-` and `_` (StartExecution API reference, `name`). Names are unique per state machine for 90 days.
 */
export const EXECUTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;
const EXECUTION_NAME_MAX = 80;

/** One GitHub Actions run attempt (`GITHUB_REPOSITORY`, `GITHUB_RUN_ID`, `GITHUB_RUN_ATTEMPT`). */
export interface RunAttempt {
  /** `owner/name`. */
  repository: string;
  runId: string;
  runAttempt: string;
}

/**
 * `<repo>-<run id>-<run attempt>`: a second start in the same attempt collides with the first execution (and
 * finds it) instead of starting a second migration; a re-run is a new attempt, so a new execution. The
 * repository name is shortened (never the ids) to fit 80 characters; characters Step Functions logging rejects
 * become `-`.
 */
export function executionNameFor(run: RunAttempt): string {
  if (!/^\d{1,20}$/.test(run.runId)) throw new Error(`run id: expected digits, found "${run.runId}"`);
  if (!/^\d{1,6}$/.test(run.runAttempt)) throw new Error(`run attempt: expected digits, found "${run.runAttempt}"`);
  const suffix = `-${run.runId}-${run.runAttempt}`;
  const repo = (run.repository.split("/").pop() ?? "").replace(/[^A-Za-z0-9_-]/g, "-") || "run";
  return `${repo.slice(0, EXECUTION_NAME_MAX - suffix.length)}${suffix}`;
}

/** The run id and attempt in an execution name made by `executionNameFor`, or undefined for other names. */
export function runOfExecutionName(name: string): { runId: string; runAttempt: string } | undefined {
  const match = /-(\d{1,20})-(\d{1,6})$/.exec(name);
  return match ? { runId: match[1], runAttempt: match[2] } : undefined;
}

/** `arn:...:execution:<state machine>:<name>` for a state machine ARN and an execution name. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  const marker = ":stateMachine:";
  const at = stateMachineArn.indexOf(marker);
  if (at < 0) throw new Error(`not a state machine ARN: ${stateMachineArn}`);
  return `${stateMachineArn.slice(0, at)}:execution:${stateMachineArn.slice(at + marker.length)}:${name}`;
}
