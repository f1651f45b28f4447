/**
 * What became of each runner of a launch once the caller was asked about it and its parameter written
 * (services/launch-runners.ts). Pure functions only.
 */
import type { FleetInstance, Lifecycle } from "./fleet.js";
import type { FailureReason } from "./plan.js";

/** A runner that exists on GitHub and on EC2, with its config in SSM. */
export interface LaunchedRunner {
  key: string;
  runnerName: string;
  runnerId: number;
  instanceId: string;
  lifecycle: Lifecycle;
  /** Epoch ms when the fleet call that started the instance returned. */
  fleetLaunchedAt: number;
}

export interface LaunchFailure {
  key: string;
  reason: FailureReason;
  detail: string;
}

/** A runner the caller withdrew right before its parameter was written (`LaunchHooks.starting`): ended unbooted. */
export interface WithdrawnRunner {
  key: string;
  runnerName: string;
  instanceId: string;
  reason: string;
}

/** The part of a registered runner the outcome needs. */
export interface OutcomeRunner {
  request: { key: string; runnerName: string };
  runnerId: number;
}

/** The runner as launched on `instance`: what the caller is told before its parameter is written, and after. */
export function launchedRunner(
  runner: OutcomeRunner,
  instance: FleetInstance,
  fleetLaunchedAt: number,
): LaunchedRunner {
  const { key, runnerName } = runner.request;
  const { instanceId, lifecycle } = instance;
  return { key, runnerName, runnerId: runner.runnerId, instanceId, lifecycle, fleetLaunchedAt };
}

/**
 * `results[i]` is how configuring `runners[i]` on `instances[i]` ended: fulfilled with the caller's `{ withdraw }`
 * (no parameter written), fulfilled with nothing (launched), or rejected (a tag or the parameter failed: broken,
 * to be undone and failed as `parameter-error`).
 */
export function sortConfigured<R extends OutcomeRunner>(
  runners: readonly R[],
  instances: readonly FleetInstance[],
  results: readonly PromiseSettledResult<{ withdraw: string } | undefined>[],
  fleetLaunchedAt: number,
): {
  launched: LaunchedRunner[];
  withdrawn: { runner: R; entry: WithdrawnRunner }[];
  broken: { runner: R; instanceId: string; failure: LaunchFailure }[];
} {
  const sorted: ReturnType<typeof sortConfigured<R>> = { launched: [], withdrawn: [], broken: [] };
  results.forEach((result, i) => {
    const runner = runners[i];
    const { key, runnerName } = runner.request;
    const { instanceId } = instances[i];
    if (result.status === "rejected")
      sorted.broken.push({
        runner,
        instanceId,
        failure: { key, reason: "parameter-error", detail: String(result.reason) },
      });
    else if (result.value)
      sorted.withdrawn.push({ runner, entry: { key, runnerName, instanceId, reason: result.value.withdraw } });
    else sorted.launched.push(launchedRunner(runner, instances[i], fleetLaunchedAt));
  });
  return sorted;
}
