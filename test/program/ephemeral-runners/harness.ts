/**
 * Shared set-up of the EphemeralRunners tests: a stack configuration with five pools (default, arm64, pinned AMI,
 * Ubuntu, private AMI parameter) and a warm pool, and a mocha hook that installs the mocks once per file and
 * builds the component from a raw stack configuration.
 */
import type { StackConfig } from "../../../program/config";
import { type Children, childrenOf, type Mocked, useMocks } from "../support";

export const REGION = "eu-west-1";
export const ACCOUNT = "123456789012";
export const PREFIX = "/cirunners/dev/runners";
export const SUBNETS = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"];
export const VPC = "vpc-0a1b2c3d4e5f60718";
export const UBUNTU = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";
export const GOLDEN = "/acme/golden-ami/x64";

export const github = {
  owner: "acme-platform",
  scope: "org",
  appId: 1048576,
  appPrivateKeyParameter: "/cirunners/dev/github-app/private-key",
  runnerGroup: "ephemeral-dev",
};

export const fullConfig = {
  github,
  runners: {
    pools: [
      {
        name: "linux-x64",
        labels: ["self-hosted", "linux", "x64"],
        instanceTypes: ["m7i.large", "m6i.large"],
        architecture: "x64",
        diskSizeGiB: 40,
        maxRunners: 10,
        spot: true,
        warmPool: { size: 2, startHour: 7, endHour: 19, timezone: "Europe/Berlin" },
      },
      {
        name: "linux-arm64",
        labels: ["self-hosted", "linux", "arm64"],
        instanceTypes: ["m7g.large"],
        architecture: "arm64",
        diskSizeGiB: 60,
        maxRunners: 5,
        spot: true,
      },
      {
        name: "pinned",
        labels: ["self-hosted", "linux", "pinned"],
        instanceTypes: ["c7i.large"],
        architecture: "x64",
        maxRunners: 2,
        ami: "ami-0123456789abcdef0",
      },
      {
        name: "ubuntu",
        labels: ["self-hosted", "linux", "ubuntu"],
        instanceTypes: ["m7i.large"],
        architecture: "x64",
        maxRunners: 2,
        ami: UBUNTU,
      },
      {
        name: "golden",
        labels: ["self-hosted", "linux", "golden"],
        instanceTypes: ["m7i.large"],
        architecture: "x64",
        maxRunners: 2,
        ami: GOLDEN,
      },
    ],
    launcher: { batchSize: 5, maxConcurrency: 7, maxReceiveCount: 3, timeoutSeconds: 90 },
    bootGraceMinutes: 9,
    maxJobHours: 6,
    reaperSchedule: "rate(3 minutes)",
  },
};

type Program = {
  runners: typeof import("../../../program/ephemeral-runners");
  policies: typeof import("../../../program/ephemeral-runners/policies");
};

type Args = ConstructorParameters<Program["runners"]["EphemeralRunners"]>[1];

export interface Built extends Children {
  component: InstanceType<Program["runners"]["EphemeralRunners"]>;
  config: StackConfig;
}

export interface EphemeralRunnersHarness extends Mocked<Program> {
  /** Parses `raw` as the stack's configuration and builds the component in the shared network. */
  build(name: string, raw: Record<string, unknown>, stack?: string, extra?: Partial<Args>): Promise<Built>;
}

export function useEphemeralRunners(): EphemeralRunnersHarness {
  const mocked = useMocks({ region: REGION, stack: "dev" }, async () => ({
    runners: await import("../../../program/ephemeral-runners"),
    policies: await import("../../../program/ephemeral-runners/policies"),
  }));
  return Object.assign(mocked, {
    async build(name: string, raw: Record<string, unknown>, stack = "dev", extra: Partial<Args> = {}): Promise<Built> {
      // Loaded here: the config module imports @pulumi/pulumi, which must see the mocks first.
      const { parseStackConfig } = await import("../../../program/config");
      const config = parseStackConfig(raw, stack, REGION);
      const component = new mocked.program.runners.EphemeralRunners(name, {
        stack,
        github: config.github,
        runners: config.runners,
        network: { vpcId: VPC, privateSubnetIds: SUBNETS },
        logRetentionDays: 14,
        tags: { "cirunners:stack": stack },
        ...extra,
      });
      return { component, config, ...(await childrenOf(mocked.recorded, component)) };
    },
  });
}
