/**
 * The simulation's clock: real time plus an offset that only grows. It runs at real speed (so HTTP, boots and
 * jobs take the time they take) and jumps forward when a scenario waits for simulated hours (`advance`), so "a
 * two-hour capacity wait" runs in seconds.
 *
 * The offset lives in a SharedArrayBuffer: function containers (worker threads) read it on every `Date.now()` /
 * `new Date()` (container-worker.mjs patches the realm's Date), so the REAL handlers see simulated time without
 * any change to their code. Every jump is kept, so any real timestamp moto hands out (an instance's LaunchTime, a
 * parameter's LastModifiedDate) maps to the simulated time it happened at (`toSimulated`, used by the proxy).
 */
export class SimulationClock {
  /** [0]: the current offset in ms. Shared with the containers. */
  readonly shared = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
  private readonly offset = new Float64Array(this.shared);
  /** Jumps in real-time order: from real time `at` on, the offset is `offset`. */
  private readonly jumps: Array<{ at: number; offset: number }> = [];

  /** Simulated epoch ms. */
  now(): number {
    return Date.now() + this.offset[0];
  }

  /** How far simulated time is ahead of real time, ms. */
  offsetMs(): number {
    return this.offset[0];
  }

  /** Moves simulated time forward by `ms` at once (nothing happens "during" the jump: callers tick around it). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`the clock only moves forward (asked ${ms} ms)`);
    this.offset[0] += ms;
    this.jumps.push({ at: Date.now(), offset: this.offset[0] });
  }

  /** The simulated time of a real epoch-ms timestamp taken by something that does not know the clock. */
  toSimulated(realMs: number): number {
    let offset = 0;
    for (const jump of this.jumps) {
      if (jump.at > realMs) break;
      offset = jump.offset;
    }
    return realMs + offset;
  }
}
