import assert from "node:assert/strict";
import {
  buildCreateFleetInput,
  buildFleetOverrides,
  isSpotCapacityError,
  onDemandFallbackCount,
  shortfallReason,
  summarizeFleet,
} from "../../../../runtime/core/launch/fleet.js";

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

describe("fleet shortfall", () => {
  it("is a capacity problem when something launched or an error said so, otherwise a fleet error", () => {
    assert.equal(shortfallReason(1, ["InvalidLaunchTemplateId.NotFound"]), "fleet-capacity");
    assert.equal(shortfallReason(0, ["InsufficientInstanceCapacity"]), "fleet-capacity");
    assert.equal(shortfallReason(0, ["InvalidLaunchTemplateId.NotFound"]), "fleet-error");
    assert.equal(shortfallReason(0, []), "fleet-error");
  });
});
