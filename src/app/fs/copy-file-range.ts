/**
 * copy_file_range(2) on copylab's file system (docs/files.md), with Linux's checks and returns
 * (man copy_file_range; fs/read_write.c generic_copy_file_checks): a short copy returns the
 * bytes done, 0 at or past the source's end.
 *
 * Each byte goes one of two ways:
 * - offload, for whole blocks whose offsets in the two files agree within a block (Chinner's
 *   recipe, linux-fsdevel 2011): the source's dirty pages in range are written back first (so
 *   the device holds what the copy reads), the destination's cached pages in range are dropped
 *   (so no stale page hides the copy), blocks are allocated where the destination has none, both
 *   files are mapped and the block runs go to the block layer as one vectored REQ_OP_COPY (which
 *   offloads or emulates as the device stack allows, and says why). A hole in the source becomes
 *   a hole in the destination;
 * - splice, through the page cache (read, then write), for the unaligned head and tail, for
 *   offsets that disagree within a block, and with `offload: 'never'`.
 * Both files are pinned while the copy runs: blocks a truncate or unlink gives up are freed when
 * the copy ends, so none is reused under it.
 */
import type { CopyPath } from '../../core/block/copy-types.js';
import type { Trace } from '../../core/block/trace.js';
import { Errno, ErrnoError } from '../../core/util/errno.js';
import { FS_LIMITS, type CopyFs, type Inode } from './fs.js';
import { FS_BLOCK } from './page-cache.js';

/** Bytes one splice step moves through host memory. */
const SPLICE_CHUNK = 1 << 20;
/** Ranges per REQ_OP_COPY this layer hands the block layer at most (it splits further by the device's limits). */
const COPY_RANGES_PER_REQUEST = 256;

export interface FileRef {
  readonly fs: CopyFs;
  readonly fd: number;
}

export interface CopyFileRangeOptions {
  /** `never`: splice only (coreutils cp without offload). Default `auto`. */
  readonly offload?: 'auto' | 'never';
}

export interface CopyFileRangePart {
  readonly path: 'offload' | 'splice';
  readonly bytes: number;
  /** Why this part was spliced, or what the block layer did with an offloaded one. */
  readonly reason?: string;
  /** The block layer's path for an offload part: offload, emulated or mixed. */
  readonly block_path?: CopyPath;
}

export interface CopyFileRangeResult {
  /** Bytes copied (short when the source ends or a device failed part way). */
  readonly bytes: number;
  readonly path: 'offload' | 'splice' | 'mixed' | 'none';
  readonly parts: readonly CopyFileRangePart[];
  /** Bytes that crossed host memory (splice: 2 per byte; offload: what the block layer emulated). */
  readonly host_bytes: number;
  readonly trace: Trace;
}

const fail = (errno: number, why: string): never => {
  throw new ErrnoError(errno, `copy_file_range: ${why}`);
};

/**
 * copy_file_range(fd_in, off_in, fd_out, off_out, len, flags). A null offset uses the
 * descriptor's file position and advances it; a given one leaves the position alone.
 */
export async function copyFileRange(
  input: FileRef,
  offIn: number | null,
  output: FileRef,
  offOut: number | null,
  len: number,
  flags = 0,
  o: CopyFileRangeOptions = {},
): Promise<CopyFileRangeResult> {
  if (flags !== 0) fail(Errno.EINVAL, `flags must be 0, not ${flags}`);
  const fin = input.fs.fd(input.fd);
  const fout = output.fs.fd(output.fd);
  if (!fin.read) fail(Errno.EBADF, `descriptor ${input.fd} is not open for reading`);
  if (!fout.write) fail(Errno.EBADF, `descriptor ${output.fd} is not open for writing`);
  if (fout.append) fail(Errno.EBADF, `descriptor ${output.fd} is open with O_APPEND`);
  if (fin.inode.kind === 'dir' || fout.inode.kind === 'dir') fail(Errno.EISDIR, 'a descriptor refers to a directory');
  if (input.fs.lab !== output.fs.lab) fail(Errno.EXDEV, 'the files are in different labs');
  const a = offIn ?? fin.pos;
  const b = offOut ?? fout.pos;
  if (!Number.isInteger(len) || len < 0 || !Number.isInteger(a) || a < 0 || !Number.isInteger(b) || b < 0) fail(Errno.EINVAL, 'offsets and length must be non-negative integers');
  if (!Number.isSafeInteger(a + len) || !Number.isSafeInteger(b + len)) fail(Errno.EOVERFLOW, 'the range does not fit in a file offset');
  const src = fin.inode;
  const dst = fout.inode;
  const trace = input.fs.lab.newTrace();
  const n = Math.max(0, Math.min(len, src.size - a));
  if (src === dst && n > 0 && a < b + n && b < a + n) fail(Errno.EINVAL, 'the source and destination ranges of one file overlap');
  if (n > 0 && b + n > FS_LIMITS.fileBytes) fail(Errno.EFBIG, `a file is at most ${FS_LIMITS.fileBytes} bytes`);
  if (n === 0) return { bytes: 0, path: 'none', parts: [], host_bytes: 0, trace };

  const parts: CopyFileRangePart[] = [];
  let done = 0;
  let host = 0;
  input.fs.pin(src);
  output.fs.pin(dst);
  try {
    const splicePart = async (from: number, count: number, reason: string): Promise<boolean> => {
      const r = await splice(input.fs, src, a + from, output.fs, dst, b + from, count, trace);
      if (r > 0) parts.push({ path: 'splice', bytes: r, reason });
      done += r;
      host += 2 * r;
      return r === count;
    };
    if (o.offload === 'never' || (a - b) % FS_BLOCK !== 0) {
      await splicePart(0, n, o.offload === 'never' ? 'offload not wanted' : 'the offsets differ within a block');
    } else {
      const head = Math.min(n, (FS_BLOCK - (a % FS_BLOCK)) % FS_BLOCK);
      const blocks = Math.floor((n - head) / FS_BLOCK);
      const tail = n - head - blocks * FS_BLOCK;
      let ok = head === 0 || (await splicePart(0, head, 'not a whole block'));
      if (ok && blocks > 0) {
        const r = await offload(input.fs, src, (a + head) / FS_BLOCK, output.fs, dst, (b + head) / FS_BLOCK, blocks, trace);
        parts.push({ path: 'offload', bytes: r.bytes, block_path: r.path, ...(r.reasons.length ? { reason: r.reasons.join('; ') } : {}) });
        done += r.bytes;
        host += r.host;
        if (r.bytes > 0 && b + head + r.bytes > dst.size) dst.size = b + head + r.bytes;
        ok = r.bytes === blocks * FS_BLOCK;
        if (!ok && done === 0 && r.errno) fail(r.errno, r.reasons.join('; ') || 'the device failed the copy');
      }
      if (ok && tail > 0) await splicePart(head + blocks * FS_BLOCK, tail, 'not a whole block');
    }
  } finally {
    input.fs.unpin(src);
    output.fs.unpin(dst);
  }
  if (offIn === null) fin.pos += done;
  if (offOut === null) fout.pos += done;
  const kinds = new Set(parts.map((p) => p.path));
  return { bytes: done, path: kinds.size === 0 ? 'none' : kinds.size === 2 ? 'mixed' : [...kinds][0]!, parts, host_bytes: host, trace };
}

/** Copies through the page cache; returns the bytes copied (short on ENOSPC). */
async function splice(fsIn: CopyFs, src: Inode, a: number, fsOut: CopyFs, dst: Inode, b: number, n: number, trace: Trace): Promise<number> {
  const buf = new Uint8Array(Math.min(n, SPLICE_CHUNK));
  let done = 0;
  while (done < n) {
    const len = Math.min(buf.length, n - done);
    const got = await fsIn.readAt(src, a + done, buf.subarray(0, len), trace);
    if (got === 0) break;
    const put = await fsOut.writeAt(dst, b + done, buf.subarray(0, got), trace);
    done += put;
    if (put < got) break;
  }
  return done;
}

/**
 * `count` whole blocks from file block `sb` of src to file block `db` of dst by REQ_OP_COPY:
 * writeback of the source's dirty pages, invalidation of the destination's, allocation of its
 * holes, then the block runs as vectored copies.
 */
async function offload(fsIn: CopyFs, src: Inode, sb: number, fsOut: CopyFs, dst: Inode, db: number, count: number, trace: Trace): Promise<{ bytes: number; path: CopyPath; reasons: string[]; host: number; errno?: number }> {
  await fsIn.writeback(src, sb, sb + count, trace);
  fsOut.invalidate(dst, db, db + count);
  // Destination blocks: its own where it has them, new ones in its holes.
  const ranges: { srcOffset: number; dstOffset: number; length: number }[] = [];
  // Blocks from sb on that the ranges cover (less than count when the destination ran out of space).
  let covered = count;
  build: for (let k = 0; k < count; ) {
    const s = src.extents.runAt(sb + k, count - k);
    if (s.count === 0) {
      // A hole in the source: the destination's blocks there are given up (a hole reads zeros).
      const hole = src.extents.holeAt(sb + k, count - k);
      for (const r of dst.extents.unmap(db + k, hole)) {
        if (dst.busy > 0) dst.deferred.push(r);
        else fsOut.allocator.release(r.dev, r.count);
      }
      k += hole;
      continue;
    }
    let left = s.count;
    let srcDev = s.dev;
    while (left > 0) {
      let d = dst.extents.runAt(db + k, left);
      if (d.count === 0) {
        const want = Math.min(left, dst.extents.holeAt(db + k, left), fsOut.allocator.available);
        if (want === 0) {
          covered = k; // ENOSPC: a short copy of what fits
          break build;
        }
        let fb = db + k;
        for (const e of fsOut.allocator.allocate(want)) {
          dst.extents.map(fb, e.start, e.count);
          fb += e.count;
        }
        d = dst.extents.runAt(db + k, left);
      }
      const last = ranges[ranges.length - 1];
      const so = srcDev * FS_BLOCK;
      const doff = d.dev * FS_BLOCK;
      if (last && last.srcOffset + last.length === so && last.dstOffset + last.length === doff) last.length += d.count * FS_BLOCK;
      else ranges.push({ srcOffset: so, dstOffset: doff, length: d.count * FS_BLOCK });
      srcDev += d.count;
      left -= d.count;
      k += d.count;
    }
  }
  const srcDev = fsIn.dev === fsOut.dev ? undefined : fsIn.dev;
  let bytes = 0;
  const paths = new Set<CopyPath>();
  const reasons: string[] = [];
  let host = 0;
  for (let i = 0; i < ranges.length; i += COPY_RANGES_PER_REQUEST) {
    const group = ranges.slice(i, i + COPY_RANGES_PER_REQUEST).map((r) => ({ ...r, ...(srcDev ? { src: srcDev } : {}) }));
    const r = await fsOut.lab.copy(fsOut.dev, group, {}, trace);
    paths.add(r.path);
    host += r.host_bytes;
    for (const why of r.reasons) if (!reasons.includes(why)) reasons.push(why);
    if (r.res < 0) {
      if (r.message && !reasons.includes(r.message)) reasons.push(r.message);
      return { bytes: bytes + Math.max(0, r.bytes), path: pathOf(paths), reasons, host, errno: -r.res };
    }
    bytes += r.bytes;
  }
  // Holes count as copied: the span the ranges covered is done when every range was.
  if (covered < count) reasons.push(`no space left on ${fsOut.dev.name} after ${covered} of ${count} blocks`);
  return { bytes: covered * FS_BLOCK, path: pathOf(paths), reasons, host, ...(covered === 0 ? { errno: Errno.ENOSPC } : {}) };
}

function pathOf(paths: Set<CopyPath>): CopyPath {
  if (paths.size === 0) return 'offload';
  return paths.size === 1 ? [...paths][0]! : 'mixed';
}
