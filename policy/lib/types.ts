// Pulumi type tokens and the small slices of @pulumi/aws 7 resource inputs the policies read.
//
// The pack matches resources by type token and never imports @pulumi/aws: it loads fast and does not
// depend on the provider version. Every field is `unknown`-typed where the engine may send an unknown
// sentinel or where @pulumi/aws accepts more than one shape.

export const T = {
  // IAM
  iamPolicy: "aws:iam/policy:Policy",
  iamRole: "aws:iam/role:Role",
  iamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
  iamUserPolicy: "aws:iam/userPolicy:UserPolicy",
  iamGroupPolicy: "aws:iam/groupPolicy:GroupPolicy",
  iamRolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  iamUserPolicyAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  iamGroupPolicyAttachment: "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
  iamPolicyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
  iamRolePolicyAttachmentsExclusive: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
  iamUserPolicyAttachmentsExclusive: "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
  iamGroupPolicyAttachmentsExclusive: "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
  // EC2 / EBS
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  instance: "aws:ec2/instance:Instance",
  ebsVolume: "aws:ebs/volume:Volume",
  ebsEncryptionByDefault: "aws:ebs/encryptionByDefault:EncryptionByDefault",
  // EKS
  eksNodeGroup: "aws:eks/nodeGroup:NodeGroup",
  // Messaging, registry, logs
  sqsQueue: "aws:sqs/queue:Queue",
  ecrRepository: "aws:ecr/repository:Repository",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  // Lambda and its asynchronous sources
  lambdaFunction: "aws:lambda/function:Function",
  lambdaPermission: "aws:lambda/permission:Permission",
  lambdaEventInvokeConfig: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  lambdaEventSourceMapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  schedulerSchedule: "aws:scheduler/schedule:Schedule",
  eventTarget: "aws:cloudwatch/eventTarget:EventTarget",
  snsTopicSubscription: "aws:sns/topicSubscription:TopicSubscription",
  s3BucketNotification: "aws:s3/bucketNotification:BucketNotification",
  // S3
  s3Bucket: "aws:s3/bucket:Bucket",
  s3BucketV2: "aws:s3/bucketV2:BucketV2",
  s3BucketPublicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  s3AccountPublicAccessBlock: "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
  s3BucketSse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  s3BucketSseV2: "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
} as const;

export type Tags = unknown; // Record<string, string> | unknown sentinel

export interface IamPolicyProps {
  policy?: unknown;
  tags?: Tags;
}
export interface IamInlinePolicyProps {
  policy?: unknown;
  name?: unknown;
  role?: unknown;
  user?: unknown;
  group?: unknown;
}
export interface IamRoleProps {
  assumeRolePolicy?: unknown;
  inlinePolicies?: unknown; // { name?: string; policy?: string }[]
  managedPolicyArns?: unknown; // string[]
  tags?: Tags;
}
export interface PolicyAttachmentProps {
  policyArn?: unknown;
  policyArns?: unknown;
  role?: unknown;
  user?: unknown;
  group?: unknown;
  roles?: unknown;
  users?: unknown;
  groups?: unknown;
  roleName?: unknown;
  userName?: unknown;
  groupName?: unknown;
}

export interface EbsSettings {
  volumeType?: unknown;
  encrypted?: unknown;
  kmsKeyId?: unknown;
  deviceName?: unknown;
}
export interface LaunchTemplateProps {
  instanceInitiatedShutdownBehavior?: unknown;
  metadataOptions?: unknown; // { httpTokens?: string; httpEndpoint?: string }
  networkInterfaces?: unknown; // { associatePublicIpAddress?: string }[]
  blockDeviceMappings?: unknown; // { deviceName?: string; ebs?: EbsSettings; noDevice?: string; virtualName?: string }[]
  tags?: Tags;
}
export interface InstanceProps {
  instanceInitiatedShutdownBehavior?: unknown;
  metadataOptions?: unknown;
  associatePublicIpAddress?: unknown;
  rootBlockDevice?: unknown; // EbsSettings
  ebsBlockDevices?: unknown; // (EbsSettings & { deviceName: string })[]
  launchTemplate?: unknown;
  tags?: Tags;
}
export interface EbsVolumeProps {
  type?: unknown;
  encrypted?: unknown;
  kmsKeyId?: unknown;
  tags?: Tags;
}
export interface SqsQueueProps {
  sqsManagedSseEnabled?: unknown;
  kmsMasterKeyId?: unknown;
  tags?: Tags;
}
export interface EcrRepositoryProps {
  imageTagMutability?: unknown;
  imageScanningConfiguration?: unknown;
  tags?: Tags;
}
export interface LogGroupProps {
  retentionInDays?: unknown;
  tags?: Tags;
}
