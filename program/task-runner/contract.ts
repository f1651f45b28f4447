/**
 * What the task runner's state machine takes and returns, shared by the state machine definition and the CLI
 * (tools/run-task) that starts and watches executions. No Pulumi imports: the CLI runs without the program.
 */

/** ECR's image tag syntax (up to 128 characters, no leading dot or dash); the state machine checks the same. */
export const IMAGE_TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The execution input. */
export interface TaskRunInput {
  /** An immutable ECR tag of the task's repository, e.g. the commit SHA. */
  imageTag: string;
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
  /** The input had no valid imageTag. */
  invalidInput: "InvalidInput",
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
