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

const T0 = process.hrtime.bigint();

/** Wall time: nanoseconds since this module loaded (monotonic). */
export function wallNow(): number {
  return Number(process.hrtime.bigint() - T0);
}

export const wallClock: BenchClock = {
  kind: 'wall',
  now: wallNow,
  sleep: (dt) => new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.ceil(dt / 1e6)))),
};
