/**
 * What the offline mocks answer for the data sources (invokes) the program calls, in the region's partition. An
 * invoke they do not know fails with its token, so a new data source cannot silently return nothing.
 */
import { partitionOf } from "../../contract/arn";
import { eksEndpoint, MOCK_EKS_CA_DATA, type MockLocation, type Properties, shortHash } from "./resource-state";

/** The VPC `aws.eks.getCluster` reports an existing cluster in: the prod stack's (`Pulumi.prod.yaml`). */
export const MOCK_EXISTING_CLUSTER_VPC = "vpc-0a1b2c3d4e5f60718";

const DNS_SUFFIX: Record<string, string> = { "aws-cn": "amazonaws.com.cn" };

function dnsSuffixOf(partition: string): string {
  return DNS_SUFFIX[partition] ?? "amazonaws.com";
}

function reverseDnsPrefixOf(partition: string): string {
  return dnsSuffixOf(partition).split(".").reverse().join(".");
}

/**
 * The SSM parameter each AMI id the mocks handed out came from, so that `getAmi` can describe the image as AWS
 * would: Canonical's Ubuntu images have their root device at /dev/sda1, Amazon Linux (and any other) at /dev/xvda.
 */
const amiSources = new Map<string, string>();

function describeAmi(id: string, partition: string): Properties {
  const source = amiSources.get(id) ?? "";
  const ubuntu = source.includes("/canonical/ubuntu/");
  return {
    id,
    imageId: id,
    arn: `arn:${partition}:ec2:::image/${id}`,
    architecture: /arm64/.test(source) ? "arm64" : "x86_64",
    rootDeviceName: ubuntu ? "/dev/sda1" : "/dev/xvda",
    rootDeviceType: "ebs",
    name: ubuntu ? "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04" : "al2023-ami-2023",
    state: "available",
  };
}

/** The result of data source `token` called with `inputs`. */
export function invokeResult(token: string, inputs: Properties, { region, account }: MockLocation): Properties {
  const partition = partitionOf(region);
  switch (token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return {
        accountId: account,
        arn: `arn:${partition}:iam::${account}:user/preview`,
        userId: "AIDAPREVIEW",
        id: account,
      };
    case "aws:index/getRegion:getRegion":
      return {
        name: inputs.region ?? region,
        region: inputs.region ?? region,
        id: inputs.region ?? region,
        endpoint: `ec2.${region}.amazonaws.com`,
        description: region,
      };
    case "aws:index/getPartition:getPartition":
      return {
        partition,
        dnsSuffix: dnsSuffixOf(partition),
        id: partition,
        reverseDnsPrefix: reverseDnsPrefixOf(partition),
      };
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return {
        names: ["a", "b", "c"].map((z) => `${region}${z}`),
        zoneIds: ["1", "2", "3"].map((z) => `euw1-az${z}`),
        id: region,
      };
    case "aws:ssm/getParameter:getParameter": {
      const name = String(inputs.name);
      const value = name.includes("ami") ? `ami-${shortHash(name).slice(0, 17)}` : "mock-value";
      if (value.startsWith("ami-")) amiSources.set(value, name);
      return {
        name: inputs.name,
        // A read with decryption is of a SecureString (the GitHub App key ARC's secret is made from).
        type: inputs.withDecryption ? "SecureString" : "String",
        value,
        arn: `arn:${partition}:ssm:${region}:${account}:parameter/${String(inputs.name).replace(/^\//, "")}`,
        id: inputs.name,
        version: 1,
        insecureValue: "",
        withDecryption: inputs.withDecryption ?? true,
      };
    }
    case "aws:ec2/getAmi:getAmi": {
      const id = (inputs.filters ?? []).find((f: { name: string }) => f.name === "image-id")?.values?.[0];
      if (!id) throw new Error("the offline mocks answer aws.ec2.getAmi only for an image-id filter");
      return describeAmi(String(id), partition);
    }
    case "aws:eks/getCluster:getCluster": {
      const name = String(inputs.name);
      return {
        id: name,
        name,
        arn: `arn:${partition}:eks:${region}:${account}:cluster/${name}`,
        endpoint: eksEndpoint(name, region, partition),
        certificateAuthorities: [{ data: MOCK_EKS_CA_DATA }],
        vpcConfig: {
          vpcId: MOCK_EXISTING_CLUSTER_VPC,
          subnetIds: [],
          clusterSecurityGroupId: `sg-${shortHash("eks", name).slice(0, 17)}`,
        },
        version: "1.33",
        status: "ACTIVE",
      };
    }
    case "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider":
      return {
        arn: inputs.arn ?? `arn:${partition}:iam::${account}:oidc-provider/token.actions.githubusercontent.com`,
        url: "token.actions.githubusercontent.com",
        clientIdLists: ["sts.amazonaws.com"],
        thumbprintLists: [],
        id: "oidc",
      };
    case "aws:ec2/getVpc:getVpc":
      return {
        id: inputs.id,
        cidrBlock: "10.40.0.0/16",
        arn: `arn:${partition}:ec2:${region}:${account}:vpc/${inputs.id}`,
      };
    case "aws:ec2/getRouteTables:getRouteTables":
      return { ids: ["rtb-0aaaaaaaaaaaaaaa1", "rtb-0aaaaaaaaaaaaaaa2"], id: "route-tables" };
    case "github:index/getRepository:getRepository": {
      const name = String(inputs.name ?? inputs.fullName ?? "repository")
        .split("/")
        .pop();
      return {
        id: name,
        name,
        fullName: `${inputs.fullName ?? name}`,
        repoId: parseInt(shortHash("repo", String(name)).slice(0, 7), 16),
        nodeId: `R_${shortHash(String(name)).slice(0, 12)}`,
        visibility: "private",
      };
    }
    case "github:index/getActionsRunnerGroup:getActionsRunnerGroup":
      return { id: "1", name: inputs.name };
    default:
      throw new Error(
        `the offline mocks have no answer for the data source ${token}: add one to testkit/pulumi/invokes.ts`,
      );
  }
}
