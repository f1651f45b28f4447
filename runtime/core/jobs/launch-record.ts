/**
 * The ledger fields the launcher writes for a claimed job (services/launch-jobs.ts). Pure functions only.
 *
 * A job goes back to `queued` with a due time when its pool is full (no attempt counted: waiting is not failing)
 * or its launch failed (one more attempt, and the error for whoever reads the record); once its runner is started
 * it moves to `launched` with that runner, clearing what the last failure left.
 */
import type { JobRecord, LaunchedRunner } from "../../../contract/ledger.js";
import { after, capacityWaitMs, launchRetryDelayMs } from "./backoff.js";

export interface RetryFields {
  nextAttemptAt: string;
  attempts?: number;
  lastError?: string;
}

/** For a job its pool had no room for: retried as long again as it has waited (core/jobs/backoff.ts). */
export function capacityWait(record: Pick<JobRecord, "queuedAt">, now: Date): RetryFields {
  return { nextAttemptAt: after(now, capacityWaitMs(record.queuedAt, now)) };
}

/** For a job whose launch failed: one more attempt, retried after the attempt's backoff. */
export function failedLaunch(
  record: Pick<JobRecord, "attempts">,
  failure: { reason: string; detail: string },
  now: Date,
): Required<RetryFields> {
  const attempts = record.attempts + 1;
  return {
    nextAttemptAt: after(now, launchRetryDelayMs(attempts)),
    attempts,
    lastError: `${failure.reason}: ${failure.detail}`,
  };
}

/** `launching → launched`, adding the runner as the ledger lists it. */
export function launchedMove(runner: {
  instanceId: string;
  runnerName: string;
  runnerId: number;
  fleetLaunchedAt: number;
}): { state: "launched"; addRunner: LaunchedRunner; lastError: null; nextAttemptAt: null } {
  const addRunner = {
    instanceId: runner.instanceId,
    runnerName: runner.runnerName,
    runnerId: runner.runnerId,
    launchedAt: new Date(runner.fleetLaunchedAt).toISOString(),
  };
  return { state: "launched", addRunner, lastError: null, nextAttemptAt: null };
}
