/**
 * The one spin-then-park step of every thread that waits for another through shared memory (a
 * device worker for submissions, the GC mover for jobs): spin while spinning pays (AdaptiveSpin
 * learns how long), then raise a flag that says "asleep: notify me" (io_uring's SQ_NEED_WAKEUP),
 * look once more, and sleep on the word producers bump until notified or `maxMs` passes; tell
 * the spinner how long the park lasted when work came, so it learns to spin that long next time.
 */
import type { AdaptiveSpin } from '../block/adaptive-spin.js';

export interface Parking {
  /** The flag word raised while the thread sleeps (to `value`; cleared to 0 on waking). */
  readonly flag: { readonly words: Int32Array; readonly index: number; readonly value: number };
  /** The word producers bump and notify: the thread sleeps while it still holds seen(). */
  readonly on: { readonly words: Int32Array; readonly index: number };
  readonly seen: () => number;
  /** Longest single sleep; the caller's loop looks again after it (a STOP word, say). */
  readonly maxMs: number;
}

/** Waits for work: true when `ready()` holds (after a spin or a park), false when a park ended without it. */
export function spinThenPark(spin: AdaptiveSpin, ready: () => boolean, p: Parking): boolean {
  if (spin.spin(ready)) return true;
  Atomics.store(p.flag.words, p.flag.index, p.flag.value);
  const t0 = performance.now();
  if (!ready()) Atomics.wait(p.on.words, p.on.index, p.seen(), p.maxMs);
  Atomics.store(p.flag.words, p.flag.index, 0);
  if (!ready()) return false;
  spin.parked(performance.now() - t0);
  return true;
}
