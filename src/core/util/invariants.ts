/**
 * Invariant checks in the hot structures (ring indices, the GC lab's section table, the timing
 * model's calendars and queues). Off by default: they cost time on every operation. The test
 * suite turns them on (COPYLAB_ASSERT=1, set in vitest.config.ts and inherited by worker
 * threads); benchmarks and the CLI run without them. A broken invariant throws InvariantError
 * at the operation that broke it rather than corrupting results later.
 */
export const ASSERTS = typeof process !== 'undefined' && process.env?.COPYLAB_ASSERT === '1';

export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/** Throws InvariantError with `what()` when `ok` is false (callers guard the call with ASSERTS). */
export function invariant(ok: boolean, what: () => string): asserts ok {
  if (!ok) throw new InvariantError(what());
}
