// One simulated Lambda container: a worker thread started with the function's own environment (the Worker `env`
// option) and no TypeScript loader: plain Node imports the function's archive (index.mjs, which imports its chunks
// beside it) once, as the Lambda runtime does, and runs one invocation at a time. Plain JavaScript on purpose (see functions.ts).
import { parentPort, workerData } from "node:worker_threads";
import { pathToFileURL } from "node:url";

const { bundlePath, functionName, functionArn, memorySize, timeoutSeconds, clock } = workerData;

// The simulation's clock (clock.ts): the realm's Date reads real time plus the shared offset, so the handler's
// `Date.now()` and `new Date()` give simulated time. Patched before the bundle loads, and only time "now" moves:
// `new Date(value)` and Date.UTC are unchanged.
if (clock) {
  const offset = new Float64Array(clock);
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  const now = () => realNow() + offset[0];
  class SimulatedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(now());
      else super(...args);
    }
    static now() {
      return now();
    }
  }
  globalThis.Date = SimulatedDate;
}

const loadStarted = performance.now();
const loaded = import(pathToFileURL(bundlePath).href).then((module) => {
  if (typeof module.handler !== "function") throw new Error(`${bundlePath} does not export a handler`);
  return { handler: module.handler, loadMs: performance.now() - loadStarted };
});

parentPort.on("message", async (invocation) => {
  const started = performance.now();
  try {
    const { handler, loadMs } = await loaded;
    // performance.now(): the timeout is real time, whatever the simulation clock does.
    const deadline = performance.now() + timeoutSeconds * 1000;
    const context = {
      functionName,
      functionVersion: "$LATEST",
      invokedFunctionArn: functionArn,
      memoryLimitInMB: String(memorySize),
      awsRequestId: invocation.requestId,
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: "simulation",
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - performance.now()),
      done() {},
      fail() {},
      succeed() {},
    };
    const handlerStarted = performance.now();
    // CPU time of this container's thread during the invocation (the function's own work; while the handler
    // awaits an answer, the thread is idle and the counter stands still).
    const cpuBefore = process.threadCpuUsage();
    const result = await handler(invocation.event, context);
    const cpu = process.threadCpuUsage(cpuBefore);
    parentPort.postMessage({
      id: invocation.id,
      ok: true,
      result,
      handlerMs: performance.now() - handlerStarted,
      cpuMs: (cpu.user + cpu.system) / 1000,
      totalMs: performance.now() - started,
      loadMs,
    });
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    parentPort.postMessage({ id: invocation.id, ok: false, error: message, totalMs: performance.now() - started });
  }
});
