/**
 * Pairing the registered runners of a launch with the instances its fleet started. Pure functions only.
 *
 * The n-th runner gets the n-th instance. Runners beyond the instances (a shortfall) are surplus: deleted from
 * GitHub and failed with the shortfall's reason. Instances beyond the runners (never expected) are nobody's runner.
 */
import { type FleetInstance, shortfallReason } from "./fleet.js";
import type { Failure } from "./plan.js";

export interface FleetMatch<R> {
  runners: R[];
  /** `instances[i]` is `runners[i]`'s. */
  instances: FleetInstance[];
  surplus: R[];
  /** Why the surplus runners got no instance (set when there are any). */
  shortfall?: Failure;
  /** Instances beyond the runners: to terminate. */
  extraInstanceIds: string[];
}

export function matchFleet<R>(
  runners: readonly R[],
  fleet: { instances: FleetInstance[]; errors: string[] },
): FleetMatch<R> {
  const started = fleet.instances.length;
  const match: FleetMatch<R> = {
    runners: runners.slice(0, started),
    instances: fleet.instances.slice(0, runners.length),
    surplus: runners.slice(started),
    extraInstanceIds: fleet.instances.slice(runners.length).map((i) => i.instanceId),
  };
  if (match.surplus.length > 0)
    match.shortfall = {
      reason: shortfallReason(
        started,
        fleet.errors.map((e) => e.split(":")[0]),
      ),
      detail: `fleet started ${started} of ${runners.length} instances: ${fleet.errors.join("; ") || "no error reported"}`,
    };
  return match;
}

/** The pairs whose instance is not in `out`, and the runners whose instance is. */
export function withoutInstances<R>(
  runners: readonly R[],
  instances: readonly FleetInstance[],
  out: ReadonlySet<string>,
): { runners: R[]; instances: FleetInstance[]; gone: R[] } {
  return {
    runners: runners.filter((_, i) => !out.has(instances[i].instanceId)),
    instances: instances.filter((i) => !out.has(i.instanceId)),
    gone: runners.filter((_, i) => out.has(instances[i].instanceId)),
  };
}
