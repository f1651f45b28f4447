/**
 * The runners' network: the preview's VPC is a remote awsx component (or an existing VPC named in config), so a VPC
 * and one private subnet per subnet the launcher is configured with are created here, plus the runners' security
 * group (the one the launch templates' network interfaces name).
 */
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { TAG } from "../../contract/names";
import { type StackSnapshot, resourcesOfType } from "../stack";
import { str, tagList } from "./recorded";

export interface DeployedNetwork {
  vpcId: string;
  /** Recorded subnet id → moto subnet id (positional). */
  subnets: Map<string, string>;
  securityGroupId: string;
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

export async function deployNetwork(
  snapshot: StackSnapshot,
  ec2: EC2Client,
  recordedSubnets: string[],
  region: string,
  steps: string[],
): Promise<DeployedNetwork> {
  const vpcInputs = resourcesOfType(snapshot, "awsx:ec2:Vpc")[0]?.inputs;
  const cidr = str(vpcInputs?.cidrBlock) ?? "10.0.0.0/16";
  const vpc = await ec2.send(
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
    const subnet = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: block,
        AvailabilityZone: `${region}${zones[i % zones.length]}`,
      }),
    );
    subnets.set(recordedSubnets[i], subnet.Subnet!.SubnetId!);
  }
  steps.push(`VPC ${vpcId} (${cidr}) with private subnets ${[...subnets.values()].join(", ")}`);

  const templates = resourcesOfType(snapshot, "aws:ec2/launchTemplate:LaunchTemplate");
  const groupResource = resourcesOfType(snapshot, "aws:ec2/securityGroup:SecurityGroup").find((g) =>
    templates.some((t) => t.parent === g.parent),
  );
  const group = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: groupResource?.name ?? `${snapshot.stack}-runners`,
      Description: str(groupResource?.inputs.description) ?? "runners",
      VpcId: vpcId,
      TagSpecifications: [{ ResourceType: "security-group", Tags: tagList(groupResource?.inputs.tags) }],
    }),
  );
  steps.push(`security group ${group.GroupId} (${groupResource?.name ?? "runners"}: no inbound rules)`);
  return { vpcId, subnets, securityGroupId: group.GroupId! };
}
