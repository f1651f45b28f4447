/**
 * EC2 Fleet request building and the spot → on-demand fallback decision. Pure functions only: the launch core
 * sends what these build.
 */
import type {
  _InstanceType,
  CreateFleetCommandInput,
  CreateFleetCommandOutput,
  FleetLaunchTemplateOverridesRequest,
  Tag,
} from "@aws-sdk/client-ec2";

export type Lifecycle = "spot" | "on-demand";

/**
 * Fleet error codes that mean "no spot capacity (at this price) right now": the cue to ask for on-demand
 * instances instead. Anything else (bad launch template, permissions, limits on vCPUs) fails the launch.
 */
export const SPOT_CAPACITY_ERROR_CODES: ReadonlySet<string> = new Set([
  "InsufficientInstanceCapacity",
  "InsufficientCapacity",
  "UnfulfillableCapacity",
  "MaxSpotInstanceCountExceeded",
  "SpotMaxPriceTooLow",
  "InsufficientSpotCapacity",
  "capacity-not-available",
  "price-too-low",
  "spotInstanceCountLimitExceeded",
]);

export function isSpotCapacityError(code: string | undefined): boolean {
  return code !== undefined && SPOT_CAPACITY_ERROR_CODES.has(code);
}

/**
 * One override per instance type × subnet, so the fleet may pick any type in any AZ. For on-demand the pool's
 * order of instance types is its preference (`prioritized`); spot uses `price-capacity-optimized` and ignores it.
 */
export function buildFleetOverrides(
  instanceTypes: string[],
  subnetIds: string[],
): FleetLaunchTemplateOverridesRequest[] {
  if (instanceTypes.length === 0) throw new Error("a pool needs at least one instance type");
  if (subnetIds.length === 0) throw new Error("the launcher needs at least one subnet");
  return instanceTypes.flatMap((instanceType, priority) =>
    subnetIds.map((subnetId) => ({
      InstanceType: instanceType as _InstanceType,
      SubnetId: subnetId,
      Priority: priority,
    })),
  );
}

export interface FleetRequest {
  launchTemplateId: string;
  overrides: FleetLaunchTemplateOverridesRequest[];
  count: number;
  lifecycle: Lifecycle;
  /** Tags for the instances and their volumes. */
  tags: Tag[];
  /** Idempotency token: an SDK retry of the same request cannot start a second set of instances. */
  clientToken: string;
}

export function buildCreateFleetInput(request: FleetRequest): CreateFleetCommandInput {
  if (!Number.isInteger(request.count) || request.count < 1)
    throw new Error(`fleet capacity must be a positive integer, got ${request.count}`);
  return {
    Type: "instant",
    ClientToken: request.clientToken,
    LaunchTemplateConfigs: [
      {
        LaunchTemplateSpecification: { LaunchTemplateId: request.launchTemplateId, Version: "$Default" },
        Overrides: request.overrides,
      },
    ],
    TargetCapacitySpecification: {
      TotalTargetCapacity: request.count,
      DefaultTargetCapacityType: request.lifecycle,
      ...(request.lifecycle === "spot"
        ? { SpotTargetCapacity: request.count }
        : { OnDemandTargetCapacity: request.count }),
    },
    ...(request.lifecycle === "spot"
      ? { SpotOptions: { AllocationStrategy: "price-capacity-optimized" as const } }
      : { OnDemandOptions: { AllocationStrategy: "prioritized" as const } }),
    TagSpecifications: [
      { ResourceType: "instance", Tags: request.tags },
      { ResourceType: "volume", Tags: request.tags },
    ],
  };
}

export interface FleetInstance {
  instanceId: string;
  lifecycle: Lifecycle;
  instanceType?: string;
  subnetId?: string;
}

export interface FleetError {
  code: string;
  message: string;
}

export interface FleetOutcome {
  instances: FleetInstance[];
  errors: FleetError[];
}

/** The instances an instant fleet started and the errors it reported, flattened. */
export function summarizeFleet(
  output: Pick<CreateFleetCommandOutput, "Instances" | "Errors">,
  requested: Lifecycle,
): FleetOutcome {
  const instances = (output.Instances ?? []).flatMap((group) =>
    (group.InstanceIds ?? []).map((instanceId) => ({
      instanceId,
      lifecycle: (group.Lifecycle as Lifecycle | undefined) ?? requested,
      instanceType: group.InstanceType ?? group.LaunchTemplateAndOverrides?.Overrides?.InstanceType,
      subnetId: group.LaunchTemplateAndOverrides?.Overrides?.SubnetId,
    })),
  );
  const errors = (output.Errors ?? []).map((e) => ({ code: e.ErrorCode ?? "Unknown", message: e.ErrorMessage ?? "" }));
  return { instances, errors };
}

/**
 * How many on-demand instances to ask for after a spot request: the shortfall, but only when the fleet said the
 * shortfall is a capacity problem. A shortfall for another reason would fail on-demand the same way.
 */
export function onDemandFallbackCount(requested: number, spot: FleetOutcome): number {
  const shortfall = requested - spot.instances.length;
  if (shortfall <= 0) return 0;
  return spot.errors.some((e) => isSpotCapacityError(e.code)) ? shortfall : 0;
}

/** The failure a shortfall is reported as: capacity when any error said so (or something launched), else an error. */
export function shortfallReason(launchedCount: number, errorCodes: string[]): "fleet-capacity" | "fleet-error" {
  return launchedCount === 0 && errorCodes.every((code) => !isSpotCapacityError(code))
    ? "fleet-error"
    : "fleet-capacity";
}
