/**
 * What a runner instance is made of: one security group, the instance role and profile, the runners' log
 * group, one launch template per pool and, per architecture of the `image: baked` pools, the parameter its baked
 * image is published to. The launcher starts instances from these templates with EC2
 * CreateFleet; instance types and subnets come from the pool config as CreateFleet overrides, so the templates
 * name neither. Which image each pool boots, and that baked-image parameter, are pool-images.ts's.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { RunnerPool } from "../config";
import type { AwsLocation } from "../../contract/arn";
import { type Architecture, METRICS_NAMESPACE, TAG } from "../../contract/names";
import { renderUserData } from "./user-data";
import { type PolicyStatement, policyDocument, serviceTrustPolicy } from "../shared/iam";
import { bakedArchitectures } from "../runner-images/names";
import { bakedImageParameter, launchTemplateImage, rootDeviceName } from "./pool-images";
import { instanceRoleStatements } from "./policies";

/**
 * The start-failure metric the bootstrap puts (contract/metrics.ts). PutMetricData has no resource type for
 * classic metrics (AWS Service Authorization Reference), so "*" with the namespace condition is the narrowest grant.
 */
export function startFailureMetricStatement(): PolicyStatement {
  return {
    Sid: "PutRunnerStartFailureMetric",
    Effect: "Allow",
    Action: ["cloudwatch:PutMetricData"],
    Resource: "*",
    Condition: { StringEquals: { "cloudwatch:namespace": METRICS_NAMESPACE } },
  };
}

/** What a runner instance is made of. */
export interface RunnerFleetArgs {
  /** Stack name: part of descriptions, tags and the log group name. */
  readonly stack: string;
  /** The pools: one launch template each. */
  readonly pools: readonly RunnerPool[];
  /** The VPC of the runners' security group. */
  readonly vpcId: pulumi.Input<string>;
  /** JIT config parameters live under this prefix (`/cirunners/<stack>/runners`). */
  readonly parameterPrefix: string;
  /** The runner binary cache the instances install from. */
  readonly cacheBucket: aws.s3.Bucket;
  /** Seconds the bootstrap waits for its JIT config parameter to appear (the launcher writes it after the launch). */
  readonly configWaitSeconds: number;
  /** Partition, region and account the instance role's ARNs name. */
  readonly location: pulumi.Input<AwsLocation>;
  /** Days to keep the runners' log events. */
  readonly logRetentionDays: number;
  /**
   * Tags for every child.
   * @default no tags
   */
  readonly tags?: Record<string, string>;
}

/**
 * One security group, the instance role and profile, the runners' log group and one launch template per pool.
 */
export class RunnerFleet extends pulumi.ComponentResource {
  /** The runners' security group: no inbound rules. */
  public readonly securityGroup: aws.ec2.SecurityGroup;
  public readonly instanceRole: aws.iam.Role;
  public readonly instanceProfile: aws.iam.InstanceProfile;
  /** Log group the runner instances write their bootstrap and runner logs to. */
  public readonly logGroup: aws.cloudwatch.LogGroup;
  /**
   * Per architecture of the `image: baked` pools, the parameter their templates launch from (`resolve:ssm:`): the
   * runner image pipeline writes each new AMI id to it (program/runner-images).
   */
  public readonly imageParameters: Partial<Record<Architecture, aws.ssm.Parameter>>;
  /** One launch template per pool, by pool name. */
  public readonly launchTemplates: Record<string, aws.ec2.LaunchTemplate>;

  constructor(name: string, args: RunnerFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:RunnerFleet", name, {}, opts);
    const parent = { parent: this };
    this.securityGroup = this.createSecurityGroup(name, args);
    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-runners`,
      { name: `/cirunners/${args.stack}/runners`, retentionInDays: args.logRetentionDays, tags: args.tags },
      parent,
    );
    this.instanceRole = this.createInstanceRole(name, args);
    this.instanceProfile = new aws.iam.InstanceProfile(
      `${name}-instance`,
      { role: this.instanceRole.name, tags: args.tags },
      parent,
    );
    this.imageParameters = Object.fromEntries(
      bakedArchitectures(args.pools).map((architecture) => [
        architecture,
        bakedImageParameter(this, name, architecture, args),
      ]),
    );
    this.launchTemplates = Object.fromEntries(
      args.pools.map((pool) => [pool.name, this.launchTemplate(name, pool, args)]),
    );
    this.registerOutputs({
      securityGroupId: this.securityGroup.id,
      instanceRoleArn: this.instanceRole.arn,
      launchTemplateIds: Object.fromEntries(Object.entries(this.launchTemplates).map(([pool, lt]) => [pool, lt.id])),
      imageParameterNames: Object.fromEntries(Object.entries(this.imageParameters).map(([a, p]) => [a, p.name])),
    });
  }

  /**
   * No inbound rules at all: nothing connects to a runner (Session Manager works over the agent's outbound
   * channel). Egress is open because runners reach GitHub, package registries and the S3 endpoint through the
   * NAT gateway, and jobs decide where else they go.
   */
  private createSecurityGroup(name: string, args: RunnerFleetArgs): aws.ec2.SecurityGroup {
    return new aws.ec2.SecurityGroup(
      `${name}-runners`,
      {
        vpcId: args.vpcId,
        description: `Ephemeral GitHub Actions runners of ${args.stack}: no inbound, all outbound`,
        ingress: [],
        egress: [
          {
            description: "Runners reach GitHub and registries through NAT",
            protocol: "-1",
            fromPort: 0,
            toPort: 0,
            cidrBlocks: ["0.0.0.0/0"],
            ipv6CidrBlocks: ["::/0"],
          },
        ],
        tags: { ...args.tags, Name: `${name}-runners` },
      },
      { parent: this },
    );
  }

  private createInstanceRole(name: string, args: RunnerFleetArgs): aws.iam.Role {
    const instanceRole = new aws.iam.Role(
      `${name}-instance`,
      {
        // No aws:SourceAccount condition: EC2 does not send it when an instance takes up its role, so the
        // condition would leave every runner without credentials.
        assumeRolePolicy: serviceTrustPolicy("ec2.amazonaws.com"),
        description: `Ephemeral runner instances of ${args.stack}: own JIT config, runner cache, own logs, Session Manager`,
        tags: args.tags,
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-instance`,
      {
        role: instanceRole.id,
        policy: policyDocument(
          pulumi
            .all([args.location, args.cacheBucket.arn, this.logGroup.arn])
            .apply(([where, cacheBucketArn, logGroupArn]) => [
              ...instanceRoleStatements({
                ...where,
                parameterPrefix: args.parameterPrefix,
                cacheBucketArn,
                logGroupArn,
              }),
              startFailureMetricStatement(),
            ]),
        ),
      },
      { parent: this },
    );
    return instanceRole;
  }

  private launchTemplate(name: string, pool: RunnerPool, args: RunnerFleetArgs): aws.ec2.LaunchTemplate {
    const { imageId } = launchTemplateImage(pool, args.stack);
    const poolTags = { ...args.tags, [TAG.stack]: args.stack, [TAG.pool]: pool.name };
    const userData = pulumi.all([args.cacheBucket.bucket, this.logGroup.name]).apply(([cacheBucket, logGroupName]) =>
      Buffer.from(
        renderUserData({
          CIRUNNERS_PARAMETER_PREFIX: args.parameterPrefix,
          CIRUNNERS_RUNNER_CACHE_BUCKET: cacheBucket,
          CIRUNNERS_RUNNER_ARCH: pool.architecture,
          CIRUNNERS_LOG_GROUP: logGroupName,
          CIRUNNERS_PARAMETER_WAIT_SECONDS: args.configWaitSeconds,
          CIRUNNERS_POOL: pool.name,
          CIRUNNERS_DOCKER: pool.docker,
          CIRUNNERS_SUDO: pool.sudo,
        }),
        "utf8",
      ).toString("base64"),
    );
    return new aws.ec2.LaunchTemplate(
      `${name}-${pool.name}`,
      {
        description: `Runner pool ${pool.name} (${pool.labels.join(", ")}) of ${args.stack}`,
        imageId,
        // `poweroff` at the end of the job (or of a failed bootstrap) deletes the instance and its volume.
        instanceInitiatedShutdownBehavior: "terminate",
        // The AMI's own root device name, so the configured disk replaces the root volume instead of adding one.
        blockDeviceMappings: [
          {
            deviceName: rootDeviceName(this, pool),
            ebs: { volumeType: "gp3", volumeSize: pool.diskSizeGiB, encrypted: "true", deleteOnTermination: "true" },
          },
        ],
        // IMDSv2 only, and a hop limit of 1 so job containers cannot reach the instance role's credentials.
        // Instance tags in the metadata let the bootstrap find its pool without an API call.
        metadataOptions: {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: 1,
          instanceMetadataTags: "enabled",
        },
        // No subnet here: CreateFleet overrides spread instances over the pool's private subnets.
        networkInterfaces: [
          {
            deviceIndex: 0,
            associatePublicIpAddress: "false",
            securityGroups: [this.securityGroup.id],
            deleteOnTermination: "true",
          },
        ],
        iamInstanceProfile: { arn: this.instanceProfile.arn },
        userData,
        tagSpecifications: [
          { resourceType: "instance", tags: poolTags },
          { resourceType: "volume", tags: poolTags },
        ],
        updateDefaultVersion: true,
        tags: poolTags,
      },
      // A baked pool's image parameter must exist before its template is created.
      { parent: this, dependsOn: pool.image === "baked" ? [this.imageParameters[pool.architecture]!] : [] },
    );
  }
}
