/**
 * "Deploys" the pipeline's AWS pieces into moto from what the stack declares (the offline preview's recorded
 * inputs), translating each Pulumi input to the AWS API call `pulumi up` would make in the end:
 *   job queue + dead-letter queue, a VPC with private subnets and the runners' security group, one launch template
 *   per pool, the webhook secret and the GitHub App key (SecureString parameters), the runner cache bucket.
 * Then builds each function's environment from its recorded `environment.variables`, rewriting only the values
 * that necessarily differ in moto (see ENVIRONMENT_REWRITES).
 */
import {
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  RegisterImageCommand,
  type EC2Client,
  type LaunchTemplateBlockDeviceMappingRequest,
  type LaunchTemplateInstanceNetworkInterfaceSpecificationRequest,
  type LaunchTemplateTagSpecificationRequest,
  type Tag,
} from "@aws-sdk/client-ec2";
import {
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutPublicAccessBlockCommand,
  type BucketLocationConstraint,
  type S3Client,
} from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, PutParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { ENV, TAG } from "../contract/names";
import type { PreviewResource } from "../tools/preview/engine";
import { functionResource, recordedEnvironment, resourcesOfType, type FunctionRole, type StackSnapshot } from "./stack";

export interface DeployClients {
  ec2: EC2Client;
  ssm: SSMClient;
  sqs: SQSClient;
  s3: S3Client;
}

export interface DeploySecrets {
  webhookSecret: string;
  appPrivateKeyPem: string;
}

export interface DeployedQueue {
  name: string;
  url: string;
  arn: string;
  /** The URL the stack would give it in AWS (what the functions' recorded environment holds). */
  recordedUrl: string;
  attributes: Record<string, string>;
}

export interface DeployedStack {
  region: string;
  jobQueue: DeployedQueue;
  deadLetterQueue: DeployedQueue;
  vpcId: string;
  /** Recorded subnet id → moto subnet id (positional). */
  subnets: Map<string, string>;
  securityGroupId: string;
  /** Pool name → moto launch template id (and the recorded id it replaces). */
  launchTemplates: Map<string, { id: string; name: string; recordedId?: string; imageId: string }>;
  webhookSecretParameter: string;
  appPrivateKeyParameter: string;
  bucket?: string;
  /** The event source mapping of the launcher on the job queue. */
  eventSource: { batchSize: number; maximumConcurrency: number; maximumBatchingWindowInSeconds: number };
  /** Every step, for the step-by-step output. */
  steps: string[];
}

function str(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

function tagList(tags: unknown): Tag[] {
  if (!tags || typeof tags !== "object") return [];
  return Object.entries(tags as Record<string, unknown>).map(([Key, Value]) => ({ Key, Value: String(Value) }));
}

function queueNameFromUrl(url: string): string {
  return url.slice(url.lastIndexOf("/") + 1);
}

function queueNameFromArn(arn: string): string {
  return arn.slice(arn.lastIndexOf(":") + 1);
}

/** SQS attributes for CreateQueue from a recorded aws.sqs.Queue (redrive policy added by the caller). */
export function queueAttributes(inputs: Record<string, unknown>): Record<string, string> {
  const attributes: Record<string, string> = {};
  const map: Array<[string, string]> = [
    ["fifoQueue", "FifoQueue"],
    ["contentBasedDeduplication", "ContentBasedDeduplication"],
    ["deduplicationScope", "DeduplicationScope"],
    ["fifoThroughputLimit", "FifoThroughputLimit"],
    ["delaySeconds", "DelaySeconds"],
    ["messageRetentionSeconds", "MessageRetentionPeriod"],
    ["visibilityTimeoutSeconds", "VisibilityTimeout"],
    ["receiveWaitTimeSeconds", "ReceiveMessageWaitTimeSeconds"],
    ["maxMessageSize", "MaximumMessageSize"],
    ["sqsManagedSseEnabled", "SqsManagedSseEnabled"],
    ["kmsMasterKeyId", "KmsMasterKeyId"],
  ];
  for (const [input, attribute] of map) {
    const value = str(inputs[input]);
    if (value !== undefined) attributes[attribute] = value;
  }
  // SQS refuses FifoQueue=false on a standard queue and the FIFO-only attributes on it.
  if (attributes.FifoQueue !== "true") {
    for (const fifoOnly of ["FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"])
      delete attributes[fifoOnly];
  }
  return attributes;
}

/** Subnets of `prefix + 3` bits inside `cidr` (IPv4), the first `count` of them. */
export function carveSubnets(cidr: string, count: number): string[] {
  const [address, bits] = cidr.split("/");
  const prefix = Number(bits);
  const base = address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  const subnetPrefix = Math.min(28, prefix + 3);
  const size = 2 ** (32 - subnetPrefix);
  return Array.from({ length: count }, (_, i) => {
    const n = base + i * size;
    return `${[24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".")}/${subnetPrefix}`;
  });
}

function launchTemplateData(inputs: Record<string, unknown>, imageId: string, securityGroupId: string) {
  const blockDevices = ((inputs.blockDeviceMappings as Array<Record<string, unknown>> | undefined) ?? []).map(
    (mapping): LaunchTemplateBlockDeviceMappingRequest => {
      const ebs = (mapping.ebs ?? {}) as Record<string, unknown>;
      return {
        DeviceName: str(mapping.deviceName),
        Ebs: {
          DeleteOnTermination:
            str(ebs.deleteOnTermination) === undefined ? undefined : str(ebs.deleteOnTermination) === "true",
          Encrypted: str(ebs.encrypted) === undefined ? undefined : str(ebs.encrypted) === "true",
          VolumeSize: ebs.volumeSize === undefined ? undefined : Number(ebs.volumeSize),
          VolumeType: str(ebs.volumeType) as never,
          Iops: ebs.iops === undefined ? undefined : Number(ebs.iops),
          Throughput: ebs.throughput === undefined ? undefined : Number(ebs.throughput),
        },
      };
    },
  );
  const metadata = (inputs.metadataOptions ?? {}) as Record<string, unknown>;
  const interfaces = ((inputs.networkInterfaces as Array<Record<string, unknown>> | undefined) ?? []).map(
    (nic): LaunchTemplateInstanceNetworkInterfaceSpecificationRequest => ({
      AssociatePublicIpAddress:
        str(nic.associatePublicIpAddress) === undefined ? undefined : str(nic.associatePublicIpAddress) === "true",
      DeleteOnTermination:
        str(nic.deleteOnTermination) === undefined ? undefined : str(nic.deleteOnTermination) === "true",
      DeviceIndex: nic.deviceIndex === undefined ? undefined : Number(nic.deviceIndex),
      // The recorded group ids are the mocks' ids: the runners' group created in moto stands in for them.
      Groups: Array.isArray(nic.securityGroups) && nic.securityGroups.length > 0 ? [securityGroupId] : undefined,
    }),
  );
  const tagSpecifications = ((inputs.tagSpecifications as Array<Record<string, unknown>> | undefined) ?? []).map(
    (spec): LaunchTemplateTagSpecificationRequest => ({
      ResourceType: str(spec.resourceType) as never,
      Tags: tagList(spec.tags),
    }),
  );
  return {
    ImageId: imageId,
    InstanceInitiatedShutdownBehavior: str(inputs.instanceInitiatedShutdownBehavior) as never,
    BlockDeviceMappings: blockDevices.length > 0 ? blockDevices : undefined,
    MetadataOptions: {
      HttpEndpoint: str(metadata.httpEndpoint) as never,
      HttpTokens: str(metadata.httpTokens) as never,
      HttpPutResponseHopLimit:
        metadata.httpPutResponseHopLimit === undefined ? undefined : Number(metadata.httpPutResponseHopLimit),
      InstanceMetadataTags: str(metadata.instanceMetadataTags) as never,
    },
    NetworkInterfaces: interfaces.length > 0 ? interfaces : undefined,
    TagSpecifications: tagSpecifications.length > 0 ? tagSpecifications : undefined,
    UserData: str(inputs.userData),
  };
}

/**
 * Resolves a launch template's `resolve:ssm:<parameter>` image the way EC2 does at launch (moto does not): reads
 * the public parameter (moto ships Amazon Linux's), and registers an AMI in moto when that image is not in moto's
 * catalogue. A plain `ami-...` is registered when missing too.
 */
async function resolveImage(ec2: EC2Client, ssm: SSMClient, imageId: string, steps: string[]): Promise<string> {
  let id = imageId;
  let architecture: "x86_64" | "arm64" = /arm64|aarch64/.test(imageId) ? "arm64" : "x86_64";
  if (imageId.startsWith("resolve:ssm:")) {
    const parameter = imageId.slice("resolve:ssm:".length);
    try {
      id = (await ssm.send(new GetParameterCommand({ Name: parameter }))).Parameter?.Value ?? "";
    } catch {
      id = "";
    }
    if (!id) steps.push(`image parameter ${parameter} is not in moto: registering an AMI for it`);
  }
  if (id) {
    try {
      const images = await ec2.send(new DescribeImagesCommand({ ImageIds: [id] }));
      const image = images.Images?.[0];
      if (image?.ImageId) {
        steps.push(`image ${imageId} → ${image.ImageId} (${image.Architecture ?? architecture})`);
        return image.ImageId;
      }
    } catch {
      // not in moto's catalogue: registered below
    }
    architecture = /arm64/.test(id) ? "arm64" : architecture;
  }
  const registered = await ec2.send(
    new RegisterImageCommand({
      Name: `simulated ${imageId}`.slice(0, 128).replace(/[^A-Za-z0-9()[\] ./'@_-]/g, "-"),
      Architecture: architecture,
      RootDeviceName: "/dev/xvda",
    }),
  );
  steps.push(`image ${imageId} → registered ${registered.ImageId} (${architecture})`);
  return registered.ImageId!;
}

async function createQueue(
  sqs: SQSClient,
  resource: PreviewResource,
  recordedUrl: string,
  extra: Record<string, string>,
): Promise<DeployedQueue> {
  const name = str(resource.inputs.name) ?? resource.name;
  const attributes = { ...queueAttributes(resource.inputs), ...extra };
  const created = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: attributes,
      tags: Object.fromEntries(tagList(resource.inputs.tags).map((t) => [t.Key!, t.Value!])),
    }),
  );
  const url = created.QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] })))
    .Attributes!.QueueArn!;
  return { name, url, arn, recordedUrl, attributes };
}

/** Creates in moto what the stack declares. */
export async function deployStack(
  snapshot: StackSnapshot,
  clients: DeployClients,
  secrets: DeploySecrets,
  region: string,
): Promise<DeployedStack> {
  const steps: string[] = [];
  const webhookEnv = recordedEnvironment(functionResource(snapshot, "webhook"));
  const launcherEnv = recordedEnvironment(functionResource(snapshot, "launcher"));

  // Queues: the job queue named in the functions' environment, and the dead-letter queue of its redrive policy.
  const recordedQueueUrl = webhookEnv[ENV.jobQueueUrl];
  if (!recordedQueueUrl) throw new Error(`the webhook function has no ${ENV.jobQueueUrl}`);
  const queues = resourcesOfType(snapshot, "aws:sqs/queue:Queue");
  const jobQueueResource = queues.find((q) => str(q.inputs.name) === queueNameFromUrl(recordedQueueUrl));
  if (!jobQueueResource)
    throw new Error(`no aws:sqs/queue:Queue named ${queueNameFromUrl(recordedQueueUrl)} in stack ${snapshot.stack}`);
  const redrive = JSON.parse(String(jobQueueResource.inputs.redrivePolicy ?? "{}")) as {
    deadLetterTargetArn?: string;
    maxReceiveCount?: number;
  };
  if (!redrive.deadLetterTargetArn) throw new Error(`job queue ${jobQueueResource.name} has no redrive policy`);
  const dlqName = queueNameFromArn(redrive.deadLetterTargetArn);
  const dlqResource = queues.find((q) => str(q.inputs.name) === dlqName);
  if (!dlqResource) throw new Error(`no aws:sqs/queue:Queue named ${dlqName} (the job queue's dead-letter queue)`);
  const deadLetterQueue = await createQueue(clients.sqs, dlqResource, recordedQueueUrl.replace(/[^/]+$/, dlqName), {});
  steps.push(`queue ${deadLetterQueue.name} (dead-letter queue)`);
  const jobQueue = await createQueue(clients.sqs, jobQueueResource, recordedQueueUrl, {
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetterQueue.arn,
      maxReceiveCount: redrive.maxReceiveCount,
    }),
  });
  steps.push(
    `queue ${jobQueue.name}: FIFO=${jobQueue.attributes.FifoQueue ?? "false"}, SSE=${jobQueue.attributes.SqsManagedSseEnabled ?? "false"}, ` +
      `delay ${jobQueue.attributes.DelaySeconds ?? "0"} s, visibility ${jobQueue.attributes.VisibilityTimeout} s, redrive after ${redrive.maxReceiveCount} receives`,
  );

  // Network: the preview's VPC is a remote awsx component (or an existing VPC named in config), so it is created
  // here: a VPC and one private subnet per subnet the launcher is configured with.
  const recordedSubnets = JSON.parse(launcherEnv[ENV.subnetIds] ?? "[]") as string[];
  if (recordedSubnets.length === 0) throw new Error(`the launcher function has no ${ENV.subnetIds}`);
  const vpcInputs = resourcesOfType(snapshot, "awsx:ec2:Vpc")[0]?.inputs;
  const cidr = str(vpcInputs?.cidrBlock) ?? "10.0.0.0/16";
  const vpc = await clients.ec2.send(
    new CreateVpcCommand({
      CidrBlock: cidr,
      TagSpecifications: [
        {
          ResourceType: "vpc",
          Tags: [
            { Key: TAG.stack, Value: snapshot.stack },
            { Key: "Name", Value: `${snapshot.stack}-runners` },
          ],
        },
      ],
    }),
  );
  const vpcId = vpc.Vpc!.VpcId!;
  const subnets = new Map<string, string>();
  const zones = "abcdef";
  for (const [i, block] of carveSubnets(cidr, recordedSubnets.length).entries()) {
    const subnet = await clients.ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: block,
        AvailabilityZone: `${region}${zones[i % zones.length]}`,
      }),
    );
    subnets.set(recordedSubnets[i], subnet.Subnet!.SubnetId!);
  }
  steps.push(`VPC ${vpcId} (${cidr}) with private subnets ${[...subnets.values()].join(", ")}`);

  // The runners' security group: the one the launch templates' network interfaces name.
  const templates = resourcesOfType(snapshot, "aws:ec2/launchTemplate:LaunchTemplate");
  const groupResource = resourcesOfType(snapshot, "aws:ec2/securityGroup:SecurityGroup").find((g) =>
    templates.some((t) => t.parent === g.parent),
  );
  const group = await clients.ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: groupResource?.name ?? `${snapshot.stack}-runners`,
      Description: str(groupResource?.inputs.description) ?? "runners",
      VpcId: vpcId,
      TagSpecifications: [{ ResourceType: "security-group", Tags: tagList(groupResource?.inputs.tags) }],
    }),
  );
  const securityGroupId = group.GroupId!;
  steps.push(`security group ${securityGroupId} (${groupResource?.name ?? "runners"}: no inbound rules)`);

  // One launch template per pool, found by its pool tag.
  const recordedPools = JSON.parse(launcherEnv[ENV.pools] ?? "[]") as Array<{
    name: string;
    launchTemplateId?: string;
  }>;
  const launchTemplates: DeployedStack["launchTemplates"] = new Map();
  for (const template of templates) {
    const pool = (template.inputs.tags as Record<string, string> | undefined)?.[TAG.pool];
    if (!pool) continue;
    const imageId = await resolveImage(clients.ec2, clients.ssm, String(template.inputs.imageId), steps);
    const data = launchTemplateData(template.inputs, imageId, securityGroupId);
    const created = await clients.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: template.name,
        VersionDescription: str(template.inputs.description),
        LaunchTemplateData: data,
        TagSpecifications: [{ ResourceType: "launch-template", Tags: tagList(template.inputs.tags) }],
      }),
    );
    const id = created.LaunchTemplate!.LaunchTemplateId!;
    launchTemplates.set(pool, {
      id,
      name: template.name,
      recordedId: recordedPools.find((p) => p.name === pool)?.launchTemplateId,
      imageId,
    });
    steps.push(
      `launch template ${template.name} (${id}) for pool ${pool}: shutdown=${data.InstanceInitiatedShutdownBehavior}, IMDS tokens=${data.MetadataOptions.HttpTokens} ` +
        `hop limit ${data.MetadataOptions.HttpPutResponseHopLimit}, root ${data.BlockDeviceMappings?.[0]?.Ebs?.VolumeType} ${data.BlockDeviceMappings?.[0]?.Ebs?.VolumeSize} GiB ` +
        `encrypted=${data.BlockDeviceMappings?.[0]?.Ebs?.Encrypted}, public IP=${data.NetworkInterfaces?.[0]?.AssociatePublicIpAddress}`,
    );
  }
  for (const pool of recordedPools) {
    if (!launchTemplates.has(pool.name))
      throw new Error(
        `pool ${pool.name} has no launch template tagged ${TAG.pool}=${pool.name} in stack ${snapshot.stack}`,
      );
  }

  // Parameters: the webhook secret (its value is a secret in the preview: the simulation's own value is stored)
  // and the GitHub App's private key (created out of band in a real account; here the stand-in's key).
  const webhookSecretParameter = webhookEnv[ENV.webhookSecretParameter];
  const declared = resourcesOfType(snapshot, "aws:ssm/parameter:Parameter").find(
    (p) => str(p.inputs.name) === webhookSecretParameter,
  );
  await clients.ssm.send(
    new PutParameterCommand({
      Name: webhookSecretParameter,
      Type: "SecureString",
      Value: secrets.webhookSecret,
      Description: str(declared?.inputs.description),
      Overwrite: true,
    }),
  );
  steps.push(`parameter ${webhookSecretParameter} (SecureString): the webhook secret`);
  const appPrivateKeyParameter = launcherEnv[ENV.appPrivateKeyParameter];
  await clients.ssm.send(
    new PutParameterCommand({
      Name: appPrivateKeyParameter,
      Type: "SecureString",
      Value: secrets.appPrivateKeyPem,
      Overwrite: true,
    }),
  );
  steps.push(
    `parameter ${appPrivateKeyParameter} (SecureString): the GitHub App private key (RSA key generated for the stand-in)`,
  );

  // Runner cache bucket, under its recorded name, private and encrypted.
  const bucketResource = resourcesOfType(snapshot, "aws:s3/bucket:Bucket")[0];
  const bucket = str(bucketResource?.inputs.bucket);
  if (bucket) {
    await clients.s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(region === "us-east-1"
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      }),
    );
    await clients.s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      }),
    );
    await clients.s3.send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
        },
      }),
    );
    steps.push(`bucket ${bucket} (runner cache: public access blocked, encrypted)`);
  }

  const mapping = resourcesOfType(snapshot, "aws:lambda/eventSourceMapping:EventSourceMapping").find(
    (m) => queueNameFromArn(String(m.inputs.eventSourceArn)) === jobQueue.name,
  );
  if (!mapping) throw new Error(`no event source mapping on ${jobQueue.name} in stack ${snapshot.stack}`);
  const eventSource = {
    batchSize: Number(mapping.inputs.batchSize ?? 10),
    maximumConcurrency: Number(
      (mapping.inputs.scalingConfig as { maximumConcurrency?: number } | undefined)?.maximumConcurrency ?? 5,
    ),
    maximumBatchingWindowInSeconds: Number(mapping.inputs.maximumBatchingWindowInSeconds ?? 0),
  };
  steps.push(
    `launcher event source: batch size ${eventSource.batchSize}, concurrency ${eventSource.maximumConcurrency}, batching window ${eventSource.maximumBatchingWindowInSeconds} s`,
  );

  return {
    region,
    jobQueue,
    deadLetterQueue,
    vpcId,
    subnets,
    securityGroupId,
    launchTemplates,
    webhookSecretParameter,
    appPrivateKeyParameter,
    bucket,
    eventSource,
    steps,
  };
}

// ---- environment ------------------------------------------------------------------------------------------

export interface RewriteContext {
  deployed: DeployedStack;
  githubApiUrl: string;
  runnerGroupId: number;
  bootGraceMinutes: number;
}

/**
 * The only environment values the simulation changes, and why. Every other recorded variable is passed as is.
 */
export const ENVIRONMENT_REWRITES: Array<{
  variable: string;
  why: string;
  rewrite(value: string, context: RewriteContext): string;
}> = [
  {
    variable: ENV.jobQueueUrl,
    why: "moto's queue URL (the recorded one is https://sqs.<region>.amazonaws.com/...; the SDK would send there)",
    rewrite: (value, { deployed }) => {
      const queue = [deployed.jobQueue, deployed.deadLetterQueue].find((q) => q.name === queueNameFromUrl(value));
      if (!queue) throw new Error(`${ENV.jobQueueUrl}=${value} names no queue of the stack`);
      return queue.url;
    },
  },
  {
    variable: ENV.pools,
    why: "launchTemplateId of each pool → the id moto gave the pool's launch template (found by its cirunners:pool tag)",
    rewrite: (value, { deployed }) =>
      JSON.stringify(
        (JSON.parse(value) as Array<Record<string, unknown>>).map((pool) =>
          pool.launchTemplateId === undefined
            ? pool
            : {
                ...pool,
                launchTemplateId: deployed.launchTemplates.get(String(pool.name))?.id ?? pool.launchTemplateId,
              },
        ),
      ),
  },
  {
    variable: ENV.subnetIds,
    why: "the private subnets created in moto, in the same order (the recorded ids are the mocks' or the config's)",
    rewrite: (value, { deployed }) =>
      JSON.stringify((JSON.parse(value) as string[]).map((id) => deployed.subnets.get(id) ?? id)),
  },
  {
    variable: ENV.runnerCacheBucket,
    why: "unchanged: the bucket is created in moto under its recorded name",
    rewrite: (value, { deployed }) => deployed.bucket ?? value,
  },
  {
    variable: ENV.githubApiUrl,
    why: "the local GitHub API stand-in instead of https://api.github.com",
    rewrite: (_value, { githubApiUrl }) => githubApiUrl,
  },
  {
    variable: ENV.runnerGroupId,
    why: "the stand-in's runner group id (the recorded one is the mock id of github.ActionsRunnerGroup)",
    rewrite: (_value, { runnerGroupId }) => String(runnerGroupId),
  },
  {
    variable: ENV.bootGraceMinutes,
    why: "a short boot grace so the reaper scenario runs in seconds (the stack's is minutes)",
    rewrite: (_value, { bootGraceMinutes }) => String(bootGraceMinutes),
  },
];

/** The function's environment: recorded variables, rewritten per ENVIRONMENT_REWRITES. */
export function functionEnvironment(
  snapshot: StackSnapshot,
  role: FunctionRole,
  context: RewriteContext,
): { environment: Record<string, string>; rewritten: Array<{ variable: string; from: string; to: string }> } {
  const environment = recordedEnvironment(functionResource(snapshot, role));
  const rewritten: Array<{ variable: string; from: string; to: string }> = [];
  for (const rule of ENVIRONMENT_REWRITES) {
    const value = environment[rule.variable];
    if (value === undefined) continue;
    const next = rule.rewrite(value, context);
    if (next !== value) rewritten.push({ variable: rule.variable, from: value, to: next });
    environment[rule.variable] = next;
  }
  for (const [name, value] of Object.entries(environment)) {
    if (/amazonaws\.com/.test(value))
      throw new Error(`function ${role}: ${name} still points at AWS after rewriting (${value}); add a rewrite rule`);
  }
  return { environment, rewritten };
}
