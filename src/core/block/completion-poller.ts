/**
 * Completions of devices that run on other threads arrive in shared completion queues; this is
 * where the lab's thread reaps them. Device workers bump a shared doorbell counter after
 * publishing completions and notify it only when the lab says it is waiting, so a busy lab
 * polls without system calls and an idle one sleeps (Atomics.waitAsync) instead of spinning.
 */

/** A shared completion queue this thread reaps. */
export interface Pollable {
  /** Reaps completions, calling their bios' endIo; returns how many. */
  reap(): number;
  /** Requests submitted and not yet reaped. */
  readonly inflight: number;
}

/** Doorbell words: [0] counter bumped by workers, [1] 1 while the lab waits for it. */
export const DOORBELL = { COUNTER: 0, WAITING: 1 } as const;

export class CompletionPoller {
  readonly doorbell = new Int32Array(new SharedArrayBuffer(8));
  private readonly queues = new Set<Pollable>();
  private armed: Promise<void> | null = null;

  add(q: Pollable): void {
    this.queues.add(q);
  }

  remove(q: Pollable): void {
    this.queues.delete(q);
  }

  get inflight(): number {
    if (this.queues.size === 0) return 0;
    let n = 0;
    for (const q of this.queues) n += q.inflight;
    return n;
  }

  /** Reaps every queue once; returns completions reaped. */
  poll(): number {
    // Rings and waits poll several times per request: a lab without device workers answers at once.
    if (this.queues.size === 0) return 0;
    let n = 0;
    for (const q of this.queues) if (q.inflight > 0) n += q.reap();
    return n;
  }

  /**
   * Resolves after the next doorbell (or at once if something is ready), having reaped what
   * arrived. One waiter is shared by every caller. Resolves at once when nothing is in flight.
   */
  wait(): Promise<void> {
    if (this.armed) return this.armed;
    if (this.inflight === 0) return Promise.resolve();
    const seen = Atomics.load(this.doorbell, DOORBELL.COUNTER);
    Atomics.store(this.doorbell, DOORBELL.WAITING, 1);
    // Re-check after announcing the wait: a completion published before the flag was seen by
    // the worker has already moved the counter, so waitAsync returns at once ('not-equal').
    if (this.poll() > 0) {
      Atomics.store(this.doorbell, DOORBELL.WAITING, 0);
      return Promise.resolve();
    }
    const w = Atomics.waitAsync(this.doorbell, DOORBELL.COUNTER, seen);
    const p = (w.async ? w.value.then(() => undefined) : Promise.resolve()).then(() => {
      Atomics.store(this.doorbell, DOORBELL.WAITING, 0);
      this.armed = null;
      this.poll();
    });
    this.armed = p;
    return p;
  }

  private background = false;

  /**
   * Keeps reaping in the background while anything is in flight, so that completions of
   * requests nobody polls for (promise-based callers) are delivered. Queues call it on submit.
   */
  ensureReaping(): void {
    if (this.background) return;
    this.background = true;
    void (async () => {
      try {
        while (this.inflight > 0) await this.wait();
      } finally {
        this.background = false;
      }
    })();
  }

  /** Wakes a waiter from this thread (a device failed, or was removed). */
  kick(): void {
    Atomics.add(this.doorbell, DOORBELL.COUNTER, 1);
    Atomics.notify(this.doorbell, DOORBELL.COUNTER);
  }
}
