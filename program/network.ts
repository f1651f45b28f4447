/**
 * Where the runners live: private subnets with a route out (NAT) to GitHub, and an S3 gateway endpoint so that
 * runner boots read the cached runner binaries without paying NAT per-GB charges.
 *
 * Two modes, chosen by the stack config (`cirunners:network`):
 * - existing network (`vpcId` + `privateSubnetIds`): the ids are passed through unchanged. That VPC must give
 *   the subnets a route to the internet (a NAT gateway or an egress firewall that lets GitHub through) and
 *   should have an S3 gateway endpoint on their route tables; this component does not touch it.
 * - created network (the dev stack): a VPC with a private and a public subnet in N availability zones, an
 *   internet gateway, NAT gateways with their Elastic IPs (one, or one per AZ), route tables, an S3 gateway
 *   endpoint on every route table and VPC flow logs to a CloudWatch log group with retention.
 *
 * Built from plain `aws.ec2` resources rather than `awsx.ec2.Vpc`: awsx is a multi-language component whose
 * children are created by its provider plugin, so Pulumi's mocks (the offline preview, the tests) saw one leaf,
 * and neither the preview nor the policy pack could list or check the subnets, routes, NAT gateways and EIPs that
 * `pulumi up` creates (NAT is the network's main cost). Here every one of them is declared by this program.
 */
import * as aws from "@pulumi/aws";
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

/**
 * Subnet blocks of a VPC: the block is cut in eight; each AZ's private subnet takes one eighth (runners need the
 * addresses), and the public subnets, which hold only NAT gateways, share the last eighth cut in eight again.
 * A /16 gives /19 private and /22 public subnets. Up to six AZs fit; the config allows at most six.
 */
export function subnetPlan(cidrBlock: string, zones: number): { private: string[]; public: string[] } {
  const [address, prefixText] = cidrBlock.split("/");
  const prefix = Number(prefixText);
  if (zones < 1 || zones > 6) throw new Error(`subnetPlan: expected 1-6 availability zones, found ${zones}`);
  if (prefix + 6 > 28) throw new Error(`subnetPlan: ${cidrBlock} is too small for public /${prefix + 6} subnets`);
  const base = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const block = (offset: number, size: number) => {
    const start = base + offset;
    const octets = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
    return `${octets.join(".")}/${32 - Math.log2(size)}`;
  };
  const eighth = 2 ** (32 - prefix - 3);
  const sixtyFourth = eighth / 8;
  return {
    private: Array.from({ length: zones }, (_, i) => block(i * eighth, eighth)),
    public: Array.from({ length: zones }, (_, i) => block(7 * eighth + i * sixtyFourth, sixtyFourth)),
  };
}

/** How many NAT gateways the config's `natGateways` asks for. */
export function natGatewayCount(natGateways: CreatedNetwork["natGateways"], zones: number): number {
  return natGateways === "onePerAz" ? zones : 1;
}

export class RunnerNetwork extends pulumi.ComponentResource {
  /** The VPC the runners live in. */
  public readonly vpcId: pulumi.Output<string>;
  /** Private subnets (at least two AZs) the launcher spreads instances over. */
  public readonly privateSubnetIds: pulumi.Output<string[]>;
  /** True when the VPC was created here (the children below exist). */
  public readonly created: boolean;
  /** The created VPC and its parts (undefined for an existing network). */
  public readonly vpc?: aws.ec2.Vpc;
  public readonly privateSubnets?: aws.ec2.Subnet[];
  public readonly publicSubnets?: aws.ec2.Subnet[];
  public readonly natGateways?: aws.ec2.NatGateway[];
  public readonly routeTables?: aws.ec2.RouteTable[];
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
    const tags = (extra: Record<string, string>) => ({ ...args.tags, ...extra });
    const zones = network.availabilityZones;
    const plan = subnetPlan(network.cidrBlock, zones);
    // Zones that need no opt-in (Local Zones and Wavelength zones do not run every instance type).
    const zoneNames = aws
      .getAvailabilityZonesOutput(
        { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
        parent,
      )
      .names.apply((names) => {
        if (names.length < zones)
          throw new Error(
            `cirunners:network.availabilityZones: ${zones} asked for, the region has ${names.length} (${names.join(", ")})`,
          );
        return names.slice(0, zones);
      });

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: network.cidrBlock,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: tags({ Name: `${name}-vpc` }),
      },
      parent,
    );
    this.vpc = vpc;
    const internetGateway = new aws.ec2.InternetGateway(
      `${name}-igw`,
      { vpcId: vpc.id, tags: tags({ Name: `${name}-igw` }) },
      parent,
    );

    const subnet = (tier: "private" | "public", i: number) =>
      new aws.ec2.Subnet(
        `${name}-${tier}-${i + 1}`,
        {
          vpcId: vpc.id,
          cidrBlock: plan[tier][i],
          availabilityZone: zoneNames.apply((names) => names[i]),
          // Nothing here needs a public IP: runners live in the private subnets, NAT gateways have their EIPs.
          mapPublicIpOnLaunch: false,
          tags: tags({ Name: `${name}-${tier}-${i + 1}`, tier }),
        },
        parent,
      );
    this.privateSubnets = plan.private.map((_, i) => subnet("private", i));
    this.publicSubnets = plan.public.map((_, i) => subnet("public", i));

    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: internetGateway.id }],
        tags: tags({ Name: `${name}-public` }),
      },
      parent,
    );
    this.publicSubnets.forEach((s, i) => {
      new aws.ec2.RouteTableAssociation(
        `${name}-public-${i + 1}`,
        { subnetId: s.id, routeTableId: publicRoutes.id },
        parent,
      );
    });

    // One NAT gateway (cheapest; its AZ is a single point of failure) or one per AZ (each AZ keeps its way out).
    this.natGateways = Array.from({ length: natGatewayCount(network.natGateways, zones) }, (_, i) => {
      const eip = new aws.ec2.Eip(
        `${name}-nat-${i + 1}`,
        { domain: "vpc", tags: tags({ Name: `${name}-nat-${i + 1}` }) },
        parent,
      );
      return new aws.ec2.NatGateway(
        `${name}-nat-${i + 1}`,
        { allocationId: eip.id, subnetId: this.publicSubnets![i].id, tags: tags({ Name: `${name}-nat-${i + 1}` }) },
        { parent: this, dependsOn: [internetGateway] },
      );
    });
    const privateRoutes = this.privateSubnets.map((s, i) => {
      const nat = this.natGateways![Math.min(i, this.natGateways!.length - 1)];
      const table = new aws.ec2.RouteTable(
        `${name}-private-${i + 1}`,
        {
          vpcId: vpc.id,
          routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }],
          tags: tags({ Name: `${name}-private-${i + 1}` }),
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(`${name}-private-${i + 1}`, { subnetId: s.id, routeTableId: table.id }, parent);
      return table;
    });
    this.routeTables = [...privateRoutes, publicRoutes];
    this.vpcId = vpc.id;
    this.privateSubnetIds = pulumi.all(this.privateSubnets.map((s) => s.id));

    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;

    // Gateway endpoints are free and keep S3 traffic (runner binaries, caches) off the NAT gateway's per-GB bill.
    this.s3Endpoint = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: pulumi.interpolate`com.amazonaws.${region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: this.routeTables.map((table) => table.id),
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
        vpcId: vpc.id,
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
