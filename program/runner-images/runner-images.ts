/**
 * The runner image pipeline: EC2 Image Builder bakes Amazon Linux 2023 with the runner, its dependencies, git,
 * docker and the CloudWatch agent, once per architecture, and publishes each new AMI id to an SSM parameter
 * (`runnerImageParameterName`) that pools with `image: baked` launch from (`resolve:ssm:` in their template). The
 * runner fleet creates those parameters, next to the templates that need them (program/ephemeral-runners/pool-images.ts).
 * docs/runner-images.md tells what it costs and how fresh the images are.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type AwsLocation, iamArn } from "../../contract/arn";
import type { Architecture } from "../../contract/names";
import { defaultAmiParameter } from "../ephemeral-runners/pool-images";
import { policyDocument, serviceTrustPolicy } from "../shared/iam";
import { componentVersion, dependenciesDocument, runnerDocument } from "./components";
import type { RunnerImagesConfig } from "./config";
import { runnerImagePipelineName } from "../../contract/names";
import { runnerImageParameterName } from "./names";

/**
 * What Image Builder's build and test instances need, and no more: the Systems Manager agent (Image Builder drives
 * the build through it) and Image Builder's own instance policy, both as AWS documents them for Image Builder
 * ("Prerequisites: IAM role"); reading the runner cache is added inline.
 */
export const BUILD_INSTANCE_MANAGED_POLICIES = ["AmazonSSMManagedInstanceCore", "EC2InstanceProfileForImageBuilder"];

export interface RunnerImagesArgs {
  /** Stack name: part of names, descriptions and the published parameters' paths. */
  readonly stack: string;
  /** One pipeline per architecture (those of the pools with `image: baked`). */
  readonly architectures: readonly Architecture[];
  /** The runner binary cache the builds install the runner from. */
  readonly cacheBucket: { readonly bucket: pulumi.Input<string>; readonly arn: pulumi.Input<string> };
  /** The VPC of the build instances' security group. */
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets: the build instance runs in the first (it reaches the internet through NAT). */
  readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Partition, region and account the role's ARNs name. */
  readonly location: pulumi.Input<AwsLocation>;
  /** Schedule, build instance types and volume size. */
  readonly settings: RunnerImagesConfig;
  /** Days to keep the build logs. */
  readonly logRetentionDays: number;
  /**
   * Tags for every child.
   * @default no tags
   */
  readonly tags?: Record<string, string>;
}

/** One Image Builder pipeline per architecture, publishing baked runner AMIs to SSM parameters. */
export class RunnerImages extends pulumi.ComponentResource {
  /** The image pipelines, by architecture. */
  public readonly pipelines: Partial<Record<Architecture, aws.imagebuilder.ImagePipeline>>;
  /** The parameters the pipelines publish to, by architecture (`resolve:ssm:` targets of baked pools). */
  public readonly parameterNames: Partial<Record<Architecture, string>>;
  public readonly instanceRole: aws.iam.Role;

  constructor(name: string, args: RunnerImagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:RunnerImages", name, {}, opts);
    const parent = { parent: this };
    const tags = args.tags ?? {};
    this.instanceRole = new aws.iam.Role(
      `${name}-build`,
      {
        assumeRolePolicy: serviceTrustPolicy("ec2.amazonaws.com"),
        description: `Image Builder build instances of ${args.stack}: SSM agent, Image Builder, runner cache read`,
        tags,
      },
      parent,
    );
    for (const policy of BUILD_INSTANCE_MANAGED_POLICIES) {
      new aws.iam.RolePolicyAttachment(
        `${name}-${policy}`,
        {
          role: this.instanceRole.name,
          policyArn: pulumi.output(args.location).apply((l) => iamArn({ ...l, account: "aws" }, `policy/${policy}`)),
        },
        parent,
      );
    }
    new aws.iam.RolePolicy(
      `${name}-build-cache`,
      {
        role: this.instanceRole.id,
        policy: policyDocument([
          {
            Sid: "ReadRunnerBinaryCache",
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: pulumi.interpolate`${args.cacheBucket.arn}/actions-runner/*`,
          },
        ]),
      },
      parent,
    );
    const profile = new aws.iam.InstanceProfile(`${name}-build`, { role: this.instanceRole.name, tags }, parent);
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-build`,
      {
        vpcId: args.vpcId,
        description: `Image Builder build instances of ${args.stack}: no inbound, all outbound`,
        ingress: [],
        egress: [
          {
            description: "Builds reach package repositories and S3 through NAT",
            protocol: "-1",
            fromPort: 0,
            toPort: 0,
            cidrBlocks: ["0.0.0.0/0"],
          },
        ],
        tags: { ...tags, Name: `${name}-build` },
      },
      parent,
    );
    const dependencies = this.component(`${name}-dependencies`, args, pulumi.output(dependenciesDocument()));
    this.pipelines = {};
    this.parameterNames = {};
    for (const architecture of args.architectures) {
      const parameterName = runnerImageParameterName(args.stack, architecture);
      this.parameterNames[architecture] = parameterName;
      const runner = this.component(
        `${name}-runner-${architecture}`,
        args,
        pulumi.output(args.cacheBucket.bucket).apply((bucket) => runnerDocument(architecture, bucket)),
      );
      this.pipelines[architecture] = this.pipeline(name, architecture, args, {
        components: [dependencies, runner],
        profile,
        securityGroup,
        parameterName,
      });
    }
    this.registerOutputs({
      parameterNames: this.parameterNames,
      pipelineArns: Object.fromEntries(Object.entries(this.pipelines).map(([a, p]) => [a, p.arn])),
    });
  }

  private component(name: string, args: RunnerImagesArgs, data: pulumi.Output<string>): aws.imagebuilder.Component {
    return new aws.imagebuilder.Component(
      name,
      {
        name: `cirunners-${args.stack}-${name}`,
        platform: "Linux",
        supportedOsVersions: ["Amazon Linux 2023"],
        data,
        version: data.apply(componentVersion),
        tags: args.tags,
      },
      { parent: this },
    );
  }

  private pipeline(
    name: string,
    architecture: Architecture,
    args: RunnerImagesArgs,
    parts: {
      components: aws.imagebuilder.Component[];
      profile: aws.iam.InstanceProfile;
      securityGroup: aws.ec2.SecurityGroup;
      parameterName: string;
    },
  ): aws.imagebuilder.ImagePipeline {
    const parent = { parent: this };
    const prefix = `${name}-${architecture}`;
    const recipeName = `cirunners-${args.stack}-runner-${architecture}`;
    const baseParameter = defaultAmiParameter(architecture);
    // Image Builder writes its build logs here; created first so that they expire.
    new aws.cloudwatch.LogGroup(
      prefix,
      { name: `/aws/imagebuilder/${recipeName}`, retentionInDays: args.logRetentionDays, tags: args.tags },
      parent,
    );
    const recipe = new aws.imagebuilder.ImageRecipe(
      prefix,
      {
        name: recipeName,
        // The newest Amazon Linux 2023 at every build, read from AWS's public parameter ("SSM parameter, prefixed
        // by ssm:, followed by the parameter name or ARN": Image Builder API Reference, CreateImageRecipe parentImage).
        parentImage: `ssm:${baseParameter}`,
        version: pulumi
          .all(parts.components.map((c) => c.version))
          .apply((versions) => componentVersion([args.settings.volumeSizeGiB, ...versions].join(","))),
        components: parts.components.map((c) => ({ componentArn: c.arn })),
        blockDeviceMappings: [
          {
            deviceName: "/dev/xvda",
            ebs: {
              volumeType: "gp3",
              volumeSize: args.settings.volumeSizeGiB,
              encrypted: "true",
              deleteOnTermination: "true",
            },
          },
        ],
        tags: args.tags,
      },
      parent,
    );
    const infrastructure = new aws.imagebuilder.InfrastructureConfiguration(
      prefix,
      {
        name: `cirunners-${args.stack}-runner-${architecture}`,
        description: `Builds the ${architecture} runner image of ${args.stack} in a private subnet`,
        instanceProfileName: parts.profile.name,
        instanceTypes: args.settings.instanceTypes[architecture],
        subnetId: pulumi.output(args.privateSubnetIds).apply((ids) => ids[0]),
        securityGroupIds: [parts.securityGroup.id],
        // IMDSv2 only, one hop: what the runners' launch templates enforce.
        instanceMetadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
        terminateInstanceOnFailure: true,
        resourceTags: args.tags,
        tags: args.tags,
      },
      parent,
    );
    const distribution = new aws.imagebuilder.DistributionConfiguration(
      prefix,
      {
        name: `cirunners-${args.stack}-runner-${architecture}`,
        distributions: [
          {
            region: pulumi.output(args.location).apply((l) => l.region),
            amiDistributionConfiguration: {
              name: `cirunners-${args.stack}-runner-${architecture}-{{ imagebuilder:buildDate }}`,
              amiTags: { ...args.tags, "cirunners:runner-image": architecture },
            },
            // Updates the runner fleet's parameter ("creates the Parameter if it doesn't already exist. Otherwise, it
            // updates the parameter": API Reference, SsmParameterConfiguration). Image Builder writes it itself after
            // the build, not the build instance: its role gets no SSM write.
            ssmParameterConfigurations: [{ parameterName: parts.parameterName, dataType: "aws:ec2:image" }],
          },
        ],
        tags: args.tags,
      },
      parent,
    );
    return new aws.imagebuilder.ImagePipeline(
      prefix,
      {
        // The runner-cache function names this pipeline by the same rule before it exists (ephemeral-runners).
        name: runnerImagePipelineName(args.stack, architecture),
        description: `Baked ${architecture} runner image of ${args.stack}`,
        imageRecipeArn: recipe.arn,
        infrastructureConfigurationArn: infrastructure.arn,
        distributionConfigurationArn: distribution.arn,
        // Every scheduled build runs: the runner version in the cache is not a dependency Image Builder tracks. A
        // new runner version also starts a build, from the runner-cache function (docs/runner-images.md).
        schedule: {
          scheduleExpression: args.settings.schedule,
          timezone: args.settings.timezone,
          pipelineExecutionStartCondition: "EXPRESSION_MATCH_ONLY",
        },
        imageTestsConfiguration: { imageTestsEnabled: true, timeoutMinutes: 60 },
        // Enhanced metadata runs an SSM inventory on the build instance: time and permissions we do not need.
        enhancedImageMetadataEnabled: false,
        status: "ENABLED",
        tags: args.tags,
      },
      parent,
    );
  }
}
