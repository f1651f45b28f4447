/**
 * Shared by the ledger, reconciliation and dashboard tests: a small stack configuration, and reading a function's
 * environment and inline policy (as grants `action resource`) from what the mocks recorded.
 */
import type { StackConfig } from "../../program/config";
import type { RecordedResource } from "../../testkit/pulumi-mocks";
import { grantLines, lookups } from "./support";

export const REGION = "eu-west-1";
export const ACCOUNT = "123456789012";
export const SUBNETS = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"];
export const VPC = "vpc-0a1b2c3d4e5f60718";
export const APP_KEY = "/cirunners/dev/github-app/private-key";

export function rawConfig(github: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    github: {
      owner: "acme-platform",
      scope: "org",
      appId: 1048576,
      appPrivateKeyParameter: APP_KEY,
      runnerGroup: "ephemeral-dev",
      ...github,
    },
    runners: {
      pools: [
        {
          name: "linux-x64",
          labels: ["self-hosted", "linux", "x64"],
          instanceTypes: ["m7i.large"],
          architecture: "x64",
          maxRunners: 10,
          spot: true,
        },
        {
          name: "linux-arm64",
          labels: ["self-hosted", "linux", "arm64"],
          instanceTypes: ["m7g.large"],
          architecture: "arm64",
          maxRunners: 5,
          spot: false,
        },
      ],
      bootGraceMinutes: 9,
    },
  };
}

export function stackConfig(raw: Record<string, unknown>, stack = "dev"): StackConfig {
  // Loaded lazily: config imports @pulumi/pulumi, which must see the mocks first.
  const { parseStackConfig } = require("../../program/config") as typeof import("../../program/config");
  return parseStackConfig(raw, stack, REGION);
}

export function named(children: RecordedResource[], type: string, name: string): RecordedResource {
  return lookups(children).named(type, name);
}

/** The function's environment variables. */
export function environmentOf(children: RecordedResource[], fn: string): Record<string, string> {
  return named(children, "aws:lambda/function:Function", fn).inputs.environment.variables;
}

/** The function's inline policy as sorted `action resource` grants (Allow only; conditions checked elsewhere). */
export function grantsOf(children: RecordedResource[], fn: string): string[] {
  const policy = named(children, "aws:iam/rolePolicy:RolePolicy", fn);
  return grantLines(JSON.parse(policy.inputs.policy).Statement);
}

/** Only the grants of one service (`dynamodb`, `sqs`, ...). */
export function serviceGrants(grants: string[], service: string): string[] {
  return grants.filter((g) => g.startsWith(`${service}:`));
}
