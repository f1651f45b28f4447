/**
 * The IAM statements of the runner fleet, as pure functions of concrete names and ARNs, so that each can be
 * read (and tested) against the AWS Service Authorization Reference on its own.
 *
 * Rules followed throughout: no `*` actions; `Resource: "*"` only for actions that have no resource types
 * (ec2:Describe*, the SSM agent's message channels); launches scoped to this stack's templates, subnets and
 * security group; terminations and clean-up conditioned on the `cirunners:stack` tag.
 */
import type { PolicyStatement } from "../shared/iam";
import { TAG } from "../../contract/names";

/** Where the stack lives: every ARN below is built from these. */
export interface AwsLocation {
  region: string;
  account: string;
}

/** `arn:aws:ssm:<region>:<account>:parameter/<path>` for a parameter name that starts with `/`. */
export function parameterArn(where: AwsLocation, name: string): string {
  // AWS's public parameters (/aws/service/...) are owned by AWS: their ARNs carry no account id.
  const account = name.startsWith("/aws/service/") ? "" : where.account;
  return `arn:aws:ssm:${where.region}:${account}:parameter${name}`;
}

/** Every parameter under a path prefix (`/cirunners/dev/runners` → `.../parameter/cirunners/dev/runners/*`). */
export function parameterPathArn(where: AwsLocation, prefix: string): string {
  return `${parameterArn(where, prefix.replace(/\/+$/, ""))}/*`;
}

export function ec2Arn(where: AwsLocation, resource: string): string {
  return `arn:aws:ec2:${where.region}:${where.account}:${resource}`;
}

/** What EC2 creates for (and tags during) one launch: these ARNs are only known as patterns. */
function launchedResourceArns(where: AwsLocation): string[] {
  return ["instance/*", "volume/*", "network-interface/*", "fleet/*", "spot-instances-request/*"].map((r) =>
    ec2Arn(where, r),
  );
}

export interface InstanceRoleScope extends AwsLocation {
  /** JIT config parameters live under this prefix, one per instance (`/cirunners/<stack>/runners`). */
  parameterPrefix: string;
  /** ARN of the runner binary cache bucket. */
  cacheBucketArn: string;
  /** ARN of the runners' log group (without the trailing `:*`). */
  logGroupArn: string;
}

/** The EC2 policy variable for the calling instance, kept literally in the JSON (IAM substitutes it). */
export const SOURCE_INSTANCE_ARN_VARIABLE = "${ec2:SourceInstanceARN}";

/**
 * What a runner instance may do, and nothing else: the job it runs is untrusted code with the same
 * credentials, so the role must not open anything beyond the instance's own bootstrap.
 */
export function instanceRoleStatements(scope: InstanceRoleScope): PolicyStatement[] {
  return [
    {
      // The launcher tags each JIT parameter with the ARN of the one instance allowed to read it; the policy
      // variable makes "its own" concrete, so a runner cannot read another runner's registration.
      Sid: "ReadAndDeleteOwnRunnerConfig",
      Effect: "Allow",
      Action: ["ssm:GetParameter", "ssm:DeleteParameter"],
      Resource: parameterPathArn(scope, scope.parameterPrefix),
      Condition: { StringEquals: { [`aws:ResourceTag/${TAG.instanceArn}`]: SOURCE_INSTANCE_ARN_VARIABLE } },
    },
    {
      Sid: "ReadRunnerBinaryCache",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: `${scope.cacheBucketArn}/actions-runner/*`,
    },
    {
      Sid: "WriteRunnerLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
      Resource: [scope.logGroupArn, `${scope.logGroupArn}:*`],
    },
    {
      // Session Manager, part 1: the agent's heartbeat. UpdateInstanceInformation has the `instance` resource
      // type, so it is scoped to instances. Chosen over the managed AmazonSSMManagedInstanceCore, which also
      // grants ssm:GetParameter(s) on every parameter — job code could then read the GitHub App private key.
      Sid: "SessionManagerHeartbeat",
      Effect: "Allow",
      Action: ["ssm:UpdateInstanceInformation"],
      Resource: `arn:aws:ec2:${scope.region}:${scope.account}:instance/*`,
    },
    {
      // Session Manager, part 2: the agent's message channels. These actions have no resource types in the
      // Service Authorization Reference, so "*" is the only valid resource.
      Sid: "SessionManagerChannels",
      Effect: "Allow",
      Action: [
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
        // Older SSM Agent versions poll their commands over ec2messages; listed one by one, never as a wildcard.
        "ec2messages:AcknowledgeMessage",
        "ec2messages:DeleteMessage",
        "ec2messages:FailMessage",
        "ec2messages:GetEndpoint",
        "ec2messages:GetMessages",
        "ec2messages:SendReply",
      ],
      Resource: "*",
    },
  ];
}

/** Tag keys the launcher and the warm pool add to an instance after CreateFleet returned. */
export const POST_LAUNCH_TAG_KEYS = [TAG.runnerName, TAG.jobId, TAG.repository, TAG.warm, "Name"] as const;

export interface LaunchScope extends AwsLocation {
  stack: string;
  parameterPrefix: string;
  launchTemplateArns: string[];
  subnetIds: string[];
  securityGroupArn: string;
  instanceRoleArn: string;
  appPrivateKeyParameter: string;
  /** SSM parameters the launch templates resolve their AMI from (`resolve:ssm:`), possibly none. */
  amiParameters: string[];
  /** True when a pool requests spot capacity. */
  spot: boolean;
}

/**
 * Starting runners (the launcher, and the warm pool which starts idle ones): CreateFleet (`instant`) calls
 * RunInstances on the caller's behalf, so the caller needs both on every resource the launch touches — the
 * launch template, subnets, security group, AMI, and the instances, volumes, network interfaces, fleet and
 * spot requests it creates — plus CreateTags for the tags set at launch and iam:PassRole for the instance
 * profile's role. An `instant` fleet needs no EC2 Fleet service-linked role.
 */
export function launchStatements(scope: LaunchScope): PolicyStatement[] {
  const statements: PolicyStatement[] = [
    {
      Sid: "LaunchFromPoolTemplates",
      Effect: "Allow",
      Action: ["ec2:CreateFleet", "ec2:RunInstances"],
      Resource: [
        ...scope.launchTemplateArns,
        ...scope.subnetIds.map((id) => ec2Arn(scope, `subnet/${id}`)),
        scope.securityGroupArn,
        // AMIs (public ones included) belong to other accounts: the image ARN has no account id.
        `arn:aws:ec2:${scope.region}::image/*`,
        ...launchedResourceArns(scope),
      ],
    },
    {
      Sid: "TagAtLaunchOnly",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: launchedResourceArns(scope),
      Condition: { StringEquals: { "ec2:CreateAction": ["CreateFleet", "RunInstances"] } },
    },
    {
      // Runners started together in one fleet get their per-job tags right after the launch, and the warm pool
      // marks its instances: only instances of this stack, and only those tag keys (never cirunners:stack or
      // cirunners:pool, which the IAM conditions and the reaper rely on).
      Sid: "TagOwnInstancesAfterLaunch",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: ec2Arn(scope, "instance/*"),
      Condition: {
        StringEquals: { [`aws:ResourceTag/${TAG.stack}`]: scope.stack },
        "ForAllValues:StringEquals": { "aws:TagKeys": [...POST_LAUNCH_TAG_KEYS] },
      },
    },
    {
      Sid: "PassInstanceRoleToEc2",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: scope.instanceRoleArn,
      Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
    },
    {
      // Counting a pool's live runners and reading fleet results; Describe* has no resource types.
      Sid: "DescribeInstances",
      Effect: "Allow",
      Action: ["ec2:DescribeInstances"],
      Resource: "*",
    },
    {
      // A launch that fails half-way terminates what it started; only instances of this stack.
      Sid: "TerminateOwnInstances",
      Effect: "Allow",
      Action: ["ec2:TerminateInstances"],
      Resource: ec2Arn(scope, "instance/*"),
      Condition: { StringEquals: { [`aws:ResourceTag/${TAG.stack}`]: scope.stack } },
    },
    {
      // JIT configs are SecureStrings under the stack's prefix (the default aws/ssm key's policy already lets
      // SSM encrypt for principals of this account, so no kms statement is needed).
      Sid: "WriteRunnerConfigs",
      Effect: "Allow",
      // PutParameter with Tags needs AddTagsToResource; clean-up deletes in batches (DeleteParameters).
      Action: ["ssm:PutParameter", "ssm:AddTagsToResource", "ssm:DeleteParameters"],
      Resource: parameterPathArn(scope, scope.parameterPrefix),
    },
    {
      Sid: "ReadGitHubAppKey",
      Effect: "Allow",
      Action: ["ssm:GetParameter"],
      Resource: parameterArn(scope, scope.appPrivateKeyParameter),
    },
  ];
  if (scope.amiParameters.length > 0) {
    // `resolve:ssm:` in a launch template is resolved with the caller's permissions at each launch.
    statements.push({
      Sid: "ResolveAmiParameters",
      Effect: "Allow",
      Action: ["ssm:GetParameters"],
      Resource: [...new Set(scope.amiParameters)].map((name) => parameterArn(scope, name)),
    });
  }
  if (scope.spot) {
    // The first spot request in an account creates the Spot service-linked role; allow exactly that one.
    statements.push({
      Sid: "CreateSpotServiceLinkedRole",
      Effect: "Allow",
      Action: ["iam:CreateServiceLinkedRole"],
      Resource: `arn:aws:iam::${scope.account}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot`,
      Condition: { StringEquals: { "iam:AWSServiceName": "spot.amazonaws.com" } },
    });
  }
  return statements;
}

/** Consuming the job queue through the Lambda event source mapping. */
export function consumeQueueStatement(queueArn: string): PolicyStatement {
  return {
    Sid: "ConsumeJobQueue",
    Effect: "Allow",
    Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
    Resource: queueArn,
  };
}

/** Sending failed asynchronous invocations to the function's own dead-letter queue. */
export function deadLetterStatement(queueArn: string): PolicyStatement {
  return { Sid: "SendToOwnDeadLetterQueue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: queueArn };
}

export interface ReaperScope extends AwsLocation {
  stack: string;
  parameterPrefix: string;
  appPrivateKeyParameter: string;
}

/** The reaper: finds our instances, terminates orphans, deletes JIT configs left behind, deregisters ghosts. */
export function reaperStatements(scope: ReaperScope): PolicyStatement[] {
  return [
    { Sid: "DescribeInstances", Effect: "Allow", Action: ["ec2:DescribeInstances"], Resource: "*" },
    {
      Sid: "TerminateOwnInstances",
      Effect: "Allow",
      Action: ["ec2:TerminateInstances"],
      Resource: ec2Arn(scope, "instance/*"),
      Condition: { StringEquals: { [`aws:ResourceTag/${TAG.stack}`]: scope.stack } },
    },
    {
      Sid: "ListRunnerConfigs",
      Effect: "Allow",
      // GetParametersByPath is authorised on the path itself.
      Action: ["ssm:GetParametersByPath"],
      Resource: [
        parameterArn(scope, scope.parameterPrefix.replace(/\/+$/, "")),
        parameterPathArn(scope, scope.parameterPrefix),
      ],
    },
    {
      Sid: "DeleteLeftoverRunnerConfigs",
      Effect: "Allow",
      // The reaper deletes in batches of ten (DeleteParameters), authorised per parameter ARN.
      Action: ["ssm:DeleteParameters"],
      Resource: parameterPathArn(scope, scope.parameterPrefix),
    },
    {
      Sid: "ReadGitHubAppKey",
      Effect: "Allow",
      Action: ["ssm:GetParameter"],
      Resource: parameterArn(scope, scope.appPrivateKeyParameter),
    },
  ];
}

/**
 * The runner binary cache: reads its manifests and streams new tarballs under `actions-runner/` as multipart
 * uploads (s3:PutObject covers Create/UploadPart/Complete; an abandoned upload is aborted explicitly).
 */
export function runnerCacheStatements(
  scope: { cacheBucketArn: string; appPrivateKeyParameter?: string } & AwsLocation,
): PolicyStatement[] {
  const statements: PolicyStatement[] = [
    {
      Sid: "ReadWriteRunnerBinaryCache",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
      Resource: `${scope.cacheBucketArn}/actions-runner/*`,
    },
  ];
  statements.push({
    // Without ListBucket a missing manifest answers 403 instead of 404 (NoSuchKey), and the first run, on an
    // empty bucket, could not tell "not cached yet" from "denied". The bucket holds nothing but runner tarballs.
    Sid: "SeeMissingManifests",
    Effect: "Allow",
    Action: ["s3:ListBucket"],
    Resource: scope.cacheBucketArn,
  });
  if (scope.appPrivateKeyParameter) {
    statements.push({
      Sid: "ReadGitHubAppKey",
      Effect: "Allow",
      Action: ["ssm:GetParameter"],
      Resource: parameterArn(scope, scope.appPrivateKeyParameter),
    });
  }
  return statements;
}
