/**
 * The IAM statements of starting runners (the launcher, and the warm pool which starts idle ones), as pure
 * functions of concrete names and ARNs; see policies.ts for the rules they follow. `launchScopeOf` gathers those
 * names and ARNs from the runner fleet's outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { type AwsLocation, ec2Arn, iamArn, imageArn, parameterArn, parameterPathArn } from "../../contract/arn";
import { TAG } from "../../contract/names";
import type { GitHubConfig, RunnersConfig } from "../config";
import type { PolicyStatement } from "../shared/iam";
import { readGitHubAppKeyStatement } from "./policies";
import { launchTemplateImage } from "./pool-images";
import type { RunnerFleet } from "./runner-fleet";

/** What EC2 creates for (and tags during) one launch: these ARNs are only known as patterns. */
function launchedResourceArns(where: AwsLocation): string[] {
  return ["instance/*", "volume/*", "network-interface/*", "fleet/*", "spot-instances-request/*"].map((r) =>
    ec2Arn(where, r),
  );
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

/** What the launcher and the warm pool may launch from: this stack's templates, subnets, group and role. */
export function launchScopeOf(args: {
  location: pulumi.Output<AwsLocation>;
  stack: string;
  github: GitHubConfig;
  runners: RunnersConfig;
  parameterPrefix: string;
  fleet: RunnerFleet;
  privateSubnetIds: pulumi.Input<string[]>;
}): pulumi.Output<LaunchScope> {
  const { runners, fleet } = args;
  const amiParameters = runners.pools
    .map((pool) => launchTemplateImage(pool, args.stack).amiParameter)
    .filter((p): p is string => p !== undefined);
  return pulumi
    .all([
      args.location,
      pulumi.all(Object.values(fleet.launchTemplates).map((lt) => lt.arn)),
      pulumi.output(args.privateSubnetIds),
      fleet.securityGroup.arn,
      fleet.instanceRole.arn,
    ])
    .apply(([where, launchTemplateArns, subnetIds, securityGroupArn, instanceRoleArn]) => ({
      ...where,
      stack: args.stack,
      parameterPrefix: args.parameterPrefix,
      launchTemplateArns,
      subnetIds,
      securityGroupArn,
      instanceRoleArn,
      appPrivateKeyParameter: args.github.appPrivateKeyParameter,
      amiParameters,
      spot: runners.pools.some((pool) => pool.spot),
    }));
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
        imageArn(scope),
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
    readGitHubAppKeyStatement(scope, scope.appPrivateKeyParameter),
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
      Resource: iamArn(scope, "role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot"),
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
