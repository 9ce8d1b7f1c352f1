/**
 * Reading a file a user named (a scenario, a data file) with a byte cap checked before the bytes
 * are held: a regular file larger than the cap is refused from its size; a pipe is read up to one
 * byte past the cap; a directory, character device (/dev/zero, /dev/urandom, a tty), block device
 * or socket is refused without reading. Nothing here reads more than cap + 1 bytes.
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

function kindOf(st: Stats): string | null {
  if (st.isFile() || st.isFIFO()) return null;
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The file's bytes, at most `maxBytes` of them; every problem is a BoundedReadError. */
export function readFileBounded(file: string, maxBytes: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new BoundedReadError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const st = fstatSync(fd);
    const bad = kindOf(st);
    if (bad) throw new BoundedReadError(`${bad}, not a regular file or pipe`);
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
    closeSync(fd);
  }
}
