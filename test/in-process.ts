/**
 * Command lines run in the test's own process: runCommand, as bin/copylab.js calls it, with
 * standard output and error captured and both streams looking like pipes (no progress bar, no
 * colours); an exception that escapes counts as the binary's internal error (exit 70 with its
 * stack). A spawned `node bin/copylab.js` costs a process start per case; this costs nothing.
 * Cases that need a real standard input, signals or another working directory still spawn.
 */
import { vi } from 'vitest';
import { runCommand } from '../src/app/cli/main.js';

export interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** Makes `stream` look like a pipe until the returned function restores it. */
function asPipe(stream: NodeJS.WriteStream): () => void {
  const own = Object.getOwnPropertyDescriptor(stream, 'isTTY');
  Object.defineProperty(stream, 'isTTY', { value: false, configurable: true, writable: true });
  return () => {
    if (own) Object.defineProperty(stream, 'isTTY', own);
    else delete (stream as { isTTY?: boolean }).isTTY;
  };
}

/** Runs `copylab ARGS…` in this process; its exit code and what it wrote. */
export async function runInProcess(args: readonly string[]): Promise<Ran> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const restore = [asPipe(process.stdout), asPipe(process.stderr)];
  try {
    return { code: await runCommand([...args]), out, err };
  } catch (x) {
    return { code: 70, out, err: `${err}copylab: internal error: ${(x as Error)?.stack ?? String(x)}\n` };
  } finally {
    for (const r of restore) r();
    o.mockRestore();
    e.mockRestore();
  }
}
