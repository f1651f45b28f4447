// Actions that may be granted on `"Resource": "*"`.
//
// Source of truth: the AWS Service Authorization Reference
// (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
// In each service's "Actions defined by ..." table, an action whose "Resource types" column is EMPTY does not
// support resource-level permissions, so a policy must name `"*"` for it. Every other action can (and in this
// project must) be scoped to ARNs. An entry belongs here only if the reference shows an empty "Resource
// types" column for it; review the list when AWS adds resource types to an action (this happens: for example
// ecs:RegisterTaskDefinition now has the `task-definition*` resource type).
//
// Deliberately NOT in the list (they support resource-level permissions, so scope them):
//   ec2:RunInstances, ec2:CreateFleet, ec2:CreateTags, ec2:TerminateInstances, ec2:CreateLaunchTemplateVersion,
//   ec2:CreateNetworkInterface, ec2:DeleteNetworkInterface, ec2:CreateNetworkInterfacePermission (the CodeBuild
//   VPC set: only its Describe* members are exempt), ecs:RegisterTaskDefinition, ecs:RunTask, iam:PassRole,
//   iam:CreateServiceLinkedRole, ssm:GetParameter*, ssm:PutParameter, logs:CreateLogGroup/CreateLogStream/
//   PutLogEvents, sqs:*Message, kms:Decrypt, states:StartExecution, lambda:InvokeFunction.
import { actionCoveredBy } from "./actions";

export interface StarResourceAction {
  /** Action or action pattern (IAM wildcards) whose actions all have an empty "Resource types" column. */
  action: string;
  /** Why it is here / what uses it in this platform. */
  note: string;
  /** Service Authorization Reference page for the service. */
  reference: string;
}

const SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference/";

/** The maintained list (see the header comment). */
export const ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS: readonly StarResourceAction[] = Object.freeze([
  // EC2: runner scale-up/reaper reads, CodeBuild VPC builds (DescribeDhcpOptions, DescribeNetworkInterfaces,
  // DescribeSubnets, DescribeSecurityGroups, DescribeVpcs), spot price lookups.
  {
    action: "ec2:Describe*",
    note: "EC2 Describe* (read/list) actions have no resource types: runner scale-up and reaper lookups, the CodeBuild VPC Describe set",
    reference: `${SAR}list_amazonec2.html`,
  },
  // ECR / registries
  {
    action: "ecr:GetAuthorizationToken",
    note: "registry login token (docker login); image pulls themselves are scoped to repositories",
    reference: `${SAR}list_amazonelasticcontainerregistry.html`,
  },
  {
    action: "ecr-public:GetAuthorizationToken",
    note: "ECR Public login token",
    reference: `${SAR}list_amazonelasticcontainerregistrypublic.html`,
  },
  {
    action: "sts:GetServiceBearerToken",
    note: "bearer token required by ECR Public login",
    reference: `${SAR}list_awssecuritytokenservice.html`,
  },
  // STS
  {
    action: "sts:GetCallerIdentity",
    note: "identity lookup (needs no permission at all, harmless to list)",
    reference: `${SAR}list_awssecuritytokenservice.html`,
  },
  // SSM Parameter Store
  {
    action: "ssm:DescribeParameters",
    note: "lists parameter metadata; GetParameter*/PutParameter/DeleteParameter are scoped to parameter ARNs",
    reference: `${SAR}list_awssystemsmanager.html`,
  },
  // CloudWatch Logs
  {
    action: "logs:DescribeLogGroups",
    note: "lists log groups; CreateLogStream/PutLogEvents are scoped to log-group ARNs",
    reference: `${SAR}list_amazoncloudwatchlogs.html`,
  },
  // CloudWatch Logs vended-log deliveries (Step Functions, API Gateway access logs): the delivery actions and the
  // account's log resource policies have no resource types.
  {
    action: "logs:CreateLogDelivery",
    note: "Step Functions / API Gateway log delivery",
    reference: `${SAR}list_amazoncloudwatchlogs.html`,
  },
  {
    action: "logs:GetLogDelivery",
    note: "Step Functions / API Gateway log delivery",
    reference: `${SAR}list_amazoncloudwatchlogs.html`,
  },
  {
    action: "logs:UpdateLogDelivery",
    note: "Step Functions / API Gateway log delivery",
    reference: `${SAR}list_amazoncloudwatchlogs.html`,
  },
  {
    action: "logs:DeleteLogDelivery",
    note: "Step Functions / API Gateway log delivery",
    reference: `${SAR}list_amazoncloudwatchlogs.html`,
  },
  {
    action: "logs:ListLogDeliveries",
    note: "Step Functions / API Gateway log delivery",
    reference: `${SAR}list_amazoncloudwatchlogs.html`,
  },
  {
    action: "logs:PutResourcePolicy",
    note: "log delivery writes the log group's resource policy",
    reference: `${SAR}list_amazoncloudwatchlogs.html`,
  },
  {
    action: "logs:DescribeResourcePolicies",
    note: "log delivery reads the log resource policies",
    reference: `${SAR}list_amazoncloudwatchlogs.html`,
  },
  // Session Manager's agent channels (the AmazonSSMManagedInstanceCore set; ssm:UpdateInstanceInformation is NOT
  // here: it has the instance resource type)
  {
    action: "ssmmessages:CreateControlChannel",
    note: "Session Manager agent",
    reference: `${SAR}list_amazonsessionmanagermessagegatewayservice.html`,
  },
  {
    action: "ssmmessages:CreateDataChannel",
    note: "Session Manager agent",
    reference: `${SAR}list_amazonsessionmanagermessagegatewayservice.html`,
  },
  {
    action: "ssmmessages:OpenControlChannel",
    note: "Session Manager agent",
    reference: `${SAR}list_amazonsessionmanagermessagegatewayservice.html`,
  },
  {
    action: "ssmmessages:OpenDataChannel",
    note: "Session Manager agent",
    reference: `${SAR}list_amazonsessionmanagermessagegatewayservice.html`,
  },
  {
    action: "ec2messages:AcknowledgeMessage",
    note: "SSM Agent message delivery",
    reference: `${SAR}list_amazonmessagedeliveryservice.html`,
  },
  {
    action: "ec2messages:DeleteMessage",
    note: "SSM Agent message delivery",
    reference: `${SAR}list_amazonmessagedeliveryservice.html`,
  },
  {
    action: "ec2messages:FailMessage",
    note: "SSM Agent message delivery",
    reference: `${SAR}list_amazonmessagedeliveryservice.html`,
  },
  {
    action: "ec2messages:GetEndpoint",
    note: "SSM Agent message delivery",
    reference: `${SAR}list_amazonmessagedeliveryservice.html`,
  },
  {
    action: "ec2messages:GetMessages",
    note: "SSM Agent message delivery",
    reference: `${SAR}list_amazonmessagedeliveryservice.html`,
  },
  {
    action: "ec2messages:SendReply",
    note: "SSM Agent message delivery",
    reference: `${SAR}list_amazonmessagedeliveryservice.html`,
  },
  // CloudWatch metrics (scope PutMetricData with the cloudwatch:namespace condition key instead)
  {
    action: "cloudwatch:PutMetricData",
    note: "custom metrics (Powertools Metrics / EMF); restrict with the cloudwatch:namespace condition",
    reference: `${SAR}list_amazoncloudwatch.html`,
  },
  { action: "cloudwatch:GetMetricData", note: "metric reads", reference: `${SAR}list_amazoncloudwatch.html` },
  { action: "cloudwatch:GetMetricStatistics", note: "metric reads", reference: `${SAR}list_amazoncloudwatch.html` },
  { action: "cloudwatch:ListMetrics", note: "metric listing", reference: `${SAR}list_amazoncloudwatch.html` },
  // X-Ray (the AWSXRayDaemonWriteAccess set)
  { action: "xray:PutTraceSegments", note: "Lambda active tracing", reference: `${SAR}list_awsx-ray.html` },
  { action: "xray:PutTelemetryRecords", note: "Lambda active tracing", reference: `${SAR}list_awsx-ray.html` },
  { action: "xray:GetSamplingRules", note: "X-Ray SDK sampling", reference: `${SAR}list_awsx-ray.html` },
  { action: "xray:GetSamplingTargets", note: "X-Ray SDK sampling", reference: `${SAR}list_awsx-ray.html` },
  { action: "xray:GetSamplingStatisticSummaries", note: "X-Ray SDK sampling", reference: `${SAR}list_awsx-ray.html` },
  // ECS (RegisterTaskDefinition and RunTask are NOT here: they have the task-definition* resource type)
  {
    action: "ecs:DescribeTaskDefinition",
    note: "deployment path reads the current task definition",
    reference: `${SAR}list_amazonelasticcontainerservice.html`,
  },
  {
    action: "ecs:ListTaskDefinitions",
    note: "task definition listing",
    reference: `${SAR}list_amazonelasticcontainerservice.html`,
  },
  {
    action: "ecs:ListTaskDefinitionFamilies",
    note: "task definition family listing",
    reference: `${SAR}list_amazonelasticcontainerservice.html`,
  },
  {
    action: "ecs:DeregisterTaskDefinition",
    note: "old revision clean-up",
    reference: `${SAR}list_amazonelasticcontainerservice.html`,
  },
  { action: "ecs:ListClusters", note: "cluster listing", reference: `${SAR}list_amazonelasticcontainerservice.html` },
  // Listing APIs of services the platform uses
  {
    action: "sqs:ListQueues",
    note: "queue listing; Send/Receive/DeleteMessage are scoped to queue ARNs",
    reference: `${SAR}list_amazonsqs.html`,
  },
  {
    action: "s3:ListAllMyBuckets",
    note: "bucket listing; object access is scoped to bucket ARNs",
    reference: `${SAR}list_amazons3.html`,
  },
  { action: "lambda:ListFunctions", note: "function listing", reference: `${SAR}list_awslambda.html` },
  { action: "lambda:GetAccountSettings", note: "account limits", reference: `${SAR}list_awslambda.html` },
  {
    action: "kms:ListAliases",
    note: "alias listing; Decrypt/GenerateDataKey are scoped to key ARNs",
    reference: `${SAR}list_awskeymanagementservice.html`,
  },
  { action: "kms:ListKeys", note: "key listing", reference: `${SAR}list_awskeymanagementservice.html` },
  {
    action: "states:ListStateMachines",
    note: "state machine listing; StartExecution is scoped to state machine ARNs",
    reference: `${SAR}list_awsstepfunctions.html`,
  },
  {
    action: "codebuild:ListProjects",
    note: "project listing; StartBuild is scoped to project ARNs",
    reference: `${SAR}list_awscodebuild.html`,
  },
  { action: "codebuild:ListBuilds", note: "build listing", reference: `${SAR}list_awscodebuild.html` },
  {
    action: "codebuild:ListCuratedEnvironmentImages",
    note: "managed image listing",
    reference: `${SAR}list_awscodebuild.html`,
  },
  {
    action: "tag:GetResources",
    note: "Resource Groups Tagging API lookups (reaper finds runner instances by tag)",
    reference: `${SAR}list_amazonresourcegrouptaggingapi.html`,
  },
]);

/**
 * True when every action `action` (a statement's action, possibly a pattern) can grant is in the maintained
 * list or in `extraAllowed` (patterns from policy config), i.e. it may be granted on `"Resource": "*"`.
 */
export function actionAllowedOnAnyResource(action: string, extraAllowed: readonly string[] = []): boolean {
  for (const entry of ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS) {
    if (actionCoveredBy(entry.action, action)) {
      return true;
    }
  }
  for (const extra of extraAllowed) {
    if (actionCoveredBy(extra, action)) {
      return true;
    }
  }
  return false;
}

/** ARN shapes to suggest in messages for actions this platform commonly over-grants. Keys are lower case. */
const ARN_HINTS: Readonly<Record<string, string>> = {
  "ec2:runinstances":
    "arn:aws:ec2:REGION:ACCOUNT:instance/*, volume/*, network-interface/*, plus the launch-template/lt-..., subnet/subnet-..., security-group/sg-... it uses and arn:aws:ec2:REGION::image/ami-...",
  "ec2:createfleet":
    "arn:aws:ec2:REGION:ACCOUNT:fleet/*, instance/*, volume/*, network-interface/*, plus the launch-template, subnets and security groups it uses",
  "ec2:createtags":
    "arn:aws:ec2:REGION:ACCOUNT:instance/* (and fleet/*, volume/*) with a Condition on ec2:CreateAction",
  "ec2:terminateinstances":
    "arn:aws:ec2:REGION:ACCOUNT:instance/* with a Condition on aws:ResourceTag/<your runner tag>",
  "ec2:createnetworkinterface":
    "arn:aws:ec2:REGION:ACCOUNT:network-interface/*, subnet/subnet-..., security-group/sg-...",
  "ec2:deletenetworkinterface": "arn:aws:ec2:REGION:ACCOUNT:network-interface/*",
  "iam:passrole":
    "the ARNs of the roles that are passed (arn:aws:iam::ACCOUNT:role/NAME), ideally with a Condition on iam:PassedToService",
  "iam:createservicelinkedrole":
    "arn:aws:iam::ACCOUNT:role/aws-service-role/SERVICE.amazonaws.com/* with a Condition on iam:AWSServiceName",
  "ecs:registertaskdefinition": "arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:*",
  "ecs:runtask": "arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:*",
  "ssm:getparameter": "arn:aws:ssm:REGION:ACCOUNT:parameter/PATH/*",
  "ssm:putparameter": "arn:aws:ssm:REGION:ACCOUNT:parameter/PATH/*",
  "ssm:deleteparameter": "arn:aws:ssm:REGION:ACCOUNT:parameter/PATH/*",
  "logs:createlogstream": "arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*",
  "logs:putlogevents": "arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*",
  "sqs:sendmessage": "the queue ARN",
  "states:startexecution": "the state machine ARN",
};

/** A suggestion of the ARNs to use instead of `*` for an action, or a generic hint. */
export function resourceArnHint(action: string): string {
  const parts = action.trim().split(":");
  if (parts.length < 2 || /^[*?]+$/.test(parts[1]) || /[*?]/.test(parts[0])) {
    return "list the specific actions first (a wildcard action cannot be scoped), then their resource ARNs";
  }
  return (
    ARN_HINTS[action.trim().toLowerCase()] ??
    `the ARNs of the resources ${action} acts on (see its "Resource types" in the AWS Service Authorization Reference)`
  );
}
