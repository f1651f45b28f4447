/**
 * Every EC2 call of the functions: launching (one instant `CreateFleet`), tagging, terminating and describing
 * our stack's instances. Shared by the launcher, the reaper and the warm pool.
 */
import {
  CreateFleetCommand,
  CreateTagsCommand,
  type EC2Client,
  type Filter,
  paginateDescribeInstances,
  type Tag,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { TAG } from "../../contract/names.js";
import {
  type FleetOutcome,
  type FleetRequest,
  buildCreateFleetInput,
  isSpotCapacityError,
  summarizeFleet,
} from "../core/launch/fleet.js";
import type { InstanceState, ReaperInstance } from "../core/reaper/decide.js";

/** Instance states the reaper looks at: live ones, and recently gone ones (EC2 shows those for about an hour). */
export const SNAPSHOT_STATES: InstanceState[] = ["pending", "running", "shutting-down", "terminated"];
export const LIVE_STATES: InstanceState[] = ["pending", "running"];

export interface StackInstance extends ReaperInstance {
  /** `cirunners:repository` tag ("owner/name"). */
  repository?: string;
  /** Carries `TAG.warm` = "true" (started by the warm pool). */
  warm: boolean;
}

/**
 * Our stack's instances in the given states, filtered server-side by the stack tag so the answer does not grow
 * with other workloads in the account; pages followed by the SDK's paginator.
 */
export async function describeStackInstances(
  ec2: EC2Client,
  stack: string,
  states: InstanceState[] = SNAPSHOT_STATES,
  extraFilters: Filter[] = [],
): Promise<StackInstance[]> {
  const instances: StackInstance[] = [];
  const filters: Filter[] = [
    { Name: `tag:${TAG.stack}`, Values: [stack] },
    { Name: "instance-state-name", Values: states },
    ...extraFilters,
  ];
  for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 1000 }, { Filters: filters })) {
    for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      if (!instance.InstanceId || !instance.LaunchTime || !instance.State?.Name) continue;
      const tags = new Map((instance.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
      instances.push({
        instanceId: instance.InstanceId,
        state: instance.State.Name as InstanceState,
        launchTime: new Date(instance.LaunchTime),
        ...(tags.get(TAG.pool) ? { pool: tags.get(TAG.pool) } : {}),
        ...(tags.get(TAG.runnerName) ? { runnerName: tags.get(TAG.runnerName) } : {}),
        ...(tags.get(TAG.repository) ? { repository: tags.get(TAG.repository) } : {}),
        warm: tags.get(TAG.warm) === "true",
      });
    }
  }
  return instances;
}

/** Live (pending or running) instances of our stack per pool, for the given pools (0 for a pool with none). */
export async function countLiveInstances(ec2: EC2Client, stack: string, pools: string[]): Promise<Map<string, number>> {
  const counts = new Map(pools.map((pool) => [pool, 0]));
  const live = await describeStackInstances(ec2, stack, LIVE_STATES, [{ Name: `tag:${TAG.pool}`, Values: pools }]);
  for (const { pool } of live)
    if (pool !== undefined && counts.has(pool)) counts.set(pool, (counts.get(pool) ?? 0) + 1);
  return counts;
}

/** Terminates instances in one call; returns the ids EC2 accepted. */
export async function terminateInstances(ec2: EC2Client, instanceIds: string[]): Promise<string[]> {
  if (instanceIds.length === 0) return [];
  const result = await ec2.send(new TerminateInstancesCommand({ InstanceIds: instanceIds }));
  return (result.TerminatingInstances ?? []).map((i) => i.InstanceId).filter((id): id is string => Boolean(id));
}

export async function tagInstance(ec2: EC2Client, instanceId: string, tags: Tag[]): Promise<void> {
  await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: tags }));
}

/** The error code of an EC2 API error (the SDK puts it in `name`; older shapes use `Code`/`code`). */
export function ec2ErrorCode(error: unknown): string {
  const e = error as { name?: string; Code?: string; code?: string };
  return e?.Code ?? e?.code ?? e?.name ?? "Unknown";
}

/**
 * One instant fleet. Some spot capacity problems come back as an API error instead of an entry in `Errors`:
 * those are reported as fleet errors too, so the caller can fall back to on-demand.
 */
export async function createFleet(ec2: EC2Client, request: FleetRequest): Promise<FleetOutcome> {
  try {
    return summarizeFleet(await ec2.send(new CreateFleetCommand(buildCreateFleetInput(request))), request.lifecycle);
  } catch (error) {
    const code = ec2ErrorCode(error);
    if (request.lifecycle === "spot" && isSpotCapacityError(code))
      return { instances: [], errors: [{ code, message: String(error) }] };
    throw error;
  }
}
