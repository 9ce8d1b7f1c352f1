/**
 * Files a command writes (trace files, charts, time series, converted traces), all through here.
 * A command checks (checkOutput) or opens (OutputStream.open) each of its outputs before its
 * work starts, so a directory, a missing folder or a read-only file is refused before anything
 * runs. Every failure is one OutputError: the file, what went wrong in words, and whether the work
 * had started (then how many bytes reached the file). The CLI prints it as one line and exits 2
 * before the work, 1 after it (a disk that fills during a run).
 */
import { accessSync, closeSync, constants, openSync, statSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** What a file-system error code means, in the words of strerror(3). */
const WORDS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EISDIR: 'is a directory',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  ETXTBSY: 'text file busy',
  ENXIO: 'no such device or address',
  EPIPE: 'broken pipe',
  EBADF: 'bad file descriptor',
  EAGAIN: 'resource temporarily unavailable',
  EINVAL: 'invalid argument',
};

/** `no space left on device` for an ENOSPC error; the code itself for one this table does not name. */
export function fsErrorWords(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined) return WORDS[code] ?? code;
  return err instanceof Error ? err.message : String(err);
}

function codeOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) throw err;
  return code;
}

export class OutputError extends Error {
  /**
   * `started`: the command's work had started (the file was checked or opened before it); then
   * `written` bytes reached the file, of `total` when the whole content was known.
   */
  constructor(
    readonly path: string,
    readonly code: string,
    readonly started: boolean,
    readonly written = 0,
    readonly total?: number,
  ) {
    super(`cannot write ${path === '' ? "''" : path}: ${WORDS[code] ?? code}${started ? ` (${written}${total !== undefined ? ` of ${total}` : ''} bytes written)` : ''}`);
    this.name = 'OutputError';
  }
}

/**
 * Checks, without creating or truncating anything, that `path` can be written: an existing file
 * must not be a directory and must be writable; a new file needs an existing, writable folder.
 * Throws an OutputError (started = false).
 */
export function checkOutput(path: string): void {
  const refuse = (code: string): never => {
    throw new OutputError(path, code, false);
  };
  if (path === '') refuse('ENOENT');
  try {
    const st = statSync(path);
    if (st.isDirectory()) refuse('EISDIR');
    accessSync(path, constants.W_OK);
    return;
  } catch (err) {
    if (err instanceof OutputError) throw err;
    if (codeOf(err) !== 'ENOENT') refuse(codeOf(err));
  }
  try {
    const dir = statSync(dirname(resolve(path)));
    if (!dir.isDirectory()) refuse('ENOTDIR');
    accessSync(dirname(resolve(path)), constants.W_OK);
  } catch (err) {
    if (err instanceof OutputError) throw err;
    refuse(codeOf(err));
  }
}

/** Writes all of `bytes` to fd; returns how many were written before an error, and the error. */
function writeAll(fd: number, bytes: Uint8Array): { written: number; error?: unknown } {
  let off = 0;
  try {
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    return { written: off };
  } catch (error) {
    return { written: off, error };
  }
}

/** Writes a whole output once the work is done (its path checked with checkOutput before). */
export function writeOutput(path: string, bytes: Uint8Array | string): void {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (err) {
    throw new OutputError(path, codeOf(err), true, 0, data.length);
  }
  const r = writeAll(fd, data);
  let closeError: unknown;
  try {
    closeSync(fd);
  } catch (err) {
    closeError = err;
  }
  const error = r.error ?? closeError;
  if (error !== undefined) throw new OutputError(path, codeOf(error), true, r.written, data.length);
}

/**
 * An output written while the work runs (a trace file). Opened before the work, with its first
 * bytes (a header) written at once, so a full device is found before anything runs. A write
 * that fails later does not throw into the work: the stream keeps the error, drops what follows,
 * and the command reports `error` when the work is done.
 */
export class OutputStream {
  /** Bytes that reached the file. */
  written = 0;
  /** Bytes dropped after an error. */
  dropped = 0;
  /** The first write error, once the work had started. */
  error: OutputError | undefined;
  private closed = false;

  private constructor(readonly path: string, private readonly fd: number) {}

  /** Opens (creating or truncating) `path` and writes `first`; failures throw (started = false). */
  static open(path: string, first?: Uint8Array): OutputStream {
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (err) {
      throw new OutputError(path, codeOf(err), false);
    }
    const s = new OutputStream(path, fd);
    if (first?.length) {
      const r = writeAll(fd, first);
      if (r.error !== undefined) {
        closeSync(fd);
        throw new OutputError(path, codeOf(r.error), false);
      }
      s.written = r.written;
    }
    return s;
  }

  write(bytes: Uint8Array): void {
    if (this.error || this.closed) {
      this.dropped += bytes.length;
      return;
    }
    const r = writeAll(this.fd, bytes);
    this.written += r.written;
    if (r.error !== undefined) {
      this.error = new OutputError(this.path, codeOf(r.error), true, this.written);
      this.dropped += bytes.length - r.written;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch (err) {
      this.error ??= new OutputError(this.path, codeOf(err), true, this.written);
    }
  }
}
