/**
 * What the simulated instances react to, seen at the counting proxy (proxy.ts): the functions act on instances only
 * through AWS, so the pipeline learns from their calls when an instance boots and when one is ended under its runner.
 */
import { CALLERS } from "./callers";
import type { InstanceSimulator } from "./instances";
import type { CallListener } from "./proxy";

type InstanceEvents = Pick<InstanceSimulator, "terminated" | "parameterWritten">;

export class InstanceTriggers {
  private instances?: InstanceEvents;
  /**
   * JIT parameters written before the simulator exists (it needs the deployed stack, and the proxy runs before the
   * deployment): their instances boot once it is attached, not never.
   */
  private readonly earlyWrites: string[] = [];

  /** The proxy's call listener. */
  readonly onCall: CallListener = (call, body) => {
    // A function ending instances (reaper, reconciler): their runner processes die with them.
    if (call.action === "TerminateInstances" && call.caller !== CALLERS.instance && call.status === 200)
      this.instances?.terminated([...body.matchAll(/InstanceId\.\d+=(i-[0-9a-f]+)/g)].map((m) => m[1]));
    // The launcher (or the reconciler, which launches the same way) writing a JIT config: an instance boots.
    const launches = call.caller === CALLERS.launcher || call.caller === CALLERS.reconciler;
    if (!launches || call.action !== "PutParameter" || call.status !== 200) return;
    try {
      this.parameterWritten(String((JSON.parse(body) as { Name?: string }).Name));
    } catch {
      // not JSON: not a parameter write
    }
  };

  /** From now on the simulator gets the events; parameters written before boot their instances now. */
  attach(instances: InstanceEvents): void {
    this.instances = instances;
    for (const name of this.earlyWrites.splice(0)) instances.parameterWritten(name);
  }

  private parameterWritten(name: string): void {
    if (this.instances) this.instances.parameterWritten(name);
    else this.earlyWrites.push(name);
  }
}
