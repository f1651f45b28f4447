import { strict as assert } from "node:assert";
import { matchFleet, withoutInstances } from "../../../../runtime/core/launch/assign.js";
import type { FleetInstance } from "../../../../runtime/core/launch/fleet.js";

const instance = (id: string): FleetInstance => ({ instanceId: id, lifecycle: "spot" }) as FleetInstance;

describe("matchFleet / withoutInstances", () => {
  it("pairs runners with instances in order and reports a shortfall's surplus", () => {
    const match = matchFleet(["a", "b", "c"], {
      instances: [instance("i-1")],
      errors: ["InsufficientInstanceCapacity: none"],
    });
    assert.deepEqual(
      [match.runners, match.instances.map((i) => i.instanceId), match.surplus],
      [["a"], ["i-1"], ["b", "c"]],
    );
    assert.deepEqual(match.extraInstanceIds, []);
    assert.match(match.shortfall?.detail ?? "", /^fleet started 1 of 3 instances: InsufficientInstanceCapacity/);
  });

  it("leaves instances beyond the runners to terminate, and no shortfall", () => {
    const match = matchFleet(["a"], { instances: [instance("i-1"), instance("i-2")], errors: [] });
    assert.deepEqual([match.runners, match.extraInstanceIds, match.shortfall], [["a"], ["i-2"], undefined]);
  });

  it("drops the pairs whose instance was withdrawn", () => {
    const kept = withoutInstances(["a", "b"], [instance("i-1"), instance("i-2")], new Set(["i-1"]));
    assert.deepEqual([kept.runners, kept.instances.map((i) => i.instanceId), kept.gone], [["b"], ["i-2"], ["a"]]);
  });
});
