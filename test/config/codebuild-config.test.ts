import { strict as assert } from "node:assert";
import { parseStackConfig } from "../../program/config";
import { problemsOf, STACK_REGION, validConfig } from "./support";

/** A minimal valid stack config around a `codebuild` section (raw, as the stack file would give it). */
function baseConfig(codebuild: unknown): Record<string, unknown> {
  return { ...validConfig(), codebuild };
}

/** The problems the parser reports for a `codebuild` section (empty when it is accepted). */
const problems = (codebuild: unknown): string[] => problemsOf(baseConfig(codebuild));

function assertOnlyProblem(list: string[], pattern: RegExp): void {
  assert.equal(list.length, 1, `expected exactly one problem, got:\n${list.join("\n")}`);
  assert.match(list[0], pattern);
}

describe("CodeBuild runner configuration", () => {
  it("accepts an entry for the stack's own region without a VPC (it uses the stack's network), like dev", () => {
    const config = parseStackConfig(
      baseConfig({ regions: [{ region: STACK_REGION, buildTimeoutMinutes: 30 }] }),
      "dev",
      STACK_REGION,
    );
    const region = config.codebuild!.regions[0];
    assert.equal(region.vpcId, undefined);
    assert.equal(region.privateSubnetIds, undefined);
    assert.equal(region.computeType, "BUILD_GENERAL1_SMALL");
    assert.deepEqual(region.targets, []);
    assert.deepEqual(config.codebuild!.repositories, []);
  });

  it("accepts another region with its VPC and subnets, like prod", () => {
    const list = problems({
      regions: [
        { region: STACK_REGION },
        {
          region: "us-east-1",
          vpcId: "vpc-0f1e2d3c4b5a69788",
          privateSubnetIds: ["subnet-0f1e2d3c4b5a69781", "subnet-0f1e2d3c4b5a69782"],
        },
      ],
    });
    assert.deepEqual(list, []);
  });

  it("rejects another region without a VPC, naming regions[N].vpcId", () => {
    const list = problems({ regions: [{ region: STACK_REGION }, { region: "us-east-1" }] });
    assertOnlyProblem(list, /^cirunners:codebuild\.regions\[1\]\.vpcId: .*us-east-1/);
  });

  it("rejects a VPC without private subnets, naming privateSubnetIds", () => {
    const list = problems({ regions: [{ region: "us-east-1", vpcId: "vpc-0f1e2d3c4b5a69788" }] });
    assertOnlyProblem(list, /^cirunners:codebuild\.regions\[0\]\.privateSubnetIds: .*vpc-0f1e2d3c4b5a69788/);
  });

  it("rejects the same in the stack's own region: a VPC needs its subnets there too", () => {
    const list = problems({ regions: [{ region: STACK_REGION, vpcId: "vpc-0a1b2c3d4e5f60718" }] });
    assertOnlyProblem(list, /^cirunners:codebuild\.regions\[0\]\.privateSubnetIds:/);
  });

  it("rejects private subnets without their VPC, naming vpcId", () => {
    const list = problems({ regions: [{ region: "us-east-1", privateSubnetIds: ["subnet-0f1e2d3c4b5a69781"] }] });
    assertOnlyProblem(list, /^cirunners:codebuild\.regions\[0\]\.vpcId:/);
  });

  it("rejects an empty subnet list, naming privateSubnetIds", () => {
    const list = problems({ regions: [{ region: "us-east-1", vpcId: "vpc-0f1e2d3c4b5a69788", privateSubnetIds: [] }] });
    assert.ok(
      list.some((p) =>
        /^cirunners:codebuild\.regions\[0\]\.privateSubnetIds: expected at least one private subnet/.test(p),
      ),
      list.join("\n"),
    );
  });

  it("reports every region's problem at once", () => {
    const list = problems({
      regions: [{ region: "us-east-1" }, { region: "ap-southeast-2", vpcId: "vpc-0f1e2d3c4b5a69788" }],
    });
    assert.equal(list.length, 2, list.join("\n"));
    assert.match(list[0], /regions\[0\]\.vpcId/);
    assert.match(list[1], /regions\[1\]\.privateSubnetIds/);
  });

  it("rejects an EKS entry without namespaces and a region listed twice", () => {
    const eks = problems({
      regions: [
        {
          region: STACK_REGION,
          eks: { clusterName: "prod", clusterSecurityGroupId: "sg-0e1f2a3b4c5d6e7f8", namespaces: [] },
        },
      ],
    });
    assert.ok(
      eks.some((p) => /^cirunners:codebuild\.regions\[0\]\.eks\.namespaces: expected at least one namespace/.test(p)),
      eks.join("\n"),
    );
    const twice = problems({ regions: [{ region: STACK_REGION }, { region: STACK_REGION }] });
    assert.ok(
      twice.some((p) => /^cirunners:codebuild\.regions\[1\]\.region: region listed twice/.test(p)),
      twice.join("\n"),
    );
  });
});
