/**
 * The task runner's Step Functions definition (Amazon States Language, JSONata), built by a pure function so
 * tests can parse and check every state.
 *
 * Flow: ValidateInput → CheckAllowList → RememberInput → DescribeTaskDefinition → RegisterTaskDefinition →
 * RunTask (.sync, with the input's command / environment as container overrides) → CheckExitCode → Succeeded, with
 * failure states that carry the stopped reason and the exit code.
 *
 * Image override: ECS RunTask cannot override a container's image, so each execution registers a new revision
 * of the family, identical to the latest ACTIVE one except the task container's image
 * (`<repositoryUrl>:<imageTag>`), and runs exactly that revision.
 */
import { statesIntegrationArn } from "../../contract/arn";
import { LOG_STREAM_PREFIX, TASK_RUN_ERRORS } from "./contract";
import {
  allowListProblems,
  containerOverrideExpression,
  jsonata,
  type OverrideAllowList,
  validInputCondition,
} from "./state-machine-input";

export interface StateMachineParams extends OverrideAllowList {
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

/**
 * Capacity re-runs of RunTask when ECS could not start the task (the container never ran). Each attempt adds
 * about ten history events, far below Step Functions' 25,000-event limit per execution.
 */
export const MAX_START_ATTEMPTS = 3;
/** First wait before a re-run; doubles each time (30 s, 60 s). */
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
 * The errors under which a `.sync` RunTask reports that Fargate could not start the task, each retried only when
 * its message is a capacity or throttling reason (`CAPACITY_REASONS`):
 * - `AmazonECS.Unknown`: "Run a Job (.sync): if a non-empty `Failures` field is encountered, the task is failed
 *   with an `AmazonECS.Unknown` error" (AWS Step Functions developer guide, "Run Amazon ECS or Fargate tasks with
 *   Step Functions", https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html). RunTask puts "no
 *   capacity" in `failures[].reason` with HTTP 200, so this is the usual shape of a capacity failure.
 * - `ECS.AmazonECSException`: RunTask refused the call ("Capacity is unavailable at this time. Please try again
 *   later or in a different availability zone"; AWS re:Post knowledge center, "ecs-fargate-runtask-capacity":
 *   "Step Functions records ECS.AmazonECSException in its ErrorEquals field").
 * - `States.TaskFailed` with stop code `TaskFailedToStart`: the task was placed, then stopped before its container
 *   ran (a stopped task fails a `.sync` state with the task description as `Cause`; "Handling errors in Step
 *   Functions", https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 */
export const CAPACITY_ERRORS = { failures: "AmazonECS.Unknown", refused: "ECS.AmazonECSException" } as const;

/**
 * The reasons ECS gives when it could not place or start a task for lack of capacity or because it throttled
 * the call: "Capacity is unavailable at this time", `RESOURCE:CPU` / `RESOURCE:MEMORY` / `RESOURCE:ENI` failure
 * reasons, "Rate exceeded" / ThrottlingException.
 */
export const CAPACITY_REASONS = /Capacity is unavailable|RESOURCE:|Rate exceeded|ThrottlingException/;

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
    Comment: `Runs one ${params.family} task: {"imageTag": "<immutable tag>", "command"?: [...], "environment"?: {...}}`,
    QueryLanguage: "JSONata",
    TimeoutSeconds: params.taskTimeoutSeconds + EXECUTION_MARGIN_SECONDS,
    StartAt: "ValidateInput",
    States: {
      ValidateInput: {
        Type: "Choice",
        Choices: [{ Condition: validInputCondition(), Next: "CheckAllowList" }],
        Default: "InvalidInput",
      },
      InvalidInput: {
        Type: "Fail",
        Error: TASK_RUN_ERRORS.invalidInput,
        Cause: jsonata(
          `"expected input {\\"imageTag\\": \\"<immutable ECR tag, e.g. the commit SHA>\\", \\"command\\": [\\"<arg>\\", ...] (optional), \\"environment\\": {\\"NAME\\": \\"value\\"} (optional)}; the tag: letters, digits, _ . -, at most 128 characters, not starting with . or -, not latest; found " & $string($states.input)`,
        ),
      },
      // The task's allow-list (config allowCommandOverride / allowedEnvironment): anything else fails, named.
      CheckAllowList: {
        Type: "Choice",
        Choices: [{ Condition: jsonata(`$count(${allowListProblems(params)}) > 0`), Next: "OverrideNotAllowed" }],
        Default: "RememberInput",
      },
      OverrideNotAllowed: {
        Type: "Fail",
        Error: TASK_RUN_ERRORS.notAllowed,
        Cause: jsonata(`$join(${allowListProblems(params)}, "; ")`),
      },
      RememberInput: {
        Type: "Pass",
        Assign: {
          imageTag: "{% $states.input.imageTag %}",
          containerOverride: jsonata(containerOverrideExpression(params.containerName)),
          attempt: 0,
        },
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
          Overrides: { ContainerOverrides: ["{% $containerOverride %}"] },
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
            // The container never ran: no capacity, or throttled (CAPACITY_ERRORS cites the AWS docs for each
            // name). Re-run, at most MAX_START_ATTEMPTS in all.
            Condition: jsonata(`$attempt < ${MAX_START_ATTEMPTS - 1} and (
              ($states.input.error in ${JSON.stringify(Object.values(CAPACITY_ERRORS))}
                and $contains($string($states.input.message), ${CAPACITY_REASONS.toString()}))
              or ($states.input.error = "States.TaskFailed" and $states.input.stopCode = "TaskFailedToStart"
                  and $contains($string($states.input.stoppedReason), ${CAPACITY_REASONS.toString()}))
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
