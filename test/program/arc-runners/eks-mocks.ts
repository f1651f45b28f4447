/**
 * The shared offline mocks plus the two EKS answers they lack (reported for testkit/pulumi-mocks.ts): a created
 * cluster's computed endpoint and certificate authority, and `aws.eks.getCluster` for an existing cluster.
 * Subclassing keeps every other answer the shared mocks give.
 */
import * as pulumi from "@pulumi/pulumi";
import { CloudMocks, type RecordedResource, recordRegistrations } from "../../../testkit/pulumi-mocks";

export const MOCK_CA_DATA = Buffer.from("mock cluster certificate authority").toString("base64");

/** The VPC an existing cluster lives in, as `getCluster` reports it. */
export const EXISTING_CLUSTER_VPC = "vpc-0a1b2c3d4e5f60718";

export class EksMocks extends CloudMocks {
  /** Every data source call, so that tests can check what was read (the SSM parameter, with decryption). */
  readonly invokes: { token: string; inputs: Record<string, any> }[] = [];

  constructor(private readonly region: string) {
    super({ region });
  }

  override newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
    const result = super.newResource(args);
    if (args.type === "aws:eks/cluster:Cluster") {
      const name = args.inputs.name;
      result.state.endpoint = `https://${name}.gr7.${this.region}.eks.amazonaws.com`;
      result.state.certificateAuthority = { data: MOCK_CA_DATA };
      result.state.arn = `arn:aws:eks:${this.region}:${this.accountId}:cluster/${name}`;
    }
    return result;
  }

  override call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    this.invokes.push({ token: args.token, inputs: args.inputs });
    if (args.token === "aws:eks/getCluster:getCluster") {
      const name = args.inputs.name;
      return {
        id: name,
        name,
        arn: `arn:aws:eks:${this.region}:${this.accountId}:cluster/${name}`,
        endpoint: `https://${name}.gr7.${this.region}.eks.amazonaws.com`,
        certificateAuthorities: [{ data: MOCK_CA_DATA }],
        vpcConfig: { vpcId: EXISTING_CLUSTER_VPC, subnetIds: [], clusterSecurityGroupId: "sg-0e1f2a3b4c5d6e7f8" },
        version: "1.33",
      };
    }
    return super.call(args);
  }
}

export async function installEksMocks(
  region: string,
  stack: string,
): Promise<{ mocks: EksMocks; recorded: RecordedResource[] }> {
  const mocks = new EksMocks(region);
  await pulumi.runtime.setMocks(mocks, "cirunners", stack, false);
  return { mocks, recorded: recordRegistrations() };
}
