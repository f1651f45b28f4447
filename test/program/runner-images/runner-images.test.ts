/**
 * RunnerImages under Pulumi mocks: a recipe, infrastructure, distribution and pipeline per architecture; gp3
 * encrypted volumes, IMDSv2 with one hop, a private subnet; the build role limited to the SSM agent, Image
 * Builder's instance policy and reading the runner cache; distribution to the parameter baked pools launch from
 * (which the runner fleet creates: test/program/runner-fleet-images.test.ts).
 */
import { strict as assert } from "node:assert";
import { runnerCacheKey, runnerCacheManifestKey } from "../../../contract/names";
import { descendantsOf, outputValue, type RecordedResource, settleRegistrations } from "../../../testkit/pulumi-mocks";
import { installAmiMocks } from "./ami-mocks";

const REGION = "eu-west-1";
const SUBNETS = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"];
const BUCKET = "cirunners-dev-runner-cache";

describe("RunnerImages", () => {
  let children: RecordedResource[];
  const ofType = (type: string) => children.filter((r) => r.type === `aws:imagebuilder/${type}`);

  before(async () => {
    const { recorded } = await installAmiMocks(REGION, "dev");
    const { RunnerImages } = await import("../../../program/runner-images/runner-images");
    const { runnerImagesSchema } = await import("../../../program/runner-images/config");
    const images = new RunnerImages("images", {
      stack: "dev",
      architectures: ["x64", "arm64"],
      cacheBucket: { bucket: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
      vpcId: "vpc-0a1b2c3d4e5f60718",
      privateSubnetIds: SUBNETS,
      location: { partition: "aws", region: REGION, account: "123456789012" },
      settings: runnerImagesSchema.parse({}),
      logRetentionDays: 30,
      tags: { "cirunners:stack": "dev" },
    });
    await settleRegistrations(recorded);
    children = descendantsOf(recorded, await outputValue(images.urn));
  });

  it("builds one pipeline per architecture on a schedule, tests included", () => {
    const pipelines = ofType("imagePipeline:ImagePipeline");
    assert.deepEqual(pipelines.map((p) => p.inputs.name).sort(), [
      "cirunners-dev-runner-arm64",
      "cirunners-dev-runner-x64",
    ]);
    for (const p of pipelines) {
      assert.equal(p.inputs.schedule.scheduleExpression, "cron(0 4 * * ? *)");
      assert.equal(p.inputs.schedule.pipelineExecutionStartCondition, "EXPRESSION_MATCH_ONLY");
      assert.equal(p.inputs.imageTestsConfiguration.imageTestsEnabled, true);
    }
  });

  it("recipes start from the newest Amazon Linux 2023 with one gp3, encrypted root volume", () => {
    const recipes = ofType("imageRecipe:ImageRecipe");
    assert.equal(recipes.length, 2);
    const x64 = recipes.find((r) => r.inputs.name.endsWith("x64"))!;
    assert.equal(x64.inputs.parentImage, "ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64");
    for (const r of recipes) {
      assert.deepEqual(r.inputs.blockDeviceMappings, [
        {
          deviceName: "/dev/xvda",
          ebs: { volumeType: "gp3", volumeSize: 20, encrypted: "true", deleteOnTermination: "true" },
        },
      ]);
      assert.equal(r.inputs.components.length, 2);
    }
  });

  it("builds in the first private subnet with IMDSv2 and one hop, terminating failed builds", () => {
    for (const infra of ofType("infrastructureConfiguration:InfrastructureConfiguration")) {
      assert.equal(infra.inputs.subnetId, SUBNETS[0]);
      assert.deepEqual(infra.inputs.instanceMetadataOptions, { httpTokens: "required", httpPutResponseHopLimit: 1 });
      assert.equal(infra.inputs.terminateInstanceOnFailure, true);
    }
    const arm = ofType("infrastructureConfiguration:InfrastructureConfiguration").find((i) =>
      i.inputs.name.endsWith("arm64"),
    )!;
    assert.deepEqual(arm.inputs.instanceTypes, ["c7g.large"]);
  });

  it("distributes each AMI to the parameter a baked pool launches from, and leaves creating it to the fleet", () => {
    const distributions = ofType("distributionConfiguration:DistributionConfiguration");
    const configurations = distributions.map((d) => d.inputs.distributions[0].ssmParameterConfigurations[0]);
    assert.deepEqual(configurations.map((c) => c.parameterName).sort(), [
      "/cirunners/dev/runner-images/arm64",
      "/cirunners/dev/runner-images/x64",
    ]);
    assert.ok(configurations.every((c) => c.dataType === "aws:ec2:image"));
    assert.deepEqual(
      children.filter((r) => r.type === "aws:ssm/parameter:Parameter"),
      [],
      "the launch templates' parameter is the runner fleet's",
    );
  });

  it("the build role: SSM agent and Image Builder's instance policy, and s3:GetObject on the runner cache only", () => {
    const attached = children
      .filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
      .map((r) => r.inputs.policyArn)
      .sort();
    assert.deepEqual(attached, [
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      "arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder",
    ]);
    const inline = children.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy");
    assert.equal(inline.length, 1);
    assert.deepEqual(JSON.parse(inline[0].inputs.policy).Statement, [
      {
        Sid: "ReadRunnerBinaryCache",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: `arn:aws:s3:::${BUCKET}/actions-runner/*`,
      },
    ]);
  });

  it("components install from the stack's cache, verify the checksum and leave the baked-image marker", () => {
    const components = ofType("component:Component");
    assert.equal(components.length, 3, "the dependencies once, the runner per architecture");
    const runner = components.find((c) => c.inputs.name.endsWith("runner-arm64"))!;
    assert.ok(runner.inputs.data.includes(`s3://${BUCKET}/${runnerCacheManifestKey("arm64")}`));
    assert.ok(runner.inputs.data.includes(`s3://${BUCKET}/${runnerCacheKey("arm64")}`));
    assert.match(runner.inputs.data, /sha256sum --check/);
    assert.match(runner.inputs.data, /\/etc\/cirunners\/runner-image\.json/);
    assert.match(runner.inputs.version, /^1\.0\.\d+$/);
  });

  it("passes the policy pack", async () => {
    const { evaluate } = await import("../../../policy/evaluate");
    const violations = await evaluate(
      children.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.state, parent: r.parentUrn })),
    );
    assert.deepEqual(
      violations.filter((v) => v.enforcementLevel !== "advisory").map((v) => `${v.policy} ${v.name}: ${v.message}`),
      [],
    );
  });

  it("keeps the build logs for the stack's retention", () => {
    const logs = children.filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup");
    assert.deepEqual(logs.map((l) => [l.inputs.name, l.inputs.retentionInDays]).sort(), [
      ["/aws/imagebuilder/cirunners-dev-runner-arm64", 30],
      ["/aws/imagebuilder/cirunners-dev-runner-x64", 30],
    ]);
  });
});
