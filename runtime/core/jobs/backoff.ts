/**
 * When a job that could not be launched is tried again. Both waits are capped at 10 minutes so a job still starts
 * soon after capacity frees or an outage ends, and both stop mattering after GitHub's 24-hour queue limit, when the
 * reconciler expires the job.
 */
export const FIRST_RETRY_MS = 30_000;
export const MAX_RETRY_MS = 10 * 60_000;

/** After the `attempts`-th failed launch (1, 2, …): 30 s, 60 s, 120 s, … up to 10 minutes. */
export function launchRetryDelayMs(attempts: number): number {
  const doublings = Math.max(0, Math.min(attempts - 1, 30));
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** doublings);
}

/**
 * For a job waiting for its pool's capacity: as long again as it has waited so far (so the waits double without
 * a counter in the record), at least 30 s, at most 10 minutes. A capacity wait is not a failure and counts no
 * attempt.
 */
export function capacityWaitMs(queuedAt: string, now: Date): number {
  const waited = now.getTime() - Date.parse(queuedAt);
  return Math.min(MAX_RETRY_MS, Math.max(FIRST_RETRY_MS, Number.isFinite(waited) ? waited : 0));
}

export function after(now: Date, delayMs: number): string {
  return new Date(now.getTime() + delayMs).toISOString();
}
