/**
 * Undoing part of a launch before any of its runners could boot (services/launch-runners.ts): runners without an
 * instance, instances without a runner, and runners the caller no longer wants. None of them ever had its
 * parameter read, so none can have taken a job: they are removed unconditionally, unlike the idle runners the
 * reconciler and the warm pool end only when GitHub lets them go.
 *
 * Nothing here throws: a failure is logged, and the reaper removes what is left (offline runners, orphan
 * instances, parameters without an instance) later.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { RunnerTarget } from "../../contract/runner-target.js";
import { terminateInstances } from "../adapters/ec2.js";
import type { GitHubApp } from "../adapters/github/app-auth.js";
import { deleteRunner } from "../adapters/github/runners.js";
import { deleteParameters } from "../adapters/ssm.js";
import type { Log } from "../shared/lambda.js";

/** A just-in-time runner registered at GitHub for this launch. */
export interface RegisteredRunner {
  request: { installationId: number; target: RunnerTarget; runnerName: string };
  runnerId: number;
}

export interface Unbooted {
  runners?: readonly RegisteredRunner[];
  instanceIds?: readonly string[];
  /** Runner parameters that may exist (written before something else about their instance failed). */
  parameterNames?: readonly string[];
}

/** Deletes the runners, terminates the instances and deletes the parameters, all at once. */
export async function withdrawUnbooted(
  { runners = [], instanceIds = [], parameterNames = [] }: Unbooted,
  deps: { ec2: EC2Client; ssm: SSMClient; github: GitHubApp; log: Log },
): Promise<void> {
  await Promise.all([
    terminateQuietly([...instanceIds], deps),
    deleteRunners(runners, deps),
    deleteParameters(deps.ssm, [...parameterNames]).catch(() => undefined),
  ]);
}

async function deleteRunners(runners: readonly RegisteredRunner[], deps: { github: GitHubApp; log: Log }) {
  await Promise.all(
    runners.map(async ({ request, runnerId }) => {
      try {
        await deleteRunner(await deps.github.installationClient(request.installationId), request.target, runnerId);
      } catch (error) {
        deps.log.error("could not delete JIT runner; the reaper will remove it", {
          runnerName: request.runnerName,
          runnerId,
          error: String(error),
        });
      }
    }),
  );
}

async function terminateQuietly(instanceIds: string[], deps: { ec2: EC2Client; log: Log }) {
  try {
    await terminateInstances(deps.ec2, instanceIds);
  } catch (error) {
    deps.log.error("could not terminate instances; the reaper will", { instanceIds, error: String(error) });
  }
}
