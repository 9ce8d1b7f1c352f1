/**
 * copy_file_range(2) on copylab's file system (docs/files.md), with Linux's checks and returns
 * (man copy_file_range; fs/read_write.c generic_copy_file_checks): a short copy returns the
 * bytes done, 0 at or past the source's end. As Linux's vfs_copy_file_range tries the file
 * system's remap (reflink) first, then its copy, then splice, the range goes reflink, then
 * offload (REQ_OP_COPY), then splice through the page cache, part by part (file-copy.ts).
 */
import type { Trace } from '../../core/block/trace.js';
import { Errno, ErrnoError } from '../../core/util/errno.js';
import { FS_LIMITS, type CopyFs } from './fs.js';
import { copySegments, type FileCopyControl, type FileCopyOptions, type FileCopyPart } from './file-copy.js';

export interface FileRef {
  readonly fs: CopyFs;
  readonly fd: number;
}

export type CopyFileRangeOptions = FileCopyOptions;
export type CopyFileRangePart = FileCopyPart;

export interface CopyFileRangeResult {
  /** Bytes copied (short when the source ends, space ran out, a device failed part way or it was cancelled). */
  readonly bytes: number;
  readonly path: 'reflink' | 'offload' | 'splice' | 'mixed' | 'none';
  readonly parts: readonly CopyFileRangePart[];
  /** Bytes that crossed host memory (splice: 2 per byte; offload: what the block layer emulated; reflink: 0). */
  readonly host_bytes: number;
  /** REQ_OP_COPY requests handed to the block layer, and the offloaded commands they became. */
  readonly requests: number;
  readonly commands: number;
  /** Why a copy stopped short (ENOSPC, ECANCELED, a device's errno), as a negative errno. */
  readonly errno?: number;
  readonly message?: string;
  readonly trace: Trace;
}

const fail = (errno: number, why: string): never => {
  throw new ErrnoError(errno, `copy_file_range: ${why}`);
};

/** The checks of copy_file_range before any I/O; returns the bytes to copy (0 past the source's end). */
export function checkCopyFileRange(input: FileRef, a: number, output: FileRef, b: number, len: number, flags: number): number {
  if (flags !== 0) fail(Errno.EINVAL, `flags must be 0, not ${flags}`);
  const fin = input.fs.fd(input.fd);
  const fout = output.fs.fd(output.fd);
  if (!fin.read) fail(Errno.EBADF, `descriptor ${input.fd} is not open for reading`);
  if (!fout.write) fail(Errno.EBADF, `descriptor ${output.fd} is not open for writing`);
  if (fout.append) fail(Errno.EBADF, `descriptor ${output.fd} is open with O_APPEND`);
  if (fin.inode.kind === 'dir' || fout.inode.kind === 'dir') fail(Errno.EISDIR, 'a descriptor refers to a directory');
  if (input.fs.lab !== output.fs.lab) fail(Errno.EXDEV, 'the files are in different labs');
  if (!Number.isInteger(len) || len < 0 || !Number.isInteger(a) || a < 0 || !Number.isInteger(b) || b < 0) fail(Errno.EINVAL, 'offsets and length must be non-negative integers');
  if (!Number.isSafeInteger(a + len) || !Number.isSafeInteger(b + len)) fail(Errno.EOVERFLOW, 'the range does not fit in a file offset');
  const n = Math.max(0, Math.min(len, fin.inode.size - a));
  if (fin.inode === fout.inode && n > 0 && a < b + n && b < a + n) fail(Errno.EINVAL, 'the source and destination ranges of one file overlap');
  if (n > 0 && b + n > FS_LIMITS.fileBytes) fail(Errno.EFBIG, `a file is at most ${FS_LIMITS.fileBytes} bytes`);
  return n;
}

/**
 * copy_file_range(fd_in, off_in, fd_out, off_out, len, flags). A null offset uses the
 * descriptor's file position and advances it; a given one leaves the position alone. `control`
 * lets an asynchronous copy watch progress and cancel it (async-copy.ts).
 */
export async function copyFileRange(
  input: FileRef,
  offIn: number | null,
  output: FileRef,
  offOut: number | null,
  len: number,
  flags = 0,
  o: CopyFileRangeOptions = {},
  control?: FileCopyControl,
): Promise<CopyFileRangeResult> {
  const fin = input.fs.fd(input.fd);
  const fout = output.fs.fd(output.fd);
  const a = offIn ?? fin.pos;
  const b = offOut ?? fout.pos;
  const n = checkCopyFileRange(input, a, output, b, len, flags);
  const trace = output.fs.lab.newTrace();
  if (n === 0) return { bytes: 0, path: 'none', parts: [], host_bytes: 0, requests: 0, commands: 0, trace };
  const r = await copySegments({ fs: input.fs, inode: fin.inode }, { fs: output.fs, inode: fout.inode }, [{ src: a, dst: b, len: n }], o, trace, control);
  if (offIn === null) fin.pos += r.bytes;
  if (offOut === null) fout.pos += r.bytes;
  const kinds = new Set(r.parts.map((p) => p.path));
  const path = kinds.size === 0 ? 'none' : kinds.size > 1 ? 'mixed' : [...kinds][0]!;
  return { bytes: r.bytes, path, parts: r.parts, host_bytes: r.host_bytes, requests: r.requests, commands: r.commands, ...(r.errno ? { errno: -r.errno, message: r.message } : {}), trace };
}
