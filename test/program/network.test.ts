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

  it("creates a VPC with private and public subnets, NAT and DNS hostnames", async () => {
    const { vpcId, subnets, children } = await build("created", {
      network: { cidrBlock: "10.20.0.0/16", availabilityZones: 3, natGateways: "onePerAz" },
      logRetentionDays: 14,
      tags: { team: "platform" },
    });
    const vpc = children.find((r) => r.type === "awsx:ec2:Vpc");
    assert.ok(vpc, "an awsx VPC is created");
    assert.equal(vpc.inputs.cidrBlock, "10.20.0.0/16");
    assert.equal(vpc.inputs.numberOfAvailabilityZones, 3);
    assert.deepEqual(vpc.inputs.natGateways, { strategy: "OnePerAz" });
    assert.equal(vpc.inputs.enableDnsHostnames, true);
    assert.deepEqual(vpc.inputs.subnetSpecs.map((s: { type: string }) => s.type).sort(), ["Private", "Public"]);
    assert.equal(vpcId, vpc.state.vpcId);
    assert.deepEqual(subnets, vpc.state.privateSubnetIds);
    assert.equal(subnets.length, 3);
  });

  it("maps the natGateways setting to the awsx strategy", () => {
    assert.equal(network.natGatewayStrategy("single"), "Single");
    assert.equal(network.natGatewayStrategy("onePerAz"), "OnePerAz");
  });

  it("puts an S3 gateway endpoint on every route table of the created VPC", async () => {
    const { children } = await build("endpoint", {
      network: { cidrBlock: "10.30.0.0/16", availabilityZones: 2, natGateways: "single" },
      logRetentionDays: 14,
    });
    const vpc = children.find((r) => r.type === "awsx:ec2:Vpc")!;
    const endpoint = children.find((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint");
    assert.ok(endpoint);
    assert.equal(endpoint.inputs.vpcId, vpc.state.vpcId);
    assert.equal(endpoint.inputs.vpcEndpointType, "Gateway");
    assert.equal(endpoint.inputs.serviceName, "com.amazonaws.eu-west-1.s3");
    assert.deepEqual(
      endpoint.inputs.routeTableIds,
      vpc.state.routeTables.map((t: { id: string }) => t.id),
    );
    assert.equal(vpc.inputs.natGateways.strategy, "Single");
  });

  it("sends flow logs to a log group with retention through a role that can only write there", async () => {
    const { children } = await build("flows", {
      network: { cidrBlock: "10.40.0.0/16", availabilityZones: 2, natGateways: "single", flowLogRetentionDays: 90 },
      logRetentionDays: 14,
    });
    const vpc = children.find((r) => r.type === "awsx:ec2:Vpc")!;
    const flowLog = children.find((r) => r.type === "aws:ec2/flowLog:FlowLog");
    const group = children.find((r) => r.type === "aws:cloudwatch/logGroup:LogGroup");
    const role = children.find((r) => r.type === "aws:iam/role:Role");
    const policy = children.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy");
    assert.ok(flowLog && group && role && policy);
    assert.equal(group.inputs.retentionInDays, 90, "the network's own flow log retention wins");
    assert.equal(flowLog.inputs.vpcId, vpc.state.vpcId);
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
