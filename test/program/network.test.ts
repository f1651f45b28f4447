import { strict as assert } from "node:assert";
import { descendantsOf, type RecordedResource } from "../../testkit/pulumi-mocks";

type NetworkModule = typeof import("../../program/network");

describe("RunnerNetwork", () => {
  let recorded: RecordedResource[];
  let outputValue: <T>(o: any) => Promise<T>;
  let network: NetworkModule;

  before(async () => {
    const mocks = await import("../../testkit/pulumi-mocks");
    ({ recorded } = await mocks.installMocks({ region: "eu-west-1", stack: "dev" }));
    outputValue = mocks.outputValue as any;
    network = await import("../../program/network");
  });

  const childrenOf = (urn: string) => descendantsOf(recorded, urn);

  async function build(name: string, config: ConstructorParameters<NetworkModule["RunnerNetwork"]>[1]) {
    const component = new network.RunnerNetwork(name, config);
    const [vpcId, subnets, urn] = await Promise.all([
      outputValue<string>(component.vpcId),
      outputValue<string[]>(component.privateSubnetIds),
      outputValue<string>(component.urn),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { component, vpcId, subnets, children: childrenOf(urn) };
  }

  it("passes an existing VPC through without creating anything", async () => {
    const { vpcId, subnets, children, component } = await build("existing", {
      network: {
        vpcId: "vpc-0a1b2c3d4e5f60718",
        privateSubnetIds: ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
      },
      logRetentionDays: 30,
    });
    assert.equal(vpcId, "vpc-0a1b2c3d4e5f60718");
    assert.deepEqual(subnets, ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"]);
    assert.equal(component.created, false);
    assert.deepEqual(children, []);
  });

  const ofType = (children: RecordedResource[], type: string) => children.filter((r) => r.type === type);

  it("creates the VPC from aws.ec2 resources: subnets per AZ, IGW, one NAT per AZ with its EIP, routes", async () => {
    const { vpcId, subnets, children } = await build("created", {
      network: { cidrBlock: "10.20.0.0/16", availabilityZones: 3, natGateways: "onePerAz" },
      logRetentionDays: 14,
      tags: { team: "platform" },
    });
    assert.deepEqual(ofType(children, "awsx:ec2:Vpc"), [], "no opaque awsx component");
    const [vpc] = ofType(children, "aws:ec2/vpc:Vpc");
    assert.equal(vpc.inputs.cidrBlock, "10.20.0.0/16");
    assert.equal(vpc.inputs.enableDnsHostnames, true);
    assert.equal(vpcId, vpc.state.id);
    const all = ofType(children, "aws:ec2/subnet:Subnet");
    const tier = (t: string) => all.filter((s) => s.inputs.tags.tier === t);
    assert.deepEqual(
      tier("private").map((s) => s.inputs.cidrBlock),
      ["10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"],
    );
    assert.deepEqual(
      tier("public").map((s) => s.inputs.cidrBlock),
      ["10.20.224.0/22", "10.20.228.0/22", "10.20.232.0/22"],
    );
    assert.deepEqual(
      tier("private").map((s) => s.inputs.availabilityZone),
      ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    );
    assert.ok(all.every((s) => s.inputs.mapPublicIpOnLaunch === false && s.inputs.tags.team === "platform"));
    assert.deepEqual(
      subnets,
      tier("private").map((s) => s.state.id),
    );
    const nats = ofType(children, "aws:ec2/natGateway:NatGateway");
    const eips = ofType(children, "aws:ec2/eip:Eip");
    assert.equal(nats.length, 3);
    assert.deepEqual(
      nats.map((n) => n.inputs.allocationId),
      eips.map((e) => e.state.id),
    );
    assert.deepEqual(
      nats.map((n) => n.inputs.subnetId),
      tier("public").map((s) => s.state.id),
    );
    const [igw] = ofType(children, "aws:ec2/internetGateway:InternetGateway");
    const tables = ofType(children, "aws:ec2/routeTable:RouteTable");
    const privateTables = tables.filter((t) => t.inputs.routes[0].natGatewayId);
    assert.deepEqual(
      privateTables.map((t) => t.inputs.routes[0].natGatewayId),
      nats.map((n) => n.state.id),
      "each AZ leaves through its own NAT",
    );
    assert.equal(tables.filter((t) => t.inputs.routes[0].gatewayId === igw.state.id).length, 1);
    assert.equal(ofType(children, "aws:ec2/routeTableAssociation:RouteTableAssociation").length, 6);
  });

  it("a single NAT gateway serves every private route table", async () => {
    const { children } = await build("single-nat", {
      network: { cidrBlock: "10.60.0.0/16", availabilityZones: 2, natGateways: "single" },
      logRetentionDays: 14,
    });
    const [nat, ...more] = ofType(children, "aws:ec2/natGateway:NatGateway");
    assert.deepEqual(more, []);
    assert.equal(ofType(children, "aws:ec2/eip:Eip").length, 1);
    const privateTables = ofType(children, "aws:ec2/routeTable:RouteTable").filter(
      (t) => t.inputs.routes[0].natGatewayId,
    );
    assert.deepEqual(
      privateTables.map((t) => t.inputs.routes[0].natGatewayId),
      [nat.state.id, nat.state.id],
    );
  });

  it("plans subnets inside the VPC block and counts NAT gateways per strategy", () => {
    assert.deepEqual(network.subnetPlan("10.0.0.0/22", 2), {
      private: ["10.0.0.0/25", "10.0.0.128/25"],
      public: ["10.0.3.128/28", "10.0.3.144/28"],
    });
    assert.throws(() => network.subnetPlan("10.0.0.0/24", 2), /too small/);
    assert.equal(network.natGatewayCount("single", 3), 1);
    assert.equal(network.natGatewayCount("onePerAz", 3), 3);
  });

  it("puts an S3 gateway endpoint on every route table of the created VPC", async () => {
    const { children } = await build("endpoint", {
      network: { cidrBlock: "10.30.0.0/16", availabilityZones: 2, natGateways: "single" },
      logRetentionDays: 14,
    });
    const [vpc] = ofType(children, "aws:ec2/vpc:Vpc");
    const endpoint = children.find((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint");
    assert.ok(endpoint);
    assert.equal(endpoint.inputs.vpcId, vpc.state.id);
    assert.equal(endpoint.inputs.vpcEndpointType, "Gateway");
    assert.equal(endpoint.inputs.serviceName, "com.amazonaws.eu-west-1.s3");
    assert.deepEqual(
      [...endpoint.inputs.routeTableIds].sort(),
      ofType(children, "aws:ec2/routeTable:RouteTable")
        .map((t) => t.state.id)
        .sort(),
    );
  });

  it("sends flow logs to a log group with retention through a role that can only write there", async () => {
    const { children } = await build("flows", {
      network: { cidrBlock: "10.40.0.0/16", availabilityZones: 2, natGateways: "single", flowLogRetentionDays: 90 },
      logRetentionDays: 14,
    });
    const vpc = children.find((r) => r.type === "aws:ec2/vpc:Vpc")!;
    const flowLog = children.find((r) => r.type === "aws:ec2/flowLog:FlowLog");
    const group = children.find((r) => r.type === "aws:cloudwatch/logGroup:LogGroup");
    const role = children.find((r) => r.type === "aws:iam/role:Role");
    const policy = children.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy");
    assert.ok(flowLog && group && role && policy);
    assert.equal(group.inputs.retentionInDays, 90, "the network's own flow log retention wins");
    assert.equal(flowLog.inputs.vpcId, vpc.state.id);
    assert.equal(flowLog.inputs.trafficType, "ALL");
    assert.equal(flowLog.inputs.logDestinationType, "cloud-watch-logs");
    assert.equal(flowLog.inputs.logDestination, group.state.arn);
    assert.equal(flowLog.inputs.iamRoleArn, role.state.arn);

    const trust = JSON.parse(role.inputs.assumeRolePolicy);
    assert.deepEqual(trust.Statement, [
      {
        Effect: "Allow",
        Principal: { Service: "vpc-flow-logs.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
      },
    ]);
    const document = JSON.parse(policy.inputs.policy);
    assert.equal(policy.inputs.role, role.state.id);
    assert.deepEqual(document.Statement, [
      {
        Sid: "DeliverToOwnLogGroup",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: [group.state.arn, `${group.state.arn}:*`],
      },
    ]);
  });

  it("falls back to the stack's log retention for flow logs", async () => {
    const { children } = await build("flows-default", {
      network: { cidrBlock: "10.50.0.0/16", availabilityZones: 2, natGateways: "single" },
      logRetentionDays: 30,
    });
    const group = children.find((r) => r.type === "aws:cloudwatch/logGroup:LogGroup")!;
    assert.equal(group.inputs.retentionInDays, 30);
  });
});
