/**
 * The reaper's decisions, as one pure function over a snapshot of our stack's instances, the GitHub runners
 * those instances registered, and the leftover just-in-time parameters.
 *
 * Rules (why each exists is in the comment beside it):
 * - A busy runner is never touched: neither its instance nor its registration. Not even past `maxJobHours`:
 *   a job that runs too long is bounded by its own `timeout-minutes` (GitHub cancels it, the ephemeral runner
 *   exits and the instance powers off); killing it here would fail a job that was still doing work.
 * - Busy by the job ledger's word counts the same (`runningInLedger`: the runner's job is recorded `running` on
 *   that very runner): GitHub's view of a runner can lag or be lost between list pages, and a second witness
 *   costs one read, while ending a running job costs the job. A ledger read that failed (`unverified`) spares too.
 * - Nothing is touched inside the boot grace time (age <= grace, measured from the instance's launch time):
 *   a just-in-time runner is registered (offline) before its instance exists and stays offline until the
 *   instance has booted.
 * - After the grace time, an instance with no runner of its name on GitHub, or whose runner is offline, is
 *   terminated; "no runner" only after the runner was also looked up by name (`unseenRunnerNames`): the runner
 *   list is read page by page while ephemeral runners disappear, so a runner can move across a page boundary
 *   between two page reads and be missing from the list although it is busy. A runner that could not be looked
 *   up (`unverified`) spares its instance until the next run. A runner that is truly gone or offline never came
 *   online (bootstrap failed, the job ended but the instance did not power off, the agent died).
 * - An instance whose runner is online and idle for longer than `maxJobHours` is recycled, but only after its
 *   runner was removed from GitHub: GitHub refuses to remove a runner that has just taken a job, and that
 *   refusal is what keeps the job alive (`afterDeregistering`).
 * - An offline, idle runner is removed from GitHub when its instance is gone (shutting down or terminated:
 *   spot interruption, a crash) or has been running past the grace time without the runner coming online.
 * - A runner that none of our instances (in any state) names is not ours to judge: we cannot tell it from one
 *   whose instance is being created right now. Terminated instances stay visible for about an hour and the
 *   reaper runs every few minutes, so real ghosts are caught; GitHub itself drops ephemeral runners that have
 *   been offline for a day.
 * - A just-in-time parameter is deleted when its instance is gone, or when no instance of that id is known and
 *   the parameter is older than the grace time (a younger one may belong to an instance DescribeInstances does
 *   not show yet: the EC2 API is eventually consistent).
 */

export type InstanceState = "pending" | "running" | "shutting-down" | "terminated" | "stopping" | "stopped";

/** One EC2 instance of our stack, from DescribeInstances and its tags. */
export interface ReaperInstance {
  instanceId: string;
  state: InstanceState;
  launchTime: Date;
  /** `cirunners:pool` tag. */
  pool?: string;
  /** `cirunners:runner-name` tag: the name the instance's runner registered with. */
  runnerName?: string;
}

/** One self-hosted runner as `GET .../actions/runners` lists it. */
export interface ReaperRunner {
  id: number;
  name: string;
  /** "online" or "offline". */
  status: string;
  busy: boolean;
  /** "owner/name" when the runner is registered on a repository (repo scope). */
  repository?: string;
}

/** A just-in-time config parameter under the runner parameter prefix. */
export interface ReaperParameter {
  name: string;
  /** The instance id the name ends with. */
  instanceId: string;
  lastModified: Date;
}

export interface ReaperInput {
  instances: ReaperInstance[];
  runners: ReaperRunner[];
  parameters?: ReaperParameter[];
  now: Date;
  bootGraceMinutes: number;
  maxJobHours: number;
  /**
   * Runner names that could not be verified (missing from the list and their lookup by name failed, or their job's
   * ledger record could not be read): their live instances are spared, their runners kept.
   */
  unverified?: ReadonlySet<string>;
  /** Runner names whose job the ledger records `running` on that runner: spared like busy runners. */
  runningInLedger?: ReadonlySet<string>;
}

export type TerminateReason = "never-registered" | "runner-offline" | "max-lifetime";
export type DeregisterReason = "instance-gone" | "offline-beyond-grace" | "idle-beyond-lifetime";
export type SpareReason = "busy" | "running-in-ledger" | "booting" | "idle-within-lifetime" | "unverified";

export interface TerminateDecision {
  instanceId: string;
  pool?: string;
  reason: TerminateReason;
  /** Terminate only if removing this runner from GitHub succeeded (it may have just taken a job). */
  afterDeregistering?: number;
}

export interface DeregisterDecision {
  runnerId: number;
  name: string;
  repository?: string;
  reason: DeregisterReason;
}

export interface ReaperDecision {
  terminate: TerminateDecision[];
  deregister: DeregisterDecision[];
  /** Names of just-in-time parameters to delete. */
  deleteParameters: string[];
  /** Live instances left alone on purpose, with the rule that spared them (for the logs). */
  spared: { instanceId: string; reason: SpareReason }[];
}

const LIVE_STATES: ReadonlySet<InstanceState> = new Set(["pending", "running"]);

/**
 * Names of the runners of live instances past the grace time that the runner list did not show: the names to look
 * up one by one before `decideReaping` may call their instances "never registered".
 */
export function unseenRunnerNames(
  input: Pick<ReaperInput, "instances" | "runners" | "now" | "bootGraceMinutes">,
): string[] {
  const listed = new Set(input.runners.map((r) => r.name));
  const graceMs = input.bootGraceMinutes * 60_000;
  return input.instances.flatMap((instance) =>
    isLive(instance) &&
    instance.runnerName &&
    !listed.has(instance.runnerName) &&
    input.now.getTime() - instance.launchTime.getTime() > graceMs
      ? [instance.runnerName]
      : [],
  );
}

export function isLive(instance: Pick<ReaperInstance, "state">): boolean {
  return LIVE_STATES.has(instance.state);
}

/**
 * Decides what to terminate, deregister and delete. Pure: the same snapshot always gives the same answer,
 * and the output lists are in input order.
 */
export function decideReaping(input: ReaperInput): ReaperDecision {
  const { instances, runners, now } = input;
  if (!(input.bootGraceMinutes > 0))
    throw new Error(`bootGraceMinutes must be a positive number, got ${input.bootGraceMinutes}`);
  if (!(input.maxJobHours > 0)) throw new Error(`maxJobHours must be a positive number, got ${input.maxJobHours}`);
  if (Number.isNaN(now.getTime())) throw new Error("now must be a valid date");
  const graceMs = input.bootGraceMinutes * 60_000;
  const maxLifetimeMs = input.maxJobHours * 3_600_000;
  const ageOf = (instance: ReaperInstance) => now.getTime() - instance.launchTime.getTime();

  const runnersByName = new Map<string, ReaperRunner>();
  for (const runner of runners) runnersByName.set(runner.name, runner);

  // Per runner name, the instance that carries it; a live one wins over a gone one (a name is never reused,
  // but a snapshot must not decide on the wrong record if it were).
  const instanceByRunnerName = new Map<string, ReaperInstance>();
  for (const instance of instances) {
    if (!instance.runnerName) continue;
    const known = instanceByRunnerName.get(instance.runnerName);
    if (!known || (!isLive(known) && isLive(instance))) instanceByRunnerName.set(instance.runnerName, instance);
  }

  const decision: ReaperDecision = { terminate: [], deregister: [], deleteParameters: [], spared: [] };
  const deregistered = new Set<number>();
  const deregister = (runner: ReaperRunner, reason: DeregisterReason) => {
    if (deregistered.has(runner.id)) return;
    deregistered.add(runner.id);
    decision.deregister.push({
      runnerId: runner.id,
      name: runner.name,
      ...(runner.repository ? { repository: runner.repository } : {}),
      reason,
    });
  };

  for (const instance of instances) {
    if (!isLive(instance)) continue;
    const runner = instance.runnerName ? runnersByName.get(instance.runnerName) : undefined;
    const base = { instanceId: instance.instanceId, ...(instance.pool ? { pool: instance.pool } : {}) };
    if (runner?.busy) {
      decision.spared.push({ instanceId: instance.instanceId, reason: "busy" });
    } else if (instance.runnerName && input.runningInLedger?.has(instance.runnerName)) {
      decision.spared.push({ instanceId: instance.instanceId, reason: "running-in-ledger" });
    } else if (ageOf(instance) <= graceMs) {
      decision.spared.push({ instanceId: instance.instanceId, reason: "booting" });
    } else if (instance.runnerName && input.unverified?.has(instance.runnerName)) {
      decision.spared.push({ instanceId: instance.instanceId, reason: "unverified" });
    } else if (!runner) {
      decision.terminate.push({ ...base, reason: "never-registered" });
    } else if (runner.status !== "online") {
      decision.terminate.push({ ...base, reason: "runner-offline" });
      deregister(runner, "offline-beyond-grace");
    } else if (ageOf(instance) > maxLifetimeMs) {
      decision.terminate.push({ ...base, reason: "max-lifetime", afterDeregistering: runner.id });
      deregister(runner, "idle-beyond-lifetime");
    } else {
      decision.spared.push({ instanceId: instance.instanceId, reason: "idle-within-lifetime" });
    }
  }

  for (const runner of runners) {
    if (runner.busy || runner.status === "online") continue;
    const instance = instanceByRunnerName.get(runner.name);
    if (!instance) continue; // not provably ours, or its instance is still being created
    if (isLive(instance) && (input.runningInLedger?.has(runner.name) || input.unverified?.has(runner.name))) continue;
    if (!isLive(instance)) deregister(runner, "instance-gone");
    else if (ageOf(instance) > graceMs) deregister(runner, "offline-beyond-grace");
  }

  const instancesById = new Map(instances.map((i) => [i.instanceId, i]));
  for (const parameter of input.parameters ?? []) {
    const instance = instancesById.get(parameter.instanceId);
    if (instance ? !isLive(instance) : now.getTime() - parameter.lastModified.getTime() > graceMs) {
      decision.deleteParameters.push(parameter.name);
    }
  }
  return decision;
}
