/**
 * Where the runners live: private subnets with a route out (NAT) to GitHub, and an S3 gateway endpoint so that
 * runner boots read the cached runner binaries without paying NAT per-GB charges.
 *
 * Two modes, chosen by the stack config (`cirunners:network`):
 * - existing network (`vpcId` + `privateSubnetIds`): the ids are passed through unchanged. That VPC must give
 *   the subnets a route to the internet (a NAT gateway or an egress firewall that lets GitHub through) and
 *   should have an S3 gateway endpoint on their route tables; this component does not touch it.
 * - created network (the dev stack): an `awsx.ec2.Vpc` with private and public subnets in N availability zones,
 *   NAT gateways (one, or one per AZ), DNS hostnames, an S3 gateway endpoint on every route table and VPC flow
 *   logs to a CloudWatch log group with retention.
 */
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { isExistingNetwork, type CreatedNetwork, type NetworkConfig } from "./config";
import { policyDocument, serviceTrustPolicy } from "./shared/iam";

export interface RunnerNetworkArgs {
  /** The stack's network config: an existing VPC to use, or the shape of the VPC to create. */
  network: NetworkConfig;
  /** Days to keep the flow logs (unless the network config sets `flowLogRetentionDays`). */
  logRetentionDays: number;
  /** Tags for every child. */
  tags?: Record<string, string>;
}

/** The awsx strategy for the config's `natGateways`. */
export function natGatewayStrategy(
  natGateways: CreatedNetwork["natGateways"],
): awsx.types.enums.ec2.NatGatewayStrategy {
  return natGateways === "onePerAz" ? awsx.ec2.NatGatewayStrategy.OnePerAz : awsx.ec2.NatGatewayStrategy.Single;
}

export class RunnerNetwork extends pulumi.ComponentResource {
  /** The VPC the runners live in. */
  public readonly vpcId: pulumi.Output<string>;
  /** Private subnets (at least two AZs) the launcher spreads instances over. */
  public readonly privateSubnetIds: pulumi.Output<string[]>;
  /** True when the VPC was created here (the children below exist). */
  public readonly created: boolean;
  /** The created VPC (undefined for an existing network). */
  public readonly vpc?: awsx.ec2.Vpc;
  /** S3 gateway endpoint on the created VPC's route tables. */
  public readonly s3Endpoint?: aws.ec2.VpcEndpoint;
  /** Flow log of the created VPC, its log group and its delivery role. */
  public readonly flowLog?: aws.ec2.FlowLog;
  public readonly flowLogGroup?: aws.cloudwatch.LogGroup;
  public readonly flowLogRole?: aws.iam.Role;

  constructor(name: string, args: RunnerNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:RunnerNetwork", name, {}, opts);
    const network = args.network;

    if (isExistingNetwork(network)) {
      this.created = false;
      this.vpcId = pulumi.output(network.vpcId);
      this.privateSubnetIds = pulumi.output([...network.privateSubnetIds]);
      this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds });
      return;
    }

    this.created = true;
    const parent = { parent: this };
    this.vpc = new awsx.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: network.cidrBlock,
        numberOfAvailabilityZones: network.availabilityZones,
        natGateways: { strategy: natGatewayStrategy(network.natGateways) },
        // Runners get no public IP: public subnets only hold the NAT gateways.
        subnetSpecs: [{ type: awsx.ec2.SubnetType.Private }, { type: awsx.ec2.SubnetType.Public }],
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: { ...args.tags, Name: `${name}-vpc` },
      },
      parent,
    );
    this.vpcId = this.vpc.vpcId;
    this.privateSubnetIds = this.vpc.privateSubnetIds;

    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;

    // Gateway endpoints are free and keep S3 traffic (runner binaries, caches) off the NAT gateway's per-GB bill.
    this.s3Endpoint = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: this.vpc.vpcId,
        serviceName: pulumi.interpolate`com.amazonaws.${region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: this.vpc.routeTables.apply((tables) => tables.map((table) => table.id)),
        tags: { ...args.tags, Name: `${name}-s3` },
      },
      parent,
    );

    this.flowLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        namePrefix: `/cirunners/${pulumi.getStack()}/vpc-flow-logs-`,
        retentionInDays: network.flowLogRetentionDays ?? args.logRetentionDays,
        tags: args.tags,
      },
      parent,
    );

    // Pinned to this account: the flow logs service cannot be made to use the role for another account's VPC.
    this.flowLogRole = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        assumeRolePolicy: serviceTrustPolicy("vpc-flow-logs.amazonaws.com", account),
        description: "Delivers the runner VPC's flow logs to CloudWatch Logs",
        tags: args.tags,
      },
      parent,
    );
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-flow-logs`,
      {
        role: this.flowLogRole.id,
        policy: policyDocument([
          {
            Sid: "DeliverToOwnLogGroup",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resource: [this.flowLogGroup.arn, pulumi.interpolate`${this.flowLogGroup.arn}:*`],
          },
        ]),
      },
      parent,
    );

    this.flowLog = new aws.ec2.FlowLog(
      `${name}-flow-log`,
      {
        vpcId: this.vpc.vpcId,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: this.flowLogGroup.arn,
        iamRoleArn: this.flowLogRole.arn,
        maxAggregationInterval: 600,
        tags: args.tags,
      },
      { parent: this, dependsOn: [rolePolicy] },
    );

    this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds });
  }
}
