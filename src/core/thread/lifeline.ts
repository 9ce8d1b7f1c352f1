/**
 * A worker thread's lifeline: two shared words the thread sets as it exits, so that its owner
 * learns of the death while it is blocked in a synchronous wait (Atomics.wait). The thread's
 * `exit` event reaches the owner only through the owner's event loop, which such a wait blocks:
 * without this a SCSI fabric's synchronous call waited its whole 30 s timeout for a thread that
 * had already died.
 *
 * The thread's side runs on its own `process` 'exit' event, which Node.js emits in a worker for
 * process.exit(), an uncaught exception and an unhandled rejection. A thread ended by terminate()
 * (its owner's own kill or close, which mark it gone themselves) or by running out of heap
 * (resourceLimits) runs no JavaScript on its way out: those deaths still reach the owner through
 * its event loop, or its wait's own timeout.
 */

/** Words of a lifeline (Int32). */
export const LIFELINE = {
  /** 0 while the thread runs; EXITED once it has begun to exit. */
  STATE: 0,
  /** The exit code the thread's 'exit' event carried (1 for an uncaught exception). */
  CODE: 1,
  WORDS: 2,
} as const;

export const LIFE_STATE = { RUNNING: 0, EXITED: 1 } as const;

/** A new lifeline for a thread about to start (given to it in its workerData). */
export function newLifeline(): SharedArrayBuffer {
  return new SharedArrayBuffer(LIFELINE.WORDS * 4);
}

/**
 * The thread's side, called once by its entry: when the thread exits, the lifeline says so and
 * `wake` runs (it bumps and notifies whatever word the owner may be waiting on).
 */
export function holdLifeline(buffer: SharedArrayBuffer, wake: () => void): void {
  const words = new Int32Array(buffer);
  process.once('exit', (code) => {
    Atomics.store(words, LIFELINE.CODE, typeof code === 'number' ? code : 0);
    Atomics.store(words, LIFELINE.STATE, LIFE_STATE.EXITED);
    wake();
  });
}

/** The owner's side: the code the thread exited with, or null while it runs. */
export function exitedWith(words: Int32Array): number | null {
  return Atomics.load(words, LIFELINE.STATE) === LIFE_STATE.EXITED ? Atomics.load(words, LIFELINE.CODE) : null;
}
