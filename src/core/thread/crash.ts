/**
 * Fault injection for tests: a device worker thread ends the way a defect would end it, in the
 * middle of a request its owner waits for. Each way runs the thread's 'exit' event, which marks
 * its lifeline (lifeline.ts); a kill from outside (WorkerHandle.kill) is the fourth way, and the
 * one that runs nothing on the thread.
 */

/** process.exit(), an uncaught exception, or an unhandled rejection. */
export type CrashHow = 'exit' | 'throw' | 'reject';

/** The exit code an injected `exit` uses (EX_SOFTWARE, an internal software error). */
export const CRASH_EXIT_CODE = 70;

/** Ends the calling worker thread `how`; `throw` throws out of the caller, which must not catch it. */
export function crashThread(how: CrashHow): void {
  if (how === 'exit') process.exit(CRASH_EXIT_CODE);
  if (how === 'reject') {
    void Promise.reject(new Error('injected crash (unhandled rejection)'));
    return;
  }
  throw new Error('injected crash (uncaught exception)');
}
