/**
 * Reading a file a user named (a scenario, a data file) with a byte cap checked before the bytes
 * are held: a regular file larger than the cap is refused from its size; a pipe or socket is read
 * up to one byte past the cap; a directory, character device (/dev/zero, /dev/urandom, a tty) or
 * block device is refused without reading. "-" or /dev/stdin is the standard input. Nothing here reads more than cap + 1 bytes.
 */
import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** Why a file could not be used; `message` is one line without the file name. */
export class BoundedReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BoundedReadError';
  }
}

/** Read size per read(2) call for files whose size is not known (pipes). */
const READ_STEP = 64 * 1024;
/** A non-blocking pipe with nothing to read yet: wait this long before reading again. */
const EAGAIN_PAUSE_MS = 5;
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

const STDIN_FD = 0;

function kindOf(st: Stats): string | null {
  if (st.isFile() || st.isFIFO() || st.isSocket()) return null;
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** "-" and /dev/stdin name the standard input, read as it is (a pipe, a socket, a file), not reopened. */
export const isStdin = (file: string): boolean => file === '-' || file === '/dev/stdin';

/**
 * Opens a file a user named for reading, for callers that stream it: a missing or unreadable
 * file, a directory or a device is a BoundedReadError. Returns the descriptor (0 for the
 * standard input, which the caller does not close) and its stat.
 */
export function openInput(file: string): { fd: number; st: Stats } {
  const stdin = isStdin(file);
  let fd: number;
  try {
    fd = stdin ? STDIN_FD : openSync(file, 'r');
  } catch (err) {
    throw new BoundedReadError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const st = fstatSync(fd);
    const bad = kindOf(st);
    if (bad) throw new BoundedReadError(`${bad}, not a regular file or a pipe`);
    return { fd, st };
  } catch (err) {
    if (!stdin) closeSync(fd);
    throw err;
  }
}

/** The file's bytes, at most `maxBytes` of them; every problem is a BoundedReadError. */
export function readFileBounded(file: string, maxBytes: number): Uint8Array {
  const stdin = isStdin(file);
  const { fd, st } = openInput(file);
  try {
    if (st.isFile() && st.size > maxBytes) throw new BoundedReadError(`larger than ${maxBytes} bytes (${st.size})`);
    // A file may grow while it is read, and a pipe has no size: read to one byte past the cap.
    const buf = new Uint8Array(Math.min(maxBytes + 1, st.isFile() ? st.size + 1 : READ_STEP));
    let got = 0;
    let out = buf;
    for (;;) {
      if (got === out.length) {
        if (out.length > maxBytes) break;
        const next = new Uint8Array(Math.min(maxBytes + 1, out.length * 2));
        next.set(out);
        out = next;
      }
      let n: number;
      try {
        n = readSync(fd, out, got, out.length - got, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          Atomics.wait(PAUSE, 0, 0, EAGAIN_PAUSE_MS);
          continue;
        }
        throw new BoundedReadError(`cannot read: ${code ?? String(err)}`);
      }
      if (n === 0) break;
      got += n;
    }
    if (got > maxBytes) throw new BoundedReadError(`larger than ${maxBytes} bytes`);
    return out.subarray(0, got);
  } finally {
    if (!stdin) closeSync(fd);
  }
}
