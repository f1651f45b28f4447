/**
 * The task runner's Step Functions definition (Amazon States Language, JSONata), built by a pure function so
 * tests can parse and check every state.
 *
 * Flow: ValidateInput → RememberInput → DescribeTaskDefinition → RegisterTaskDefinition → RunTask (.sync) →
 * CheckExitCode → Succeeded, with failure states that carry the stopped reason and the exit code.
 *
 * Image override: ECS RunTask cannot override a container's image, so each execution registers a new revision
 * of the family, identical to the latest ACTIVE one except the task container's image
 * (`<repositoryUrl>:<imageTag>`), and runs exactly that revision.
 */
import { statesIntegrationArn } from "../../contract/arn";
import { LOG_STREAM_PREFIX, TASK_RUN_ERRORS } from "./contract";

export interface StateMachineParams {
  /** The stack's partition (`aws`, `aws-cn`, `aws-us-gov`): service integration ARNs name it. */
  partition: string;
  /** Task definition family (`<task>-<stack>`). */
  family: string;
  /** Name of the task's container (the task name). */
  containerName: string;
  /** ECR repository URL, without tag. */
  repositoryUrl: string;
  /** Cluster ARN the task runs on. */
  clusterArn: string;
  /** Private subnets for the task's network interface. */
  subnetIds: string[];
  /** The task's security group. */
  securityGroupId: string;
  /** The container's log group (for the log stream in the result). */
  logGroupName: string;
  /** Longest run of the task, in seconds (the RunTask state's TimeoutSeconds). */
  taskTimeoutSeconds: number;
}

/** Capacity / throttling re-runs of RunTask when ECS could not start the task; the container never ran. */
export const MAX_START_ATTEMPTS = 3;
/** First wait before a re-run; doubles each time. */
export const START_RETRY_BASE_SECONDS = 30;
/** Room for task definition calls, provisioning and the re-run waits, on top of the task's own timeout. */
export const EXECUTION_MARGIN_SECONDS = 900;

/**
 * Errors retried in place: requests that were refused, so retrying cannot run anything twice. `Ecs.*` are the
 * AWS SDK integration's names (describe/register); `ECS.*` the optimised RunTask integration's. RunTask is NOT
 * retried on ServerException: ECS may have started the task, and a migration must not run twice.
 */
export const SDK_RETRY_ERRORS = ["Ecs.ThrottlingException", "Ecs.ServerException"];
export const RUN_TASK_RETRY_ERRORS = ["ECS.ThrottlingException"];

/**
 * The reasons ECS gives when it could not place or start a task for lack of capacity or because it throttled
 * the call. Matched against the error message of `ECS.AmazonECSException` (RunTask `failures`) and the
 * `StoppedReason` of a task that stopped with `TaskFailedToStart`.
 */
export const CAPACITY_REASONS = /Capacity is unavailable|RESOURCE:|Rate exceeded|ThrottlingException/;

function jsonata(expression: string): string {
  return `{% ${expression.replace(/\s*\n\s*/g, " ").trim()} %}`;
}

function jsonString(value: string): string {
  return JSON.stringify(value);
}

/** JSONata: the run summary (contract.TaskRunSummary) from a task description bound to `$t`. */
function summaryOf(params: StateMachineParams): string {
  const container = jsonString(params.containerName);
  return `{
    "imageTag": $imageTag,
    "taskDefinitionArn": $taskDefinitionArn,
    "taskArn": $t.TaskArn,
    "exitCode": $t.Containers[Name = ${container}].ExitCode,
    "stoppedReason": $t.StoppedReason,
    "stopCode": $t.StopCode,
    "logGroup": ${jsonString(params.logGroupName)},
    "logStream": $t.TaskArn ? ${jsonString(`${LOG_STREAM_PREFIX}/${params.containerName}/`)} & $split($t.TaskArn, "/")[-1]
  }`;
}

/** The state machine definition as an object (serialise with JSON.stringify). */
export function taskRunnerDefinition(params: StateMachineParams): Record<string, unknown> {
  const retrySdk = [
    {
      ErrorEquals: SDK_RETRY_ERRORS,
      IntervalSeconds: 2,
      BackoffRate: 2,
      MaxAttempts: 3,
      MaxDelaySeconds: 30,
      JitterStrategy: "FULL",
    },
  ];
  const imagePattern = "/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/";
  const registerableKeys = [
    "Family",
    "TaskRoleArn",
    "ExecutionRoleArn",
    "NetworkMode",
    "Volumes",
    "PlacementConstraints",
    "RequiresCompatibilities",
    "Cpu",
    "Memory",
    "PidMode",
    "IpcMode",
    "ProxyConfiguration",
    "EphemeralStorage",
    "RuntimePlatform",
  ];
  const prepareFailed = {
    ErrorEquals: ["States.ALL"],
    Output: jsonata(
      `{ "imageTag": $imageTag, "error": $states.errorOutput.Error, "message": $states.errorOutput.Cause }`,
    ),
    Next: "PrepareFailed",
  };

  return {
    Comment: `Runs one ${params.family} task with the image tag given in the input: {"imageTag": "<immutable tag>"}`,
    QueryLanguage: "JSONata",
    TimeoutSeconds: params.taskTimeoutSeconds + EXECUTION_MARGIN_SECONDS,
    StartAt: "ValidateInput",
    States: {
      ValidateInput: {
        Type: "Choice",
        Choices: [
          {
            Condition: jsonata(
              `$type($states.input.imageTag) = "string" and $contains($states.input.imageTag, ${imagePattern})`,
            ),
            Next: "RememberInput",
          },
        ],
        Default: "InvalidInput",
      },
      InvalidInput: {
        Type: "Fail",
        Error: TASK_RUN_ERRORS.invalidInput,
        Cause: jsonata(
          `"expected input {\\"imageTag\\": \\"<immutable ECR tag, e.g. the commit SHA>\\"} (letters, digits, _ . -, at most 128 characters, not starting with . or -), found " & $string($states.input)`,
        ),
      },
      RememberInput: {
        Type: "Pass",
        Assign: { imageTag: "{% $states.input.imageTag %}", attempt: 0 },
        Next: "DescribeTaskDefinition",
      },
      DescribeTaskDefinition: {
        Type: "Task",
        Comment: "The latest ACTIVE revision of the family: Pulumi's or the last one an execution registered.",
        Resource: statesIntegrationArn(params, "aws-sdk:ecs:describeTaskDefinition"),
        Arguments: { TaskDefinition: params.family },
        Output: "{% $states.result.TaskDefinition %}",
        Retry: retrySdk,
        Catch: [prepareFailed],
        Next: "RegisterTaskDefinition",
      },
      RegisterTaskDefinition: {
        Type: "Task",
        Comment:
          "Same task definition, the task container's image replaced by the input's tag (RunTask cannot override images).",
        Resource: statesIntegrationArn(params, "aws-sdk:ecs:registerTaskDefinition"),
        Arguments: jsonata(`$merge([
          $sift($states.input, function($v, $k) { $k in ${JSON.stringify(registerableKeys)} }),
          {
            "ContainerDefinitions": [$map($states.input.ContainerDefinitions, function($c) {
              $c.Name = ${jsonString(params.containerName)}
                ? $merge([$c, { "Image": ${jsonString(`${params.repositoryUrl}:`)} & $imageTag }])
                : $c
            })]
          }
        ])`),
        Assign: { taskDefinitionArn: "{% $states.result.TaskDefinition.TaskDefinitionArn %}" },
        Retry: retrySdk,
        Catch: [prepareFailed],
        Next: "RunTask",
      },
      RunTask: {
        Type: "Task",
        Resource: statesIntegrationArn(params, "ecs:runTask.sync"),
        Arguments: {
          Cluster: params.clusterArn,
          TaskDefinition: "{% $taskDefinitionArn %}",
          LaunchType: "FARGATE",
          PlatformVersion: "LATEST",
          NetworkConfiguration: {
            AwsvpcConfiguration: {
              Subnets: params.subnetIds,
              SecurityGroups: [params.securityGroupId],
              AssignPublicIp: "DISABLED",
            },
          },
        },
        TimeoutSeconds: params.taskTimeoutSeconds,
        Output: jsonata(`( $t := $states.result; ${summaryOf(params)} )`),
        Retry: [
          {
            ErrorEquals: RUN_TASK_RETRY_ERRORS,
            IntervalSeconds: 5,
            BackoffRate: 2,
            MaxAttempts: 3,
            MaxDelaySeconds: 60,
            JitterStrategy: "FULL",
          },
        ],
        Catch: [
          {
            ErrorEquals: ["States.ALL"],
            // A stopped task comes back as States.TaskFailed with the task description (JSON) as its cause.
            Output: jsonata(`(
              $c := $states.errorOutput.Cause;
              $t := ($type($c) = "string" and $substring($c, 0, 1) = "{") ? $parse($c) : {};
              $merge([${summaryOf(params)}, { "error": $states.errorOutput.Error }, $t.TaskArn ? {} : { "message": $c }])
            )`),
            Next: "ClassifyFailure",
          },
        ],
        Next: "CheckExitCode",
      },
      ClassifyFailure: {
        Type: "Choice",
        Choices: [
          {
            // The container never ran: ECS had no capacity or throttled the call. Re-run, at most MAX_START_ATTEMPTS.
            Condition: jsonata(`$attempt < ${MAX_START_ATTEMPTS - 1} and (
              ($states.input.error = "ECS.AmazonECSException" and $contains($states.input.message, ${CAPACITY_REASONS.toString()}))
              or ($states.input.error = "States.TaskFailed" and $states.input.stopCode = "TaskFailedToStart"
                  and $contains($states.input.stoppedReason, ${CAPACITY_REASONS.toString()}))
            )`),
            Next: "WaitBeforeRetry",
          },
          { Condition: jsonata(`$states.input.error = "States.Timeout"`), Next: "TimedOut" },
          { Condition: jsonata(`$exists($states.input.taskArn)`), Next: "TaskFailed" },
        ],
        Default: "StartFailed",
      },
      WaitBeforeRetry: {
        Type: "Wait",
        Seconds: jsonata(`${START_RETRY_BASE_SECONDS} * $power(2, $attempt)`),
        Assign: { attempt: "{% $attempt + 1 %}" },
        Next: "RunTask",
      },
      CheckExitCode: {
        Type: "Choice",
        Choices: [{ Condition: jsonata(`$states.input.exitCode = 0`), Next: "Succeeded" }],
        Default: "TaskFailed",
      },
      Succeeded: { Type: "Succeed" },
      TaskFailed: { Type: "Fail", Error: TASK_RUN_ERRORS.taskFailed, Cause: "{% $string($states.input) %}" },
      TimedOut: { Type: "Fail", Error: TASK_RUN_ERRORS.timedOut, Cause: "{% $string($states.input) %}" },
      StartFailed: { Type: "Fail", Error: TASK_RUN_ERRORS.startFailed, Cause: "{% $string($states.input) %}" },
      PrepareFailed: { Type: "Fail", Error: TASK_RUN_ERRORS.prepareFailed, Cause: "{% $string($states.input) %}" },
    },
  };
}
