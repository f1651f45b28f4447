/**
 * Everything the benchmark starts (pipelines with their moto, GitHub stand-in, proxy and function containers;
 * ElasticMQ; preview processes) is tracked here, so that it is stopped on every path: at the end, on an error, and
 * on SIGINT / SIGTERM (`stopOnSignals`), including what was still starting when the signal came.
 */

type Stop = () => Promise<void> | void;

const running = new Set<Stop>();
const starting = new Set<Promise<unknown>>();
let stopping = false;

/** Registers a stop function; returns the function that unregisters it (call it after stopping normally). */
export function track(stop: Stop): () => void {
  running.add(stop);
  return () => running.delete(stop);
}

/**
 * Awaits `start` and tracks what it returns (its `stop`). A start that completes after a signal is stopped at once.
 * Returns the started thing and its untracking stop: `await using`-like, without the syntax.
 */
export async function startTracked<T extends { stop(): Promise<void> }>(
  start: Promise<T>,
): Promise<{ value: T; stop: () => Promise<void> }> {
  // What a signal handler waits for: the start, and the stop when a signal came meanwhile.
  const guarded = start.then(async (value) => {
    if (stopping) await value.stop();
    return value;
  });
  starting.add(guarded);
  let value: T;
  try {
    value = await guarded;
  } finally {
    starting.delete(guarded);
  }
  if (stopping) throw new Error("stopped by a signal");
  const stopOnce = () => value.stop();
  const untrack = track(stopOnce);
  return {
    value,
    stop: async () => {
      untrack();
      await stopOnce();
    },
  };
}

/** Stops everything tracked (newest first), each at most once; errors are reported, not thrown. */
export async function stopAllTracked(log: (line: string) => void = () => undefined): Promise<void> {
  for (const stop of [...running].reverse()) {
    running.delete(stop);
    try {
      await stop();
    } catch (error) {
      log(`could not stop a server: ${(error as Error).message}`);
    }
  }
}

/** Whether a signal is stopping the run (errors that follow from servers going away are then expected). */
export function stoppingBySignal(): boolean {
  return stopping;
}

/** On SIGINT / SIGTERM: stop what runs and what is starting (up to 2 minutes), then exit 130. */
export function stopOnSignals(log: (line: string) => void): void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`\n${signal}: stopping every server the benchmark started…`);
    const waitForStarts = Promise.race([
      Promise.allSettled([...starting]),
      new Promise((resolve) => setTimeout(resolve, 120_000)),
    ]);
    void stopAllTracked(log)
      .then(() => waitForStarts)
      .then(() => stopAllTracked(log))
      .finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
}
