/**
 * Where the harness reads time. Every latency is completion minus submission on one of these
 * clocks: wall time always, and modeled time when the lab has a timing model (read through
 * `now`, nanoseconds).
 */
export interface BenchClock {
  readonly kind: 'wall' | 'modeled';
  now(): number;
  /** Resolves after dt ns of this clock (rate limiting). */
  sleep(dtNs: number): Promise<void>;
}

const T0 = performance.now();

/**
 * Wall time: whole nanoseconds since this module loaded (monotonic). Read from performance.now()
 * (milliseconds as a double, sub-nanosecond steps this close to the process's start) rather than
 * process.hrtime.bigint(), which allocates two BigInts per reading and is read three times per I/O.
 */
export function wallNow(): number {
  return Math.round((performance.now() - T0) * 1e6);
}

export const wallClock: BenchClock = {
  kind: 'wall',
  now: wallNow,
  sleep: (dt) => new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.ceil(dt / 1e6)))),
};
