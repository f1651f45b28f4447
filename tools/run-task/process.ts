/**
 * The real process around runTask, shared by the command line and the GitHub Action: a Step Functions client
 * whose retries are ours (aws-retry.ts), a clock, and cancellation on SIGINT / SIGTERM (a cancelled GitHub
 * Actions job gets SIGINT, then SIGTERM 7.5 s later, then is killed).
 */
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { SFNClient } from "@aws-sdk/client-sfn";
import { cloudWatchLogReader } from "./cloudwatch-logs";
import type { RunTaskOptions } from "./options";
import type { RunDeps } from "./run";

/** Aborts with the signal's name on the first SIGINT or SIGTERM; later signals are ignored (the stop is under way). */
export function cancelOnSignals(log: (line: string) => void): AbortController {
  const controller = new AbortController();
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    process.on(name, () => {
      if (controller.signal.aborted) return;
      log(`received ${name}: stopping the execution`);
      controller.abort(name);
    });
  }
  return controller;
}

/** setTimeout that ends early when `signal` aborts. */
export function abortableSleep(signal: AbortSignal): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
}

export function liveDeps(options: RunTaskOptions, log: (line: string) => void): RunDeps {
  const { signal } = cancelOnSignals(log);
  return {
    // maxAttempts 1: withRetry is the only retry layer, so its budget is the whole story.
    client: new SFNClient({ region: options.region, maxAttempts: 1 }),
    // The SDK's own retries suffice here: a failed read is retried at the next poll and never fails the run.
    logs: cloudWatchLogReader(new CloudWatchLogsClient({ region: options.region, maxAttempts: 2 })),
    sleep: abortableSleep(signal),
    now: () => Date.now(),
    log,
    signal,
  };
}
