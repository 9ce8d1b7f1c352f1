/**
 * Adaptive polling for threads that wait on each other through shared memory (a device worker
 * waiting for submissions, the lab's thread waiting for a worker's completions): spin briefly,
 * then park. How long to spin is learned, as the kernel's hybrid polling learns it:
 *
 *   - a spin that ends with work (a hit) keeps or doubles the budget, up to the configured idle time;
 *   - a spin that ends empty (a miss) halves it, and below SPIN.minNs it is zero: sparse work
 *     makes the thread park at once;
 *   - a park that ends soon (the work came within the budget's reach) grows the budget again;
 *   - a gap in the clock while spinning means the thread lost its CPU (more runnable threads than
 *     cores): spinning then only steals time from the thread it waits for, so it stops for
 *     SPIN.backoffMs and the thread parks, which the scheduler rewards with a prompt wake-up.
 */

export const SPIN = {
  /** Smallest useful spin (µs); a budget halved below it becomes 0. */
  minUs: 2,
  /** A gap this long between two clock reads of one spin: the thread was descheduled (µs). */
  preemptUs: 50,
  /** After a preemption, park without spinning for this long (ms). */
  backoffMs: 20,
} as const;

export class AdaptiveSpin {
  /** Current budget, µs. */
  private budgetUs: number;
  private noSpinUntil = 0;
  /** Counters for benchmarks and tests. */
  hits = 0;
  misses = 0;
  preemptions = 0;

  /**
   * `maxUs`: the longest spin (a device's idle_us, a ring's spin time); 0 never spins.
   * `checkEvery`: loop passes between clock reads (1 when `ready()` itself costs a microsecond).
   * `now`: the clock in ms (tests pass their own).
   * `floorUs`: the least a miss halves the budget to (a thread whose work is known to come often,
   * such as a worker fed by a busy thread, keeps spinning); a preemption still stops it.
   */
  constructor(
    readonly maxUs: number,
    private readonly checkEvery = 64,
    private readonly now: () => number = () => performance.now(),
    readonly floorUs = 0,
  ) {
    this.budgetUs = maxUs;
  }

  get budget(): number {
    return this.budgetUs;
  }

  /** Spins until `ready()` is true (returns true) or the budget is spent or the CPU is lost (false: park). */
  spin(ready: () => boolean): boolean {
    if (ready()) return true;
    if (this.budgetUs === 0 && this.floorUs === 0) return false;
    let t = this.now();
    if (t < this.noSpinUntil) return false;
    if (this.budgetUs < this.floorUs) this.budgetUs = this.floorUs;
    const end = t + this.budgetUs / 1000;
    for (let i = 1; ; i++) {
      if (ready()) {
        this.hits++;
        this.budgetUs = Math.min(this.maxUs, Math.max(this.budgetUs, SPIN.minUs) * 2);
        return true;
      }
      if (i % this.checkEvery !== 0) continue;
      const t2 = this.now();
      if ((t2 - t) * 1000 > SPIN.preemptUs) {
        this.preempted(t2);
        return false;
      }
      if (t2 > end) {
        this.misses++;
        this.budgetUs = Math.max(this.floorUs, this.budgetUs / 2 < SPIN.minUs ? 0 : this.budgetUs / 2);
        return false;
      }
      t = t2;
    }
  }

  /** A park ended after `sleptMs` with work to do: had the budget reached that far, spinning would have caught it. */
  parked(sleptMs: number): void {
    if (this.now() < this.noSpinUntil) return;
    const sleptUs = sleptMs * 1000;
    if (sleptUs <= this.maxUs) this.budgetUs = Math.min(this.maxUs, Math.max(this.budgetUs * 2, SPIN.minUs, sleptUs * 2));
  }

  /** The thread lost its CPU in a wait (seen by the caller): stop spinning for a while. */
  preempted(at = this.now()): void {
    this.preemptions++;
    this.budgetUs = 0;
    this.noSpinUntil = at + SPIN.backoffMs;
  }
}
