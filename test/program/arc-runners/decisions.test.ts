import { strict as assert } from "node:assert";
import {
  instanceTypeArchitecture,
  instanceTypesFor,
  maxNodesFor,
  NODE_METADATA_OPTIONS,
  rootVolume,
  runnerRequests,
  SIZE_CLASSES,
  usedSizeClasses,
} from "../../../program/arc-runners/capacity";
import {
  clusterAutoscalerStatements,
  ecrPushPullStatements,
  managedPolicyArn,
  podIdentityTrustPolicy,
} from "../../../program/arc-runners/policies";
import { ARC, controllerValues, kubeconfig, scaleSetValues } from "../../../program/arc-runners/values";

const EU = { partition: "aws", region: "eu-west-1", account: "123456789012" };
const CN = { partition: "aws-cn", region: "cn-north-1", account: "123456789012" };

/**
 * Top-level keys of actions/actions-runner-controller charts/gha-runner-scale-set/values.yaml (0.14.2), set or
 * commented out there: a value outside this list would be ignored by the chart without a word.
 */
const SCALE_SET_CHART_KEYS = [
  "githubConfigUrl",
  "scaleSetLabels",
  "githubConfigSecret",
  "proxy",
  "maxRunners",
  "minRunners",
  "runnerGroup",
  "runnerScaleSetName",
  "githubServerTLS",
  "keyVault",
  "containerMode",
  "listenerTemplate",
  "listenerMetrics",
  "template",
  "controllerServiceAccount",
  "namespaceOverride",
  "annotations",
  "labels",
  "resourceMeta",
];

describe("ARC decisions", () => {
  describe("spot capacity", () => {
    for (const architecture of ["x64", "arm64"] as const) {
      it(`diversifies every size class over several ${architecture} families`, () => {
        for (const sizeClass of SIZE_CLASSES) {
          const types = instanceTypesFor(sizeClass, architecture);
          const families = new Set(types.map((t) => t.split(".")[0]));
          assert.ok(families.size >= 4, `${sizeClass}: ${types.join(", ")}`);
          assert.equal(new Set(types.map((t) => t.split(".")[1])).size, 1, `${sizeClass}: one size, one node template`);
          for (const t of types) assert.equal(instanceTypeArchitecture(t), architecture, t);
        }
      });
    }

    it("gives each class its shape: more CPU per node for cpu-heavy, more memory per CPU for memory-heavy", () => {
      assert.match(instanceTypesFor("default", "x64")[0], /^m/);
      assert.ok(instanceTypesFor("cpu-heavy", "x64").every((t) => /^c\d/.test(t) && t.endsWith(".2xlarge")));
      assert.ok(instanceTypesFor("memory-heavy", "arm64").every((t) => /^r\d/.test(t)));
    });

    it("uses the configured instance types when given", () => {
      assert.deepEqual(instanceTypesFor("default", "x64", ["m7i.2xlarge", "m6i.2xlarge"]), [
        "m7i.2xlarge",
        "m6i.2xlarge",
      ]);
    });

    it("creates node groups only for the classes in use, and sizes them for their runners", () => {
      const sets = [
        { sizeClass: "memory-heavy" as const, maxRunners: 4 },
        { sizeClass: "default" as const, maxRunners: 20 },
        { sizeClass: "default" as const, maxRunners: 5 },
      ];
      assert.deepEqual(usedSizeClasses(sets), ["default", "memory-heavy"]);
      assert.equal(maxNodesFor("default", sets), 25);
      assert.equal(maxNodesFor("default", sets, 8), 8);
    });

    it("roots nodes on an encrypted gp3 volume and keeps pods off IMDS", () => {
      assert.deepEqual(rootVolume(120), {
        deviceName: "/dev/xvda",
        ebs: { volumeSize: 120, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
      });
      assert.deepEqual(NODE_METADATA_OPTIONS, {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
      });
    });

    it("requests per size class, with per-scale-set overrides", () => {
      assert.deepEqual(runnerRequests("cpu-heavy"), { cpu: "3", memory: "6Gi" });
      assert.deepEqual(runnerRequests("memory-heavy", { memory: "20Gi" }), { cpu: "1500m", memory: "20Gi" });
    });
  });

  describe("IAM", () => {
    it("lets the runner pods push and pull the configured repositories only", () => {
      const [login, repositories] = ecrPushPullStatements(EU, ["orders-service", "platform/tools"]);
      assert.deepEqual(login, {
        Sid: "RegistryLogin",
        Effect: "Allow",
        Action: "ecr:GetAuthorizationToken",
        Resource: "*",
      });
      assert.deepEqual(repositories.Resource, [
        "arn:aws:ecr:eu-west-1:123456789012:repository/orders-service",
        "arn:aws:ecr:eu-west-1:123456789012:repository/platform/tools",
      ]);
      const actions = repositories.Action as string[];
      for (const needed of [
        "ecr:PutImage",
        "ecr:BatchGetImage",
        "ecr:CompleteLayerUpload",
        "ecr:GetDownloadUrlForLayer",
      ])
        assert.ok(actions.includes(needed), needed);
      assert.ok(
        actions.every((a) => a.startsWith("ecr:") && !a.includes("*")),
        actions.join(", "),
      );
      assert.ok(!actions.some((a) => /Delete|SetRepositoryPolicy|CreateRepository/.test(a)));
    });

    it("names repositories in the stack's partition", () => {
      assert.deepEqual(ecrPushPullStatements(CN, ["app"])[1].Resource, [
        "arn:aws-cn:ecr:cn-north-1:123456789012:repository/app",
      ]);
      assert.equal(
        managedPolicyArn("aws-us-gov", "AmazonEKSClusterPolicy"),
        "arn:aws-us-gov:iam::aws:policy/AmazonEKSClusterPolicy",
      );
    });

    it("refuses to build an ECR policy without repositories", () => {
      assert.throws(() => ecrPushPullStatements(EU, []), /at least one repository/);
    });

    it("trusts EKS Pod Identity from this account only", () => {
      const trust = JSON.parse(podIdentityTrustPolicy("123456789012"));
      assert.deepEqual(trust.Statement, [
        {
          Effect: "Allow",
          Principal: { Service: "pods.eks.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
          Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
        },
      ]);
    });

    it("lets the autoscaler scale only this cluster's groups", () => {
      const [discover, nodegroups, scale] = clusterAutoscalerStatements(EU, "ci-prod");
      assert.ok(
        (discover.Action as string[]).every((a) => a.startsWith("autoscaling:Describe") || a.startsWith("ec2:")),
      );
      assert.equal(nodegroups.Resource, "arn:aws:eks:eu-west-1:123456789012:nodegroup/ci-prod/*");
      assert.deepEqual(scale.Condition, {
        StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/ci-prod": "owned" },
      });
    });
  });

  describe("Helm values and kubeconfig", () => {
    const values = scaleSetValues({
      name: "arc-linux-cpu",
      owner: "acme-platform",
      githubUrl: "https://github.com/",
      sizeClass: "cpu-heavy",
      minRunners: 1,
      maxRunners: 10,
      runnerGroup: "arc-prod",
      runnerImage: "ghcr.io/actions/actions-runner:2.330.0",
      memory: "8Gi",
    });

    it("uses only keys the scale set chart reads", () => {
      for (const key of Object.keys(values)) assert.ok(SCALE_SET_CHART_KEYS.includes(key), key);
    });

    it("registers the scale set with the organization through the App secret", () => {
      assert.equal(values.githubConfigUrl, "https://github.com/acme-platform");
      assert.equal(values.githubConfigSecret, ARC.githubSecret);
      assert.equal(values.runnerScaleSetName, "arc-linux-cpu");
      assert.equal(values.runnerGroup, "arc-prod");
      assert.deepEqual([values.minRunners, values.maxRunners], [1, 10]);
      assert.deepEqual(values.controllerServiceAccount, {
        namespace: "arc-systems",
        name: controllerValues().serviceAccount.name,
      });
    });

    it("runs docker builds through dind and schedules runners onto their class's spot nodes", () => {
      assert.deepEqual(values.containerMode, { type: "dind" });
      const spec = values.template.spec;
      assert.deepEqual(spec.nodeSelector, { "cirunners.io/size-class": "cpu-heavy" });
      assert.deepEqual(spec.tolerations, [
        { key: "cirunners.io/size-class", operator: "Equal", value: "cpu-heavy", effect: "NoSchedule" },
      ]);
      assert.equal(spec.serviceAccountName, ARC.runnerServiceAccount);
      assert.deepEqual(spec.containers, [
        {
          name: "runner",
          image: "ghcr.io/actions/actions-runner:2.330.0",
          command: ["/home/runner/run.sh"],
          resources: { requests: { cpu: "3", memory: "8Gi" } },
        },
      ]);
    });

    it("leaves the runner group out when none is configured (the organization's default group)", () => {
      const plain = scaleSetValues({
        ...values,
        name: "arc",
        owner: "acme",
        githubUrl: "https://github.com",
        sizeClass: "default",
        runnerGroup: undefined,
        runnerImage: "img",
      });
      assert.ok(!("runnerGroup" in plain));
    });

    it("authenticates to the cluster with a fresh `aws eks get-token` token", () => {
      const config = JSON.parse(
        kubeconfig({
          clusterName: "ci-prod",
          endpoint: "https://x.eks.amazonaws.com",
          certificateAuthorityData: "Q0E=",
          region: "eu-west-1",
        }),
      );
      assert.equal(config.clusters[0].cluster.server, "https://x.eks.amazonaws.com");
      assert.equal(config.clusters[0].cluster["certificate-authority-data"], "Q0E=");
      assert.deepEqual(config.users[0].user.exec.args, [
        "eks",
        "get-token",
        "--cluster-name",
        "ci-prod",
        "--region",
        "eu-west-1",
        "--output",
        "json",
      ]);
      assert.throws(
        () =>
          kubeconfig({ clusterName: "ci-prod", endpoint: "", certificateAuthorityData: "Q0E=", region: "eu-west-1" }),
        /no endpoint/,
      );
    });
  });
});
