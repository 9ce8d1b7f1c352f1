/**
 * Bounded waits for the fault campaigns: every wait ends, with a message naming what did not
 * finish (a campaign that hangs is a failure, not a stuck run).
 */

/** Thrown when a bounded wait runs out. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** Resolves as `p` does, or rejects with a TimeoutError naming `what` after `ms` wall milliseconds. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** A seed for round `round` of a campaign run with `seed` (rounds replay on their own). */
export function roundSeed(seed: number, round: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(round + 1, 0x85ebca6b)) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d) >>> 0;
  h ^= h >>> 12;
  return h >>> 0;
}
