/**
 * Shared set-up of the CodeBuildRunners tests: a mocha hook that installs the mocks once per file, `build` that
 * returns the component's outputs and children, and the checks every region's project must pass.
 */
import { strict as assert } from "node:assert";
import { outputValue, type RecordedResource } from "../../../testkit/pulumi-mocks";
import { type Children, childrenOf, type Statement, useMocks } from "../support";

type RunnersModule = typeof import("../../../program/codebuild-runners");
type Args = ConstructorParameters<RunnersModule["CodeBuildRunners"]>[1];

export const ACCOUNT = "123456789012";
export const DEV_NETWORK = {
  vpcId: "vpc-0123456789abcdef0",
  privateSubnetIds: ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
};

export interface PolicyDoc {
  Statement: Statement[];
}

export function useCodeBuildRunners() {
  const mocked = useMocks({ region: "eu-west-1", stack: "prod" }, () => import("../../../program/codebuild-runners"));

  async function build(name: string, args: Args) {
    const component = new mocked.program.CodeBuildRunners(name, args);
    const [projectName, runsOn, securityGroupId, roleArn] = await Promise.all(
      [component.projectName, component.runsOn, component.securityGroupId, component.roleArn].map((o) =>
        outputValue<string>(o),
      ),
    );
    const children: Children = await childrenOf(mocked.recorded, component);
    return { component, ...children, projectName, runsOn, securityGroupId, roleArn };
  }

  return Object.assign(mocked, { build });
}

export type Built = Awaited<ReturnType<ReturnType<typeof useCodeBuildRunners>["build"]>>;

/** The project role's one inline policy. */
export function policyOf(children: RecordedResource[]): PolicyDoc {
  const policies = children.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy");
  assert.equal(policies.length, 1);
  return JSON.parse(policies[0].inputs.policy) as PolicyDoc;
}

/** Every AWS child uses the component's provider, and that provider targets `region`. */
export function assertRegionalProvider(children: RecordedResource[], region: string): void {
  const providers = children.filter((r) => r.type === "pulumi:providers:aws");
  assert.equal(providers.length, 1, "one explicit provider per region");
  const provider = providers[0];
  assert.equal(provider.inputs.region, region);
  const reference = `${provider.urn}::${provider.state.id}`;
  const awsChildren = children.filter((r) => r.custom && r.type.startsWith("aws:"));
  assert.ok(
    awsChildren.length >= 7,
    `expected the project's resources, found ${awsChildren.map((r) => r.type).join(", ")}`,
  );
  for (const child of awsChildren)
    assert.equal(child.provider, reference, `${child.type} ${child.name} uses the ${region} provider`);
}
