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

/** How long an idle thread beyond the ones kept lives. */
const IDLE_MS = 2000;

export interface WorkPoolOptions {
  /**
   * Threads kept running while the pool is idle (a long-running process, such as a sweep worker,
   * between tasks that come seconds apart: a new thread loads its modules again, a second or more).
   * At most the pool's size; the others (all by default) end after 2 s idle.
   */
  readonly keepThreads?: number;
}

export class WorkPool {
  private pool: Piscina | null = null;

  constructor(private readonly opts: WorkPoolOptions = {}) {}

  get threads(): number {
    return Math.max(1, Math.min(POOL_MAX_THREADS, availableParallelism()));
  }

  /** Starts the threads kept (keepThreads) now, loading the named worker script, instead of at the first task. */
  start(script: WorkerEntry): void {
    this.piscina(script);
  }

  /** Runs `task` in the named worker script's default export. */
  run<T, R>(script: WorkerEntry, task: T): Promise<R> {
    return this.piscina(script).run(task) as Promise<R>;
  }

  private piscina(script: WorkerEntry): Piscina {
    if (!this.pool) {
      const keep = Math.max(0, Math.min(this.threads, Math.floor(this.opts.keepThreads ?? 0)));
      this.pool = new Piscina({ filename: workerScript(script), maxThreads: this.threads, minThreads: keep, idleTimeout: IDLE_MS });
    }
    return this.pool;
  }

  async destroy(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    await p?.destroy();
  }
}
