/**
 * Shared set-up of the TaskRunner tests: the dev stack's task, and a mocha hook pair that installs the Pulumi
 * mocks once per file and builds a TaskRunner whose children can be read back.
 */
import * as assert from "node:assert/strict";
import type { TaskConfig } from "../../../program/config";
import {
  descendantsOf,
  installMocks,
  outputValue,
  type RecordedResource,
  settleRegistrations,
} from "../../../testkit/pulumi-mocks";
import { loadStackFile } from "../../../testkit/stack-files";

export type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
};
export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";
export const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
export const OIDC_PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;

/** The first task of Pulumi.dev.yaml, parsed by the stack schema. */
export function devTask(): TaskConfig {
  return loadStackFile("dev").tasks[0];
}

export interface TaskRunnerHarness {
  recorded: RecordedResource[];
  mod: typeof import("../../../program/task-runner");
  oidc: typeof import("../../../program/github-oidc");
  build(name: string, task: TaskConfig): ReturnType<typeof buildWith>;
}

/** Registers a `before` hook that installs the mocks and imports the program; `build` is usable in tests. */
export function useTaskRunnerHarness(): TaskRunnerHarness {
  const harness = {} as TaskRunnerHarness;
  before(async () => {
    ({ recorded: harness.recorded } = await installMocks({ region: REGION, stack: "dev" }));
    harness.mod = await import("../../../program/task-runner");
    harness.oidc = await import("../../../program/github-oidc");
    harness.build = (name, task) => buildWith(harness, name, task);
  });
  return harness;
}

async function buildWith(harness: TaskRunnerHarness, name: string, task: TaskConfig) {
  const { mod, oidc, recorded } = harness;
  const providerArn = oidc.githubOidcProvider(`${name}-oidc`);
  const runner = new mod.TaskRunner(name, {
    stack: "dev",
    task,
    oidcProviderArn: providerArn,
    network: {
      vpcId: "vpc-0123456789abcdef0",
      privateSubnetIds: ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
    },
    githubOwner: "acme-platform",
    logRetentionDays: 14,
    tags: { project: "cirunners" },
  });
  const outputs = {
    roleArn: await outputValue(runner.roleArn),
    repositoryUrl: await outputValue(runner.repositoryUrl),
    stateMachineArn: await outputValue(runner.stateMachineArn),
    clusterArn: await outputValue(runner.clusterArn),
    logGroupName: await outputValue(runner.logGroupName),
  };
  await settleRegistrations(recorded);
  const urn = recorded.find((r) => r.type === "cirunners:index:TaskRunner" && r.name === name)?.urn;
  assert.ok(urn, "component registered");
  const children = descendantsOf(recorded, urn);
  const one = (type: string, suffix?: string) => {
    const found = children.filter((r) => r.type === type && (suffix === undefined || r.name.endsWith(suffix)));
    assert.equal(found.length, 1, `one ${type} ${suffix ?? ""}: ${found.map((f) => f.name).join(", ")}`);
    return found[0];
  };
  const policyOf = (suffix: string): Statement[] =>
    JSON.parse(one("aws:iam/rolePolicy:RolePolicy", suffix).inputs.policy).Statement;
  return { runner, urn, outputs, children, one, policyOf };
}
