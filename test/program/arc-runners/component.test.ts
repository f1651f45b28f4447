import { strict as assert } from "node:assert";
import { parseArcConfig } from "../../../program/arc-runners/config";
import { descendantsOf, outputValue, type RecordedResource, settleRegistrations } from "../../../testkit/pulumi-mocks";
import { EXISTING_CLUSTER_VPC, type EksMocks, installEksMocks, MOCK_CA_DATA } from "./eks-mocks";
import { prodArc } from "./fixtures";

type ArcModule = typeof import("../../../program/arc-runners");

const NETWORK = {
  vpcId: EXISTING_CLUSTER_VPC,
  privateSubnetIds: ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
};
const GITHUB = {
  owner: "acme-platform",
  appId: 1048577,
  appPrivateKeyParameter: "/cirunners/prod/github-app/private-key",
};
/** Pulumi's wire form of a secret: `{ [SIG_KEY]: SECRET_SIG, value }`. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

describe("ArcRunners (under Pulumi mocks)", () => {
  let recorded: RecordedResource[];
  let mocks: EksMocks;
  let arcModule: ArcModule;

  before(async () => {
    ({ recorded, mocks } = await installEksMocks("eu-west-1", "prod"));
    arcModule = await import("../../../program/arc-runners");
  });

  async function build(name: string, raw: unknown) {
    const component = new arcModule.ArcRunners(name, {
      stack: "prod",
      arc: parseArcConfig(raw),
      ...NETWORK,
      github: GITHUB,
      tags: { "cirunners:stack": "prod" },
    });
    const urn = await outputValue<string>(component.urn);
    await outputValue(component.clusterName);
    await settleRegistrations(recorded);
    const children = descendantsOf(recorded, urn);
    const all = (type: string) => children.filter((r) => r.type === type);
    const one = (type: string) => {
      const found = all(type);
      assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
      return found[0];
    };
    return { component, children, all, one };
  }

  describe("a created cluster with two scale sets", () => {
    let built: Awaited<ReturnType<typeof build>>;
    before(async () => {
      built = await build("arc", prodArc());
    });

    it("registers the component shape: ArcRunners over Cluster, SpotCapacity, RunnerLogs and EcrAccess", () => {
      const components = built.children.filter((r) => !r.custom).map((r) => `${r.type} ${r.name}`);
      assert.deepEqual(components.sort(), [
        "cirunners:arc:Cluster arc-cluster",
        "cirunners:arc:EcrAccess arc-ecr",
        "cirunners:arc:RunnerLogs arc-logs",
        "cirunners:arc:SpotCapacity arc-capacity",
      ]);
      for (const child of built.children) assert.ok(child.name.startsWith("arc-"), child.name);
    });

    it("keeps the API endpoint private plus the configured CIDRs, encrypts secrets with a rotating key, logs the control plane", () => {
      const cluster = built.one("aws:eks/cluster:Cluster").inputs;
      assert.equal(cluster.name, "ci-prod");
      assert.equal(cluster.version, "1.33");
      assert.deepEqual(cluster.vpcConfig, {
        subnetIds: NETWORK.privateSubnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess: true,
        publicAccessCidrs: ["203.0.113.0/24"],
      });
      assert.deepEqual(cluster.accessConfig, {
        authenticationMode: "API",
        bootstrapClusterCreatorAdminPermissions: true,
      });
      const key = built.one("aws:kms/key:Key");
      assert.equal(key.inputs.enableKeyRotation, true);
      assert.deepEqual(cluster.encryptionConfig, { provider: { keyArn: key.state.arn }, resources: ["secrets"] });
      assert.deepEqual(cluster.enabledClusterLogTypes, ["api", "audit", "authenticator"]);
      const controlPlaneLogs = built
        .all("aws:cloudwatch/logGroup:LogGroup")
        .find((g) => g.inputs.name === "/aws/eks/ci-prod/cluster");
      assert.equal(controlPlaneLogs?.inputs.retentionInDays, 30);
    });

    it("keeps the endpoint private when no CIDR is configured, and grants admins through access entries", async () => {
      const raw = prodArc() as any;
      raw.cluster = {
        version: "1.33",
        name: "ci-private",
        adminPrincipalArns: ["arn:aws:iam::123456789012:role/platform-admin"],
      };
      const privateOne = await build("private", raw);
      const cluster = privateOne.one("aws:eks/cluster:Cluster").inputs;
      assert.equal(cluster.vpcConfig.endpointPublicAccess, false);
      assert.ok(!("publicAccessCidrs" in cluster.vpcConfig));
      const entry = privateOne.one("aws:eks/accessEntry:AccessEntry").inputs;
      assert.deepEqual(
        [entry.clusterName, entry.principalArn, entry.type],
        ["ci-private", "arn:aws:iam::123456789012:role/platform-admin", "STANDARD"],
      );
      const association = privateOne.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation").inputs;
      assert.equal(association.policyArn, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
      assert.deepEqual(association.accessScope, { type: "cluster" });
      assert.equal(privateOne.all("kubernetes:core/v1:ConfigMap").length, 0, "no aws-auth ConfigMap");
    });

    it("adds an on-demand system group and a spot group from zero for each size class in use", () => {
      const groups = built.all("aws:eks/nodeGroup:NodeGroup").map((g) => g.inputs);
      assert.deepEqual(
        groups.map((g) => [g.capacityType, g.labels, g.scalingConfig.minSize, g.scalingConfig.maxSize]),
        [
          ["ON_DEMAND", { "cirunners.io/role": "system" }, 2, 3],
          ["SPOT", { "cirunners.io/size-class": "default" }, 0, 30],
          ["SPOT", { "cirunners.io/size-class": "cpu-heavy" }, 0, 10],
        ],
      );
      const [system, defaultClass, cpuHeavy] = groups;
      assert.deepEqual(system.taints ?? [], []);
      assert.deepEqual(cpuHeavy.taints, [
        { key: "cirunners.io/size-class", value: "cpu-heavy", effect: "NO_SCHEDULE" },
      ]);
      assert.ok(
        defaultClass.instanceTypes.length >= 4 && cpuHeavy.instanceTypes.every((t: string) => t.startsWith("c")),
      );
      for (const g of groups) {
        assert.deepEqual(g.subnetIds, NETWORK.privateSubnetIds);
        assert.equal(g.amiType, "AL2023_x86_64_STANDARD");
      }
    });

    it("starts every node from a launch template with an encrypted gp3 root volume and IMDSv2 at hop limit 1", () => {
      const templates = built.all("aws:ec2/launchTemplate:LaunchTemplate");
      const groups = built.all("aws:eks/nodeGroup:NodeGroup");
      assert.equal(templates.length, groups.length);
      for (const group of groups) {
        const template = templates.find((t) => t.state.id === group.inputs.launchTemplate.id);
        assert.ok(template, `${group.name} uses one of the component's launch templates`);
        assert.deepEqual(template.inputs.metadataOptions, {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: 1,
        });
        const [root] = template.inputs.blockDeviceMappings;
        assert.equal(root.deviceName, "/dev/xvda");
        assert.deepEqual([root.ebs.volumeType, root.ebs.encrypted], ["gp3", "true"]);
        assert.ok(!("instanceType" in template.inputs), "instance types belong to the node group");
      }
    });

    it("lets the runner pods push and pull the configured ECR repositories and nothing else", () => {
      const association = built
        .all("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        .find((a) => a.inputs.namespace === "arc-runners");
      assert.ok(association);
      assert.equal(association.inputs.serviceAccount, "arc-runner");
      const role = built.all("aws:iam/role:Role").find((r) => r.state.arn === association.inputs.roleArn);
      assert.ok(role);
      assert.equal(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal.Service, "pods.eks.amazonaws.com");
      const policies = built.all("aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs.role === role.state.id);
      assert.equal(policies.length, 1);
      assert.equal(
        built.all("aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.inputs.role === role.state.name)
          .length,
        0,
      );
      const statements = JSON.parse(policies[0].inputs.policy).Statement;
      const resources = statements.flatMap((s: any) => [s.Resource].flat());
      assert.deepEqual(resources, [
        "*",
        "arn:aws:ecr:eu-west-1:123456789012:repository/orders-service",
        "arn:aws:ecr:eu-west-1:123456789012:repository/platform/tools",
      ]);
      assert.deepEqual([statements[0].Action].flat(), ["ecr:GetAuthorizationToken"]);
    });

    it("ships the runner pods' logs to CloudWatch groups with the configured retention", () => {
      const groups = built
        .all("aws:cloudwatch/logGroup:LogGroup")
        .filter((g) => g.inputs.name.startsWith("/aws/containerinsights/"));
      assert.deepEqual(
        groups.map((g) => [g.inputs.name, g.inputs.retentionInDays]),
        [
          ["/aws/containerinsights/ci-prod/application", 30],
          ["/aws/containerinsights/ci-prod/dataplane", 30],
          ["/aws/containerinsights/ci-prod/host", 30],
          ["/aws/containerinsights/ci-prod/performance", 30],
        ],
      );
      const addons = built.all("aws:eks/addon:Addon").map((a) => a.inputs.addonName);
      assert.deepEqual(addons.sort(), ["amazon-cloudwatch-observability", "eks-pod-identity-agent"]);
    });

    it("talks to the cluster through a kubeconfig built from its endpoint and CA", () => {
      const provider = built.one("pulumi:providers:kubernetes");
      const config = JSON.parse(provider.inputs.kubeconfig);
      assert.equal(config.clusters[0].cluster.server, "https://ci-prod.gr7.eu-west-1.eks.amazonaws.com");
      assert.equal(config.clusters[0].cluster["certificate-authority-data"], MOCK_CA_DATA);
      for (const k8sChild of built.children.filter((r) => r.custom && r.type.startsWith("kubernetes:")))
        assert.ok(k8sChild.provider?.startsWith(provider.urn), `${k8sChild.name} uses the cluster's provider`);
    });

    it("delivers the App credentials from the shared SSM parameter as a secret", () => {
      const secret = built.one("kubernetes:core/v1:Secret");
      assert.deepEqual(secret.inputs.metadata, { name: "github-app", namespace: "arc-runners" });
      // The whole stringData travels as a secret: Pulumi keeps it encrypted in the state and masked in previews.
      const stringData = secret.wireInputs.stringData;
      assert.equal(stringData?.[SIG_KEY], SECRET_SIG, JSON.stringify(stringData));
      assert.deepEqual(stringData.value, {
        github_app_id: "1048577",
        github_app_installation_id: "51234567",
        github_app_private_key: "mock-value",
      });
      const reads = mocks.invokes.filter((i) => i.token === "aws:ssm/getParameter:getParameter").map((i) => i.inputs);
      assert.deepEqual(reads[0], { name: GITHUB.appPrivateKeyParameter, withDecryption: true });
    });

    it("installs the controller and one pinned scale set release per configured entry from ARC's OCI registry", () => {
      const releases = built
        .all("kubernetes:helm.sh/v3:Release")
        .map((r) => r.inputs)
        .sort((a, b) => a.name.localeCompare(b.name));
      const arc = releases.filter((r) => r.chart.startsWith("oci://ghcr.io/actions/actions-runner-controller-charts/"));
      assert.deepEqual(
        arc.map((r) => [r.name, r.chart.split("/").pop(), r.version, r.namespace]),
        [
          ["arc", "gha-runner-scale-set-controller", "0.14.2", "arc-systems"],
          ["arc-linux", "gha-runner-scale-set", "0.14.2", "arc-runners"],
          ["arc-linux-cpu", "gha-runner-scale-set", "0.14.2", "arc-runners"],
        ],
      );
      const [, linux, cpu] = arc;
      assert.deepEqual(
        [linux.values.runnerGroup, linux.values.maxRunners, linux.values.template.spec.nodeSelector],
        ["arc-prod", 30, { "cirunners.io/size-class": "default" }],
      );
      assert.deepEqual([cpu.values.minRunners, cpu.values.containerMode.type], [1, "dind"]);
      assert.deepEqual(built.component.runsOn, ["arc-linux", "arc-linux-cpu"]);
      const autoscaler = releases.find((r) => r.chart === "cluster-autoscaler");
      assert.deepEqual(
        [autoscaler?.version, autoscaler?.values.image.tag, autoscaler?.values.autoDiscovery.clusterName],
        ["9.59.0", "v1.33.0", "ci-prod"],
      );
    });
  });

  describe("an existing cluster", () => {
    it("reads it by name, creates no control plane and joins its capacity to it", async () => {
      const raw = prodArc() as any;
      raw.cluster = { existingName: "prod-eu-west-1" };
      const built = await build("shared", raw);
      assert.equal(built.all("aws:eks/cluster:Cluster").length, 0);
      assert.equal(built.all("aws:kms/key:Key").length, 0);
      assert.equal(await outputValue(built.component.clusterName), "prod-eu-west-1");
      for (const group of built.all("aws:eks/nodeGroup:NodeGroup"))
        assert.equal(group.inputs.clusterName, "prod-eu-west-1");
      const config = JSON.parse(built.one("pulumi:providers:kubernetes").inputs.kubeconfig);
      assert.equal(config.clusters[0].cluster.server, "https://prod-eu-west-1.gr7.eu-west-1.eks.amazonaws.com");
    });
  });
});
