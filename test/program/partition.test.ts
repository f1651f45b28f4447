/**
 * The config accepts GovCloud and China regions: every ARN in every IAM document the program writes there must
 * name that region's partition (`aws-us-gov`, `aws-cn`), or the policies grant nothing and the roles trust no one.
 */
import { strict as assert } from "node:assert";
import type { StackConfig } from "../../program/config";
import { descendantsOf, type RecordedResource, settleRegistrations } from "../../testkit/pulumi-mocks";

const PARTITIONS = [
  { region: "us-gov-west-1", partition: "aws-us-gov" },
  { region: "cn-north-1", partition: "aws-cn" },
];

const NETWORK = {
  vpcId: "vpc-0a1b2c3d4e5f60718",
  privateSubnetIds: ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
};

function stackConfig(region: string): StackConfig {
  // Loaded lazily: the config module imports @pulumi/pulumi, which must see the mocks first.
  const { parseStackConfig } = require("../../program/config") as typeof import("../../program/config");
  const raw = {
    github: { owner: "acme-platform", appId: 1048576, appPrivateKeyParameter: "/cirunners/dev/github-app/key" },
    runners: {
      pools: [
        {
          name: "linux-x64",
          labels: ["self-hosted", "linux", "x64"],
          instanceTypes: ["m7i.large"],
          architecture: "x64",
          maxRunners: 4,
          spot: true,
          warmPool: { size: 1, startHour: 7, endHour: 19 },
        },
        {
          name: "ubuntu",
          labels: ["self-hosted", "ubuntu"],
          instanceTypes: ["m7i.large"],
          architecture: "x64",
          maxRunners: 2,
          ami: "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
        },
      ],
    },
    codebuild: { regions: [{ region, eks: eksAccess() }] },
    tasks: [
      {
        name: "db-migrate",
        repositories: [{ repository: "acme-platform/app", branches: ["main"] }],
        cpu: 256,
        memory: 512,
        egress: [{ cidrBlock: "10.0.0.0/16", port: 5432 }],
      },
    ],
  };
  return parseStackConfig(raw, "dev", region);
}

function eksAccess() {
  return { clusterName: "platform", clusterSecurityGroupId: "sg-0123456789abcdef0", namespaces: ["apps"] };
}

/** Every IAM document of the recorded resources: inline policies, trust policies, bucket policies. */
function iamDocuments(resources: RecordedResource[]): { where: string; text: string }[] {
  const documents: { where: string; text: string }[] = [];
  for (const r of resources) {
    for (const key of ["policy", "assumeRolePolicy", "policyArn"]) {
      const value = r.inputs[key];
      if (typeof value === "string") documents.push({ where: `${r.type} ${r.name} ${key}`, text: value });
    }
  }
  return documents;
}

describe("ARNs in the stack's partition", function () {
  this.timeout(120_000);

  for (const { region, partition } of PARTITIONS) {
    it(`names only ${partition} resources in ${region}`, async () => {
      const mocks = await import("../../testkit/pulumi-mocks");
      const { recorded } = await mocks.installMocks({ region, stack: "dev" });
      const { EphemeralRunners } = await import("../../program/ephemeral-runners");
      const { CodeBuildRunners } = await import("../../program/codebuild-runners");
      const { TaskRunner } = await import("../../program/task-runner");
      const { githubOidcProvider } = await import("../../program/github-oidc");
      const config = stackConfig(region);
      const components = [
        new EphemeralRunners(`runners-${partition}`, {
          stack: config.stack,
          github: config.github,
          runners: config.runners,
          network: NETWORK,
          logRetentionDays: 14,
        }),
        new CodeBuildRunners(`codebuild-${partition}`, {
          stack: config.stack,
          region: config.codebuild!.regions[0],
          network: NETWORK,
          github: config.github,
          repositories: [],
          logRetentionDays: 14,
        }),
        new TaskRunner(`task-${partition}`, {
          stack: config.stack,
          task: config.tasks[0],
          oidcProviderArn: githubOidcProvider(`oidc-${partition}`),
          network: NETWORK,
          githubOwner: config.github.owner,
          logRetentionDays: 14,
        }),
      ];
      const urns = await Promise.all(components.map((c) => mocks.outputValue(c.urn)));
      await settleRegistrations(recorded);
      const resources = urns.flatMap((urn) => descendantsOf(recorded, urn));
      const documents = iamDocuments(resources);
      assert.ok(documents.length >= 15, `expected the stack's IAM documents, found ${documents.length}`);
      const arns = documents.flatMap(({ where, text }) =>
        [...text.matchAll(/arn:[a-z-]*:/g)].map((m) => ({ where, arn: m[0] })),
      );
      assert.ok(arns.length > 0);
      const foreign = arns.filter(({ arn }) => arn !== `arn:${partition}:`);
      assert.deepEqual(
        foreign.map(({ where, arn }) => `${where}: ${arn}`),
        [],
        `every ARN in ${region} must use the ${partition} partition`,
      );
    });
  }
});
