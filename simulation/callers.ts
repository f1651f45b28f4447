/** Who calls AWS in the simulation, and how: each caller signs with its own access key id, so the counting proxy
 * tells them apart without touching the function code. */

/** Account id moto uses by default (and the mocks record). */
export const SIMULATION_ACCOUNT_ID = "123456789012";

/** Access key ids, one per caller. */
export const CALLERS = {
  webhook: "AKIASIMWEBHOOK",
  launcher: "AKIASIMLAUNCHER",
  reaper: "AKIASIMREAPER",
  "runner-cache": "AKIASIMRUNNERCACHE",
  reconciler: "AKIASIMRECONCILER",
  redeliver: "AKIASIMREDELIVER",
  eventSource: "AKIASIMEVENTSOURCE",
  instance: "AKIASIMINSTANCE",
  simulation: "AKIASIMHARNESS",
} as const;

export type Caller = keyof typeof CALLERS;

/** AWS SDK client configuration for a caller, sending to the proxy. */
export function clientConfig(endpoint: string, region: string, caller: Caller) {
  return {
    endpoint,
    region,
    credentials: { accessKeyId: CALLERS[caller], secretAccessKey: "simulation" },
    maxAttempts: 3,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
