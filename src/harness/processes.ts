/**
 * Child processes a benchmark or a test starts and watches (redis-server, `copylab worker`): their
 * output kept as it arrives (the last `keepChars` of each stream), their exit as a promise; and a
 * poll that waits for a condition with a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Proc {
  readonly child: ChildProcess;
  out: string;
  err: string;
  readonly exited: Promise<number | null>;
}

/** Starts `cmd ARGS…` with its output piped; keeps at most the last `keepChars` of each stream. */
export function startProcess(cmd: string, args: readonly string[], keepChars = Number.POSITIVE_INFINITY): Proc {
  const child = spawn(cmd, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { child, out: '', err: '', exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  const keep = (s: string): string => (s.length > keepChars ? s.slice(-keepChars) : s);
  child.stdout!.on('data', (d) => (p.out = keep(p.out + String(d))));
  child.stderr!.on('data', (d) => (p.err = keep(p.err + String(d))));
  // A command that cannot start exits with the error's code on `exited`; no unhandled 'error'.
  child.once('error', () => {});
  return p;
}

/** Polls `f` every `everyMs` until it gives a value (not undefined); throws naming `what` after `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 30_000, everyMs = 25): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
