/**
 * The lab's pool for CPU work that is not a device queue (piscina): verifying large ranges in
 * parallel today; crypt and parity transforms can use it too. Created on first use, sized to
 * the machine, destroyed with the lab.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { workerScript, type WorkerEntry } from '../thread/entries.js';

/** Most pool threads (a limit on everything). */
export const POOL_MAX_THREADS = 8;

export class WorkPool {
  private pool: Piscina | null = null;

  get threads(): number {
    return Math.max(1, Math.min(POOL_MAX_THREADS, availableParallelism()));
  }

  /** Runs `task` in the named worker script's default export. */
  run<T, R>(script: WorkerEntry, task: T): Promise<R> {
    if (!this.pool) {
      this.pool = new Piscina({ filename: workerScript(script), maxThreads: this.threads, minThreads: 0, idleTimeout: 2000 });
    }
    return this.pool.run(task) as Promise<R>;
  }

  async destroy(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    await p?.destroy();
  }
}
