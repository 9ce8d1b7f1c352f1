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

  /**
   * Starts the threads kept (keepThreads) now, loading the named worker script, instead of at the
   * first task; resolves when they are ready to run tasks (their modules loaded).
   */
  start(script: WorkerEntry): Promise<void> {
    const keep = this.kept();
    const started = this.pool !== null;
    const p = this.piscina(script);
    // (Threads started before, by a task or an earlier call, are not waited for.)
    if (keep === 0 || started) return Promise.resolve();
    // The threads say they are ready after this tick: the listeners are in time.
    return new Promise((resolve, reject) => {
      let ready = 0;
      const created = (): void => {
        if (++ready < keep) return;
        p.off('workerCreate', created);
        p.off('error', failed);
        resolve();
      };
      const failed = (err: unknown): void => {
        p.off('workerCreate', created);
        p.off('error', failed);
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      p.on('workerCreate', created);
      p.on('error', failed);
    });
  }

  /** Runs `task` in the named worker script's default export. */
  run<T, R>(script: WorkerEntry, task: T): Promise<R> {
    // The pool's threads load each script a task names (the first one when the pool starts).
    return this.piscina(script).run(task, { filename: workerScript(script) }) as Promise<R>;
  }

  private kept(): number {
    return Math.max(0, Math.min(this.threads, Math.floor(this.opts.keepThreads ?? 0)));
  }

  private piscina(script: WorkerEntry): Piscina {
    if (!this.pool) {
      this.pool = new Piscina({ filename: workerScript(script), maxThreads: this.threads, minThreads: this.kept(), idleTimeout: IDLE_MS });
    }
    return this.pool;
  }

  async destroy(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    await p?.destroy();
  }
}
