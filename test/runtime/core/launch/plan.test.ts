import assert from "node:assert/strict";
import { ENV } from "../../../contract/names.js";
import type { RuntimePool } from "../../../contract/pool.js";
import type { JobMessage } from "../../../contract/job.js";
import { parseJobMessage } from "../../../runtime/launcher/messages.js";
import { capacityAvailable, laterInGroup, planBatch, type BatchRecord } from "../../../runtime/launcher/plan.js";
import {
  buildCreateFleetInput,
  buildFleetOverrides,
  isSpotCapacityError,
  onDemandFallbackCount,
  summarizeFleet,
} from "../../../runtime/launcher/fleet.js";
import { awsIdentityFromArn, instanceArn, makeRunnerName } from "../../../runtime/launcher/launch.js";
import { readLauncherSettings } from "../../../runtime/launcher/settings.js";

const MESSAGE: JobMessage = {
  version: 1,
  deliveryId: "d-1",
  pool: "linux-x64",
  jobId: 42,
  runId: 7,
  runAttempt: 1,
  repository: "octo-org/app",
  owner: "octo-org",
  installationId: 3,
  labels: ["self-hosted", "linux", "x64"],
  enqueuedAt: "2025-01-01T00:00:00.000Z",
};
const POOLS: RuntimePool[] = [
  {
    name: "linux-x64",
    labels: ["self-hosted", "linux", "x64"],
    instanceTypes: ["m7i.large"],
    architecture: "x64",
    maxRunners: 2,
    spot: false,
    launchTemplateId: "lt-0aaa",
  },
  {
    name: "linux-arm",
    labels: ["self-hosted", "linux", "arm64"],
    instanceTypes: ["m7g.large"],
    architecture: "arm64",
    maxRunners: 5,
    spot: true,
    launchTemplateId: "lt-0bbb",
  },
];

const record = (id: string, group: string, body: unknown): BatchRecord => ({
  messageId: id,
  groupId: group,
  body: typeof body === "string" ? body : JSON.stringify(body),
});

describe("parseJobMessage", () => {
  it("accepts a well-formed message", () => {
    assert.deepEqual(parseJobMessage(JSON.stringify(MESSAGE)), { ok: true, message: MESSAGE });
  });

  it("names what is wrong", () => {
    const cases: Array<[unknown, RegExp]> = [
      ["not json", /not JSON/],
      ["[1]", /not a JSON object/],
      [{ ...MESSAGE, version: 2 }, /version/],
      [{ ...MESSAGE, pool: "" }, /pool/],
      [{ ...MESSAGE, jobId: "42" }, /jobId/],
      [{ ...MESSAGE, installationId: 0 }, /installationId/],
      [{ ...MESSAGE, repository: "app" }, /repository/],
      [{ ...MESSAGE, labels: [] }, /labels/],
      [{ ...MESSAGE, enqueuedAt: "yesterday" }, /enqueuedAt/],
    ];
    for (const [body, reason] of cases) {
      const parsed = parseJobMessage(typeof body === "string" ? body : JSON.stringify(body));
      assert.equal(parsed.ok, false, JSON.stringify(body));
      assert.match((parsed as { reason: string }).reason, reason);
    }
  });
});

describe("planBatch", () => {
  it("groups jobs by pool in batch order", () => {
    const plan = planBatch(
      [
        record("a", "g1", MESSAGE),
        record("b", "g2", { ...MESSAGE, pool: "linux-arm", jobId: 43 }),
        record("c", "g3", { ...MESSAGE, jobId: 44 }),
      ],
      POOLS,
      new Map(),
    );
    assert.deepEqual([...plan.launches.keys()], ["linux-x64", "linux-arm"]);
    assert.deepEqual(
      plan.launches.get("linux-x64")!.map((j) => j.messageId),
      ["a", "c"],
    );
    assert.equal(plan.failures.size, 0);
  });

  it("fails jobs beyond the pool's free capacity", () => {
    const plan = planBatch(
      [1, 2, 3].map((i) => record(`m${i}`, `g${i}`, { ...MESSAGE, jobId: i })),
      POOLS,
      new Map([["linux-x64", 1]]),
    );
    assert.deepEqual(
      plan.launches.get("linux-x64")!.map((j) => j.messageId),
      ["m1"],
    );
    assert.deepEqual(
      [...plan.failures].map(([id, f]) => [id, f.reason]),
      [
        ["m2", "capacity"],
        ["m3", "capacity"],
      ],
    );
  });

  it("fails malformed and unknown-pool messages and blocks the rest of their FIFO group", () => {
    const plan = planBatch(
      [
        record("a", "g1", "{"),
        record("b", "g1", MESSAGE),
        record("c", "g2", { ...MESSAGE, pool: "gpu" }),
        record("d", "g3", MESSAGE),
      ],
      POOLS,
      new Map(),
    );
    assert.deepEqual(Object.fromEntries([...plan.failures].map(([id, f]) => [id, f.reason])), {
      a: "malformed",
      b: "fifo-blocked",
      c: "unknown-pool",
    });
    assert.deepEqual(
      plan.launches.get("linux-x64")!.map((j) => j.messageId),
      ["d"],
    );
  });

  it("computes free capacity", () => {
    assert.equal(capacityAvailable(10, 3), 7);
    assert.equal(capacityAvailable(2, 5), 0);
  });

  it("finds succeeded messages behind a failure in their group", () => {
    const records = [
      record("a", "g1", ""),
      record("b", "g1", ""),
      record("c", "g2", ""),
      record("d", "g1", ""),
      record("e", "g2", ""),
    ];
    assert.deepEqual(laterInGroup(records, new Set(["b"])), ["d"]);
    assert.deepEqual(laterInGroup(records, new Set(["c", "e"])), []);
    assert.deepEqual(laterInGroup(records, new Set()), []);
  });
});

describe("fleet requests", () => {
  it("overrides every instance type in every subnet, in preference order", () => {
    assert.deepEqual(buildFleetOverrides(["m7i.large", "m6i.large"], ["subnet-a", "subnet-b"]), [
      { InstanceType: "m7i.large", SubnetId: "subnet-a", Priority: 0 },
      { InstanceType: "m7i.large", SubnetId: "subnet-b", Priority: 0 },
      { InstanceType: "m6i.large", SubnetId: "subnet-a", Priority: 1 },
      { InstanceType: "m6i.large", SubnetId: "subnet-b", Priority: 1 },
    ]);
    assert.throws(() => buildFleetOverrides([], ["subnet-a"]), /instance type/);
    assert.throws(() => buildFleetOverrides(["m7i.large"], []), /subnet/);
  });

  it("builds an instant spot fleet with price-capacity-optimized and the default template version", () => {
    const input = buildCreateFleetInput({
      launchTemplateId: "lt-1",
      overrides: [],
      count: 3,
      lifecycle: "spot",
      tags: [{ Key: "k", Value: "v" }],
      clientToken: "t",
    });
    assert.equal(input.Type, "instant");
    assert.equal(input.ClientToken, "t");
    assert.deepEqual(input.LaunchTemplateConfigs![0].LaunchTemplateSpecification, {
      LaunchTemplateId: "lt-1",
      Version: "$Default",
    });
    assert.deepEqual(input.TargetCapacitySpecification, {
      TotalTargetCapacity: 3,
      DefaultTargetCapacityType: "spot",
      SpotTargetCapacity: 3,
    });
    assert.equal(input.SpotOptions!.AllocationStrategy, "price-capacity-optimized");
    assert.deepEqual(
      input.TagSpecifications!.map((t) => t.ResourceType),
      ["instance", "volume"],
    );
    const onDemand = buildCreateFleetInput({
      launchTemplateId: "lt-1",
      overrides: [],
      count: 2,
      lifecycle: "on-demand",
      tags: [],
      clientToken: "u",
    });
    assert.deepEqual(onDemand.TargetCapacitySpecification, {
      TotalTargetCapacity: 2,
      DefaultTargetCapacityType: "on-demand",
      OnDemandTargetCapacity: 2,
    });
    assert.equal(onDemand.SpotOptions, undefined);
    assert.throws(
      () =>
        buildCreateFleetInput({
          launchTemplateId: "lt-1",
          overrides: [],
          count: 0,
          lifecycle: "spot",
          tags: [],
          clientToken: "t",
        }),
      /positive/,
    );
  });

  it("flattens the fleet answer", () => {
    const outcome = summarizeFleet(
      {
        Instances: [{ InstanceIds: ["i-1", "i-2"], Lifecycle: "spot", InstanceType: "m7g.large" }],
        Errors: [{ ErrorCode: "InsufficientInstanceCapacity", ErrorMessage: "none" }],
      },
      "spot",
    );
    assert.deepEqual(
      outcome.instances.map((i) => i.instanceId),
      ["i-1", "i-2"],
    );
    assert.deepEqual(outcome.errors, [{ code: "InsufficientInstanceCapacity", message: "none" }]);
  });

  it("falls back to on-demand only for a shortfall caused by spot capacity errors", () => {
    const spot = (instances: number, codes: string[]) => ({
      instances: Array.from({ length: instances }, (_, i) => ({ instanceId: `i-${i}`, lifecycle: "spot" as const })),
      errors: codes.map((code) => ({ code, message: "" })),
    });
    assert.equal(onDemandFallbackCount(3, spot(1, ["InsufficientInstanceCapacity"])), 2);
    assert.equal(onDemandFallbackCount(3, spot(0, ["UnfulfillableCapacity"])), 3);
    assert.equal(onDemandFallbackCount(2, spot(0, ["MaxSpotInstanceCountExceeded"])), 2);
    assert.equal(onDemandFallbackCount(2, spot(0, ["SpotMaxPriceTooLow"])), 2);
    assert.equal(onDemandFallbackCount(2, spot(0, ["InvalidLaunchTemplateId.NotFound"])), 0);
    assert.equal(onDemandFallbackCount(2, spot(0, [])), 0);
    assert.equal(onDemandFallbackCount(2, spot(2, ["InsufficientInstanceCapacity"])), 0);
    assert.equal(isSpotCapacityError("VcpuLimitExceeded"), false);
  });
});

describe("launch helpers and settings", () => {
  it("names runners <pool>-<id>-<random> and builds instance ARNs from the function ARN", () => {
    assert.equal(
      makeRunnerName("linux-x64", 42, () => "abc123"),
      "linux-x64-42-abc123",
    );
    assert.match(makeRunnerName("linux-x64", "warm"), /^linux-x64-warm-[0-9a-f]{6}$/);
    const identity = awsIdentityFromArn("arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:launcher");
    assert.deepEqual(identity, { partition: "aws-us-gov", region: "us-gov-west-1", accountId: "111122223333" });
    assert.equal(instanceArn(identity, "i-1"), "arn:aws-us-gov:ec2:us-gov-west-1:111122223333:instance/i-1");
    assert.throws(() => awsIdentityFromArn("launcher"), /cannot read/);
  });

  const env = {
    [ENV.pools]: JSON.stringify(POOLS),
    [ENV.subnetIds]: JSON.stringify(["subnet-0a", "subnet-0b"]),
    [ENV.githubOwner]: "octo-org",
    [ENV.stack]: "dev",
    [ENV.runnerParameterPrefix]: "/cirunners/dev/runners",
    [ENV.runnerGroupId]: "4",
  };
  const arn = "arn:aws:lambda:eu-west-1:111122223333:function:launcher";

  it("reads the launcher environment", () => {
    const settings = readLauncherSettings(env, arn);
    assert.equal(settings.scope, "org");
    assert.equal(settings.runnerGroupId, 4);
    assert.equal(settings.accountId, "111122223333");
    assert.deepEqual(
      settings.pools.map((p) => p.launchTemplateId),
      ["lt-0aaa", "lt-0bbb"],
    );
  });

  it("names the variable that is wrong", () => {
    assert.throws(() => readLauncherSettings({ ...env, [ENV.pools]: "{" }, arn), new RegExp(ENV.pools));
    assert.throws(
      () =>
        readLauncherSettings(
          { ...env, [ENV.pools]: JSON.stringify([{ ...POOLS[0], launchTemplateId: undefined }]) },
          arn,
        ),
      /launchTemplateId/,
    );
    assert.throws(() => readLauncherSettings({ ...env, [ENV.subnetIds]: "[]" }, arn), new RegExp(ENV.subnetIds));
    assert.throws(
      () => readLauncherSettings({ ...env, [ENV.runnerScope]: "enterprise" }, arn),
      new RegExp(ENV.runnerScope),
    );
    assert.throws(() => readLauncherSettings({ ...env, [ENV.stack]: "" }, arn), new RegExp(ENV.stack));
  });
});
