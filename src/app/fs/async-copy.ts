/**
 * The asynchronous copy with a cookie (LSF/MM 2013: copy offload "wants to be asynchronous",
 * docs/files.md): copy_file_range that returns at once with a cookie, its progress while it runs,
 * `cancel()` (resolves with the bytes done when it has stopped) and `wait()` (its result). The
 * checks of copy_file_range run before the cookie is handed out, so a bad request throws its
 * errno and starts nothing. The ring's COPY_FILE_RANGE opcode runs here too.
 */
import type { CopyControl } from '../../core/block/copy/types.js';
import type { FileCopyRequest } from '../../core/ring/consumer.js';
import { Errno, ErrnoError } from '../../core/util/errno.js';
import type { Lab } from '../lab.js';
import { checkCopyFileRange, copyFileRange, type CopyFileRangeOptions, type CopyFileRangeResult, type FileRef } from './copy-file-range.js';
import { fsOfFd } from './fs.js';
import type { FileCopyControl } from './file-copy.js';

/** Asynchronous file copies running at once per lab (a limit on everything): EBUSY past it. */
export const FS_MAX_ASYNC_COPIES = 1024;

export type FileCopyState = 'running' | 'done' | 'cancelled' | 'failed';

export interface FileCopyOperation {
  readonly cookie: number;
  readonly state: FileCopyState;
  /** Bytes copied so far (a prefix of the range). */
  readonly bytesDone: number;
  /** Bytes it set out to copy (the range cut at the source's end when it started). */
  readonly totalBytes: number;
  /** Modeled time since it started (until it ended). */
  readonly modeledUs: number;
  /** Stops it at its next piece boundary; resolves with the bytes done once it has stopped (its bytes if it had ended). */
  cancel(): Promise<number>;
  /** Its result; rejects with the ErrnoError of a copy that copied nothing. */
  wait(): Promise<CopyFileRangeResult>;
}

interface Registry {
  next: number;
  readonly running: Map<number, FileCopyOperation>;
}
const registries = new WeakMap<Lab, Registry>();

function registry(lab: Lab): Registry {
  let r = registries.get(lab);
  if (!r) registries.set(lab, (r = { next: 0, running: new Map() }));
  return r;
}

/**
 * copy_file_range, started and returned at once (arguments as copyFileRange). Throws the errno
 * of a request copy_file_range refuses (nothing starts), EBUSY past FS_MAX_ASYNC_COPIES.
 */
export function copyFileRangeAsync(input: FileRef, offIn: number | null, output: FileRef, offOut: number | null, len: number, flags = 0, o: CopyFileRangeOptions = {}, control: FileCopyControl = { cancelled: false }): FileCopyOperation {
  const lab = output.fs.lab;
  const reg = registry(lab);
  if (reg.running.size >= FS_MAX_ASYNC_COPIES) throw new ErrnoError(Errno.EBUSY, `at most ${FS_MAX_ASYNC_COPIES} asynchronous file copies run at once`);
  const total = checkCopyFileRange(input, offIn ?? input.fs.fd(input.fd).pos, output, offOut ?? output.fs.fd(output.fd).pos, len, flags);
  const cookie = ++reg.next;
  let state: FileCopyState = 'running';
  let bytes = 0;
  let finished: number | null = null;
  const started = lab.clock.now();
  const watch = control.onProgress;
  control.onProgress = (b) => {
    bytes = b;
    watch?.(b);
  };
  const end = (s: FileCopyState): void => {
    state = s;
    finished = lab.clock.now();
    reg.running.delete(cookie);
  };
  const done = copyFileRange(input, offIn, output, offOut, len, flags, o, control).then(
    (r) => {
      bytes = r.bytes;
      end(r.errno === -Errno.ECANCELED ? 'cancelled' : r.errno !== undefined && r.bytes === 0 ? 'failed' : 'done');
      return r;
    },
    (err: unknown) => {
      end('failed');
      throw err;
    },
  );
  // A rejection nobody waits for is still reported through wait(); keep Node from calling it unhandled.
  done.catch(() => {});
  const op: FileCopyOperation = {
    cookie,
    get state() {
      return state;
    },
    get bytesDone() {
      return bytes;
    },
    totalBytes: total,
    get modeledUs() {
      return ((finished ?? lab.clock.now()) - started) / 1000;
    },
    cancel: async () => {
      control.cancelled = true;
      try {
        return (await done).bytes;
      } catch {
        return bytes;
      }
    },
    wait: () => done,
  };
  reg.running.set(cookie, op);
  return op;
}

/** A running asynchronous file copy of the lab by its cookie. */
export function fileCopyOperation(lab: Lab, cookie: number): FileCopyOperation | undefined {
  return registries.get(lab)?.running.get(cookie);
}

/** The ring's COPY_FILE_RANGE on this lab's files: the bytes or -errno; -ECANCELED with the bytes done. */
export async function ringCopyFileRange(lab: Lab, req: FileCopyRequest, control: CopyControl): Promise<{ res: number; bytes: number }> {
  const fsIn = fsOfFd(lab, req.fdIn);
  const fsOut = fsOfFd(lab, req.fdOut);
  if (!fsIn || !fsOut) return { res: -Errno.EBADF, bytes: 0 };
  try {
    const r = await copyFileRange({ fs: fsIn, fd: req.fdIn }, req.offIn, { fs: fsOut, fd: req.fdOut }, req.offOut, req.len, req.flags, {}, {
      get cancelled() {
        return control.cancelled;
      },
      set cancelled(v: boolean) {
        control.cancelled = v;
      },
    });
    return { res: r.errno === -Errno.ECANCELED ? -Errno.ECANCELED : r.bytes, bytes: r.bytes };
  } catch (err) {
    if (err instanceof ErrnoError) return { res: err.errno, bytes: 0 };
    throw err;
  }
}
