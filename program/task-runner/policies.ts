/**
 * IAM documents of the task runner, as pure functions of resolved names and ARNs (tests call them directly and
 * the component calls them inside `apply`). Every statement names this task's resources; `"*"` appears only
 * for actions AWS does not scope to resources (ecr:GetAuthorizationToken, ecs:DescribeTaskDefinition and the
 * CloudWatch Logs delivery actions Step Functions logging needs).
 */
import { type AwsLocation, regionalArn } from "../../contract/arn";
import type { TaskConfig } from "../config";
import type { PolicyStatement } from "../shared/iam";
import { githubSubjects } from "../github-oidc";

/**
 * The exact OIDC subjects allowed to assume the deploy role: `ref:refs/heads/<branch>` for each branch and
 * `environment:<env>` for each environment (a job that uses an environment gets the environment subject, not the
 * branch one), by name and, when the repository's ids are configured, by immutable ids. No wildcards: the config
 * schema rejects them.
 */
export function deployRoleSubjects(task: Pick<TaskConfig, "repositories">): string[] {
  const subjects = task.repositories.flatMap((r) =>
    githubSubjects(r, [
      ...r.branches.map((branch) => `ref:refs/heads/${branch}`),
      ...r.environments.map((environment) => `environment:${environment}`),
    ]),
  );
  return [...new Set(subjects)];
}

/** `arn:...:execution:<name>:*` — the executions of one state machine. */
export function executionArnPattern(stateMachineArn: string): string {
  const marker = ":stateMachine:";
  const at = stateMachineArn.indexOf(marker);
  if (at < 0) throw new Error(`not a state machine ARN: ${stateMachineArn}`);
  return `${stateMachineArn.slice(0, at)}:execution:${stateMachineArn.slice(at + marker.length)}:*`;
}

/** The cluster name in `arn:aws:ecs:<region>:<account>:cluster/<name>`. */
export function clusterNameFromArn(clusterArn: string): string {
  const match = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/([A-Za-z0-9_-]{1,255})$/.exec(clusterArn);
  if (!match)
    throw new Error(
      `expected an ECS cluster ARN like arn:aws:ecs:eu-west-1:123456789012:cluster/name, found ${clusterArn}`,
    );
  return match[1];
}

const ECR_PUSH_ACTIONS = [
  "ecr:BatchCheckLayerAvailability",
  "ecr:InitiateLayerUpload",
  "ecr:UploadLayerPart",
  "ecr:CompleteLayerUpload",
  "ecr:PutImage",
  "ecr:BatchGetImage",
  "ecr:GetDownloadUrlForLayer",
];
const ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"];

/**
 * The deploy role (assumed by the workflow): push this task's image; start, find, watch and stop this state
 * machine's executions (tools/run-task: ListExecutions for one-at-a-time, GetExecutionHistory for the log stream,
 * StopExecution on cancel); read this task's log streams (live logs). ListExecutions is authorised on the state
 * machine, the others on its executions (Step Functions service authorization reference).
 */
export function deployRoleStatements(resources: {
  repositoryArn: string;
  stateMachineArn: string;
  logGroupArn: string;
}): PolicyStatement[] {
  return [
    { Sid: "PushTaskImage", Effect: "Allow", Action: ECR_PUSH_ACTIONS, Resource: resources.repositoryArn },
    // GetAuthorizationToken has no resource-level permissions; the token alone reaches no repository.
    { Sid: "RegistryLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    {
      Sid: "StartAndListTaskRuns",
      Effect: "Allow",
      Action: ["states:StartExecution", "states:ListExecutions"],
      Resource: resources.stateMachineArn,
    },
    {
      Sid: "WatchAndStopTaskRuns",
      Effect: "Allow",
      Action: ["states:DescribeExecution", "states:GetExecutionHistory", "states:StopExecution"],
      Resource: executionArnPattern(resources.stateMachineArn),
    },
    // GetLogEvents is authorised on the log stream: `<group ARN>:log-stream:<stream>`.
    {
      Sid: "ReadTaskLogs",
      Effect: "Allow",
      Action: "logs:GetLogEvents",
      Resource: `${logGroupBaseArn(resources.logGroupArn)}:log-stream:*`,
    },
  ];
}

/** A log group ARN without the `:*` Pulumi's `LogGroup.arn` may carry. */
export function logGroupBaseArn(logGroupArn: string): string {
  return logGroupArn.replace(/:\*$/, "");
}

/**
 * IAM resource ARN of a secret given as an ECS `valueFrom`: a Secrets Manager ARN may end in
 * `:json-key:version-stage:version-id` (ECS reads one key), which IAM does not know; a partial ARN (without
 * the 6-character suffix Secrets Manager appends) needs `-??????` to match.
 */
export function secretResourceArn(valueFrom: string): string {
  if (valueFrom.split(":")[2] !== "secretsmanager") return valueFrom;
  const secretArn = valueFrom.split(":").slice(0, 7).join(":");
  return /-[A-Za-z0-9]{6}$/.test(secretArn) ? secretArn : `${secretArn}-??????`;
}

/** The execution role (used by ECS to start the task): pull this image, write its logs, read its secrets. */
export function executionRoleStatements(resources: {
  repositoryArn: string;
  logGroupArn: string;
  secrets: Record<string, string>;
}): PolicyStatement[] {
  const values = Object.values(resources.secrets);
  const secretsManager = [
    ...new Set(values.filter((v) => v.split(":")[2] === "secretsmanager").map(secretResourceArn)),
  ].sort();
  const parameters = [...new Set(values.filter((v) => v.split(":")[2] === "ssm"))].sort();
  const statements: PolicyStatement[] = [
    { Sid: "PullTaskImage", Effect: "Allow", Action: ECR_PULL_ACTIONS, Resource: resources.repositoryArn },
    { Sid: "RegistryLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    {
      Sid: "WriteTaskLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: `${resources.logGroupArn}:*`,
    },
  ];
  if (secretsManager.length > 0) {
    statements.push({
      Sid: "ReadTaskSecrets",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: secretsManager,
    });
  }
  if (parameters.length > 0) {
    statements.push({ Sid: "ReadTaskParameters", Effect: "Allow", Action: "ssm:GetParameters", Resource: parameters });
  }
  return statements;
}

/** The CloudWatch Logs delivery actions Step Functions logging needs; AWS documents them on `"*"` only. */
export const LOG_DELIVERY_ACTIONS = [
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  "logs:DescribeLogGroups",
];

/** The state machine's role: register and run this family on this cluster, pass only the two task roles. */
export function stateMachineRoleStatements(
  where: AwsLocation,
  resources: { family: string; clusterArn: string; executionRoleArn: string; taskRoleArn: string },
): PolicyStatement[] {
  const taskDefinitions = regionalArn(where, "ecs", `task-definition/${resources.family}:*`);
  const tasks = regionalArn(where, "ecs", `task/${clusterNameFromArn(resources.clusterArn)}/*`);
  return [
    // DescribeTaskDefinition has no resource-level permissions.
    { Sid: "ReadTaskDefinition", Effect: "Allow", Action: "ecs:DescribeTaskDefinition", Resource: "*" },
    // RegisterTaskDefinition is scoped by the task-definition resource type (the new revision's ARN).
    { Sid: "RegisterTaskRevision", Effect: "Allow", Action: "ecs:RegisterTaskDefinition", Resource: taskDefinitions },
    {
      Sid: "RunTaskOnCluster",
      Effect: "Allow",
      Action: "ecs:RunTask",
      Resource: taskDefinitions,
      Condition: { ArnEquals: { "ecs:cluster": resources.clusterArn } },
    },
    { Sid: "WatchAndStopTask", Effect: "Allow", Action: ["ecs:DescribeTasks", "ecs:StopTask"], Resource: tasks },
    {
      Sid: "PassTaskRoles",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: [resources.executionRoleArn, resources.taskRoleArn],
      Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    },
    {
      // runTask.sync learns that the task stopped through this managed EventBridge rule.
      Sid: "SyncRule",
      Effect: "Allow",
      Action: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
      Resource: regionalArn(where, "events", "rule/StepFunctionsGetEventsForECSTaskRule"),
    },
    { Sid: "ExecutionLogDelivery", Effect: "Allow", Action: LOG_DELIVERY_ACTIONS, Resource: "*" },
  ];
}
