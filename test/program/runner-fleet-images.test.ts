/**
 * RunnerFleet under Pulumi mocks (with the getAmi answer of ami-mocks.ts): each pool's root volume is mapped at
 * its AMI's own root device name, baked pools launch from the runner image pipeline's parameter, the user data
 * carries the pool's docker and sudo choices, and the instance role may put the start-failure metric only. The
 * fleet creates the baked pools' parameter before their templates, under the alias of its former place.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { METRICS_NAMESPACE } from "../../contract/names";
import type { RunnerPool } from "../../program/config";
import { descendantsOf, outputValue, type RecordedResource, settleRegistrations } from "../../testkit/pulumi-mocks";
import { type AmiMocks, installAmiMocks, UBUNTU_AMI } from "./runner-images/ami-mocks";

const REGION = "eu-west-1";
const UBUNTU = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";

const pool = (name: string, extra: Partial<RunnerPool>): RunnerPool => ({
  name,
  labels: [name],
  instanceTypes: ["m7i.large"],
  architecture: "x64",
  diskSizeGiB: 40,
  maxRunners: 5,
  spot: false,
  image: "stock",
  docker: true,
  sudo: false,
  ...extra,
});

/** Resource options the recorder does not keep (aliases, ignoreChanges), by logical name, from the same requests. */
interface Options {
  aliases: { name: string; type: string; parentUrn: string; noParent: boolean }[];
  ignoreChanges: string[];
}
function recordOptions(): Map<string, Options> {
  const options = new Map<string, Options>();
  const monitor = pulumi.runtime.getMonitor() as any;
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: any, resp: any) => void) => {
    options.set(req.getName(), {
      aliases: req.getAliasesList().map((a: any) => {
        const spec = a.getSpec();
        return {
          name: spec.getName(),
          type: spec.getType(),
          parentUrn: spec.getParenturn(),
          noParent: spec.getNoparent(),
        };
      }),
      ignoreChanges: req.getIgnorechangesList(),
    });
    original(req, callback);
  };
  return options;
}

describe("RunnerFleet images", () => {
  let recorded: RecordedResource[];
  let options: Map<string, Options>;
  let mocks: AmiMocks;
  let templates: Record<string, RecordedResource>;
  let fleetChildren: RecordedResource[];

  before(async () => {
    ({ recorded, mocks } = await installAmiMocks(REGION, "dev"));
    options = recordOptions();
    const aws = await import("@pulumi/aws");
    const { RunnerFleet } = await import("../../program/ephemeral-runners/runner-fleet");
    const fleet = new RunnerFleet("runners", {
      stack: "dev",
      pools: [
        pool("al2023", {}),
        pool("ubuntu", { ami: UBUNTU, sudo: true }),
        pool("pinned-ubuntu", { ami: UBUNTU_AMI, docker: false }),
        pool("baked", { image: "baked", architecture: "arm64", instanceTypes: ["m7g.large"] }),
      ],
      vpcId: "vpc-0a1b2c3d4e5f60718",
      parameterPrefix: "/cirunners/dev/runners",
      cacheBucket: new aws.s3.Bucket("cache", { bucket: "cirunners-dev-runner-cache" }),
      configWaitSeconds: 120,
      location: { partition: "aws", region: REGION, account: "123456789012" },
      logRetentionDays: 30,
    });
    await settleRegistrations(recorded);
    const children = descendantsOf(recorded, await outputValue(fleet.urn));
    fleetChildren = children;
    templates = Object.fromEntries(
      children
        .filter((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate")
        .map((r) => [r.name.replace(/^runners-/, ""), r]),
    );
  });

  const root = (name: string) => templates[name].inputs.blockDeviceMappings;
  const userData = (name: string) => Buffer.from(templates[name].inputs.userData, "base64").toString("utf8");

  it("maps the root volume at the AMI's own root device: /dev/xvda on AL2023, /dev/sda1 on Ubuntu", () => {
    assert.equal(root("al2023")[0].deviceName, "/dev/xvda");
    assert.equal(root("ubuntu")[0].deviceName, "/dev/sda1");
    assert.equal(root("pinned-ubuntu")[0].deviceName, "/dev/sda1");
    for (const name of Object.keys(templates)) {
      assert.equal(root(name).length, 1, "one volume: the root, nothing billed on the side");
      assert.deepEqual(
        {
          type: root(name)[0].ebs.volumeType,
          encrypted: root(name)[0].ebs.encrypted,
          size: root(name)[0].ebs.volumeSize,
        },
        { type: "gp3", encrypted: "true", size: 40 },
      );
    }
  });

  it("reads the root device of the image each pool boots: pinned ids directly, parameters through SSM", () => {
    const amis = mocks.invokes
      .filter((i) => i.token === "aws:ec2/getAmi:getAmi")
      .map((i) => i.inputs.filters[0].values[0]);
    assert.ok(amis.includes(UBUNTU_AMI));
    const parameters = mocks.invokes
      .filter((i) => i.token === "aws:ssm/getParameter:getParameter")
      .map((i) => i.inputs.name);
    assert.ok(parameters.includes(UBUNTU));
    // The baked pool's parameter may hold no image yet: its root device comes from the pipeline's parent image.
    assert.ok(parameters.includes("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"));
    assert.ok(!parameters.includes("/cirunners/dev/runner-images/arm64"));
  });

  it("launches a baked pool from the pipeline's parameter and the others from theirs", () => {
    assert.equal(templates.baked.inputs.imageId, "resolve:ssm:/cirunners/dev/runner-images/arm64");
    assert.equal(templates.ubuntu.inputs.imageId, `resolve:ssm:${UBUNTU}`);
    assert.equal(templates["pinned-ubuntu"].inputs.imageId, UBUNTU_AMI);
  });

  it("creates the baked pools' parameter, seeded with the stock image, before their templates", () => {
    const parameters = fleetChildren.filter((r) => r.type === "aws:ssm/parameter:Parameter");
    assert.deepEqual(
      parameters.map((p) => p.name),
      ["runners-runner-image-arm64"],
      "one per baked architecture",
    );
    const [parameter] = parameters;
    assert.equal(parameter.inputs.name, "/cirunners/dev/runner-images/arm64");
    assert.equal(parameter.inputs.type, "String");
    assert.equal(parameter.inputs.dataType, "aws:ec2:image");
    // The provider marks a parameter's value secret: the recorder keeps the wrapper.
    const value = typeof parameter.inputs.value === "string" ? parameter.inputs.value : parameter.inputs.value.value;
    assert.match(value, /^ami-/);
    assert.deepEqual(options.get(parameter.name)?.ignoreChanges, ["value"], "Image Builder writes it after each build");
    assert.ok(templates.baked.dependencies.includes(parameter.urn), "the template is created after the parameter");
    for (const stock of ["al2023", "ubuntu", "pinned-ubuntu"])
      assert.ok(!templates[stock].dependencies.includes(parameter.urn), stock);
  });

  it("keeps an existing stack's parameter: aliased to where RunnerImages created it", () => {
    assert.deepEqual(options.get("runners-runner-image-arm64")?.aliases, [
      {
        name: "runner-images-arm64",
        type: "",
        parentUrn: "urn:pulumi:dev::cirunners::cirunners:index:RunnerImages::runner-images",
        noParent: false,
      },
    ]);
  });

  it("renders each pool's name, docker and sudo choices into its user data", () => {
    assert.match(userData("ubuntu"), /^export CIRUNNERS_SUDO='true'$/m);
    assert.match(userData("ubuntu"), /^export CIRUNNERS_POOL='ubuntu'$/m);
    assert.match(userData("al2023"), /^export CIRUNNERS_SUDO='false'$/m);
    assert.match(userData("pinned-ubuntu"), /^export CIRUNNERS_DOCKER='false'$/m);
    assert.match(userData("baked"), /^export CIRUNNERS_RUNNER_ARCH='arm64'$/m);
  });

  it("passes the policy pack, root-volume rule included, on every distribution", async () => {
    const { evaluate } = await import("../../policy/evaluate");
    const violations = await evaluate(
      fleetChildren.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.state, parent: r.parentUrn })),
    );
    assert.deepEqual(
      violations.filter((v) => v.enforcementLevel !== "advisory").map((v) => `${v.policy} ${v.name}: ${v.message}`),
      [],
    );
  });

  it("the pack would catch a root volume mapped at a name that is not the root (the old /dev/xvda on Ubuntu aside)", async () => {
    const { evaluate } = await import("../../policy/evaluate");
    const lt = templates.ubuntu;
    const props = { ...lt.state, blockDeviceMappings: [{ ...root("ubuntu")[0], deviceName: "/dev/xvdb" }] };
    const violations = await evaluate([{ type: lt.type, name: lt.name, urn: lt.urn, props }]);
    assert.ok(violations.some((v) => v.policy === "aws-ec2-launch-template-root-volume-declared"));
  });

  it("lets the instances put the start-failure metric in the stack's namespace only", () => {
    const policy = recorded.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === "runners-instance");
    assert.ok(policy);
    const statements = JSON.parse(policy.inputs.policy).Statement;
    const metrics = statements.filter((s: { Action: string[] }) => s.Action.some((a) => a.startsWith("cloudwatch:")));
    assert.deepEqual(metrics, [
      {
        Sid: "PutRunnerStartFailureMetric",
        Effect: "Allow",
        Action: ["cloudwatch:PutMetricData"],
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": METRICS_NAMESPACE } },
      },
    ]);
  });
});
