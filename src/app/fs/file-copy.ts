/**
 * The copy machinery under copy_file_range, COPYCHUNK and the asynchronous copy
 * (docs/files.md): a list of segments (source offset, destination offset, length) between two
 * open files becomes steps, each taking the first path that can carry it:
 * - reflink: whole blocks (and a tail block ending both files) on one file system made with
 *   reflink: the destination maps the source's blocks, shared, copy-on-write; no I/O but the
 *   source's writeback;
 * - offload: whole blocks whose offsets agree within a block: the source's dirty pages written
 *   back, the destination's cached pages dropped, blocks allocated where the destination has
 *   none or shares one, both files mapped and the block runs handed to the block layer as
 *   vectored REQ_OP_COPY requests, consecutive steps in as few requests as the lab's request
 *   limits allow (the block layer cuts them by the device's);
 * - splice: through the page cache, for the rest.
 * Steps run in order, so the bytes done are always a prefix of the segments. Both files are
 * pinned (blocks they give up are freed when the copy ends) and the destination ranges locked
 * (readers and writers wait) while it runs.
 */
import type { CopyControl, CopyPath } from '../../core/block/copy/types.js';
import { ReqOp } from '../../core/block/ops.js';
import type { Trace } from '../../core/block/trace.js';
import { Errno, ErrnoError } from '../../core/util/errno.js';
import type { CopyFs, Inode } from './fs.js';
import { FS_BLOCK } from './page-cache.js';

/** Bytes one splice step moves through host memory. */
export const SPLICE_CHUNK = 1 << 20;

export type FileCopyPath = 'reflink' | 'offload' | 'splice';

export interface FileCopyOptions {
  /** `auto` (default): clone where the file system can; `always`: clone or fail (cp --reflink=always); `never`. */
  readonly reflink?: 'auto' | 'always' | 'never';
  /** `never`: no REQ_OP_COPY (cp without offload). Default `auto`. */
  readonly offload?: 'auto' | 'never';
}

export interface FileSegment {
  readonly src: number;
  readonly dst: number;
  readonly len: number;
}

export interface FileCopyPart {
  readonly path: FileCopyPath;
  readonly src_offset: number;
  readonly dst_offset: number;
  readonly bytes: number;
  /** Why this path: what ruled out the paths before it, and what the block layer said. */
  readonly reason: string;
  /** The block layer's path for an offload part: offload, emulated or mixed. */
  readonly block_path?: CopyPath;
}

/** Progress and cancel of a running copy (the asynchronous copy's cookie holds one). */
export interface FileCopyControl {
  cancelled: boolean;
  /** Called as bytes complete (a prefix of the segments). */
  onProgress?(bytesDone: number): void;
}

export interface FileCopyOutcome {
  /** Bytes copied: a prefix of the segments. */
  readonly bytes: number;
  readonly parts: readonly FileCopyPart[];
  /** Bytes that crossed host memory (splice: 2 per byte; offload: what the block layer emulated). */
  readonly host_bytes: number;
  /** REQ_OP_COPY requests handed to the block layer, and the offloaded commands it cut them into. */
  readonly requests: number;
  readonly commands: number;
  /** Set when the copy stopped short: why (ENOSPC, ECANCELED, a device's errno). */
  readonly errno?: number;
  readonly message?: string;
}

export interface OpenFile {
  readonly fs: CopyFs;
  readonly inode: Inode;
}

interface Step {
  readonly path: FileCopyPath;
  readonly src: number;
  readonly dst: number;
  readonly len: number;
  readonly reason: string;
}

interface StepResult {
  readonly bytes: number;
  readonly host: number;
  readonly reasons: readonly string[];
  readonly blockPath?: CopyPath;
  readonly requests?: number;
  readonly commands?: number;
  readonly errno?: number;
}

const fail = (errno: number, why: string): never => {
  throw new ErrnoError(errno, why);
};

/**
 * FICLONERANGE's checks for `reflink: always` (ioctl_ficlonerange(2)): one file system (EXDEV),
 * made with reflink (EOPNOTSUPP), offsets on block boundaries and a length of whole blocks unless
 * it ends the source and reaches the destination's end (EINVAL).
 */
function checkClone(input: OpenFile, output: OpenFile, segs: readonly FileSegment[]): void {
  if (input.fs !== output.fs) fail(Errno.EXDEV, 'reflink: the files are on different file systems');
  if (!input.fs.reflink) fail(Errno.ENOTSUP, `reflink: the file system on ${input.fs.dev.name} was made without reflink`);
  for (const s of segs) {
    if (s.src % FS_BLOCK || s.dst % FS_BLOCK) fail(Errno.EINVAL, `reflink: offsets ${s.src} and ${s.dst} are not on ${FS_BLOCK}-byte block boundaries`);
    if (s.len % FS_BLOCK && !endsBoth(input, output, s)) fail(Errno.EINVAL, `reflink: ${s.len} bytes is not whole blocks and does not end the source file`);
  }
}

/** The segment ends at the source's end and reaches past the destination's: its partial last block may be shared. */
function endsBoth(input: OpenFile, output: OpenFile, s: FileSegment): boolean {
  return s.src + s.len === input.inode.size && s.dst + s.len >= output.inode.size;
}

/** The steps of the segments, in order. */
function planSteps(input: OpenFile, output: OpenFile, segs: readonly FileSegment[], o: FileCopyOptions): Step[] {
  const sameFs = input.fs === output.fs;
  const noClone = o.reflink === 'never' ? 'reflink not wanted' : !sameFs ? 'not one file system, no reflink' : !output.fs.reflink ? 'file system made without reflink' : null;
  const offloadOff = o.offload === 'never';
  const steps: Step[] = [];
  for (const s of segs) {
    if (s.len === 0) continue;
    if ((s.src - s.dst) % FS_BLOCK !== 0) {
      steps.push({ path: 'splice', ...s, reason: 'the offsets differ within a block' });
      continue;
    }
    const head = Math.min(s.len, (FS_BLOCK - (s.src % FS_BLOCK)) % FS_BLOCK);
    let body = Math.floor((s.len - head) / FS_BLOCK) * FS_BLOCK;
    let tail = s.len - head - body;
    if (noClone === null && tail > 0 && head === 0 && endsBoth(input, output, s)) {
      body += tail;
      tail = 0;
    }
    if (head > 0) steps.push({ path: 'splice', src: s.src, dst: s.dst, len: head, reason: 'not a whole block' });
    if (body > 0) {
      const at = { src: s.src + head, dst: s.dst + head, len: body };
      if (noClone === null) steps.push({ path: 'reflink', ...at, reason: 'extents shared, copy-on-write' });
      else if (!offloadOff) steps.push({ path: 'offload', ...at, reason: `${noClone}; whole blocks by REQ_OP_COPY` });
      else steps.push({ path: 'splice', ...at, reason: `${noClone}; offload not wanted` });
    }
    if (tail > 0) steps.push({ path: 'splice', src: s.src + head + body, dst: s.dst + head + body, len: tail, reason: 'not a whole block' });
  }
  return steps;
}

/**
 * Copies `segs` from input to output in order; returns the bytes done (a prefix of the
 * segments) and how each part went. Throws (ErrnoError) only when nothing was copied: a
 * `reflink: always` copy the file system cannot clone, no space at all, a device that failed
 * the first step. A cancelled copy returns its bytes with errno ECANCELED.
 */
export async function copySegments(input: OpenFile, output: OpenFile, segs: readonly FileSegment[], o: FileCopyOptions, trace: Trace, control?: FileCopyControl): Promise<FileCopyOutcome> {
  if (o.reflink === 'always') checkClone(input, output, segs);
  const steps = planSteps(input, output, segs, o);
  const { fs: fsIn, inode: src } = input;
  const { fs: fsOut, inode: dst } = output;
  const parts: FileCopyPart[] = [];
  let done = 0;
  let host = 0;
  let requests = 0;
  let commands = 0;
  let stop: { errno: number; message: string } | undefined;
  fsIn.pin(src);
  fsOut.pin(dst);
  const unlock = segs.filter((s) => s.len > 0).map((s) => fsOut.lockRange(dst, s.dst, s.dst + s.len));
  const used = new Set<FileCopyPath>();
  try {
    for (let i = 0; i < steps.length && !stop; ) {
      if (control?.cancelled) {
        stop = { errno: Errno.ECANCELED, message: `cancelled after ${done} bytes` };
        break;
      }
      // Consecutive offload steps go down together.
      let j = i + 1;
      if (steps[i]!.path === 'offload') while (j < steps.length && steps[j]!.path === 'offload') j++;
      const batch = steps.slice(i, j);
      const want = batch.reduce((n, s) => n + s.len, 0);
      for (const s of batch) trace.add('M', fsOut.dev.name, ReqOp.COPY, s.dst, s.len, { info: `file copy: ${s.path} src ${s.src}+${s.len} -> dst ${s.dst}: ${s.reason}` });
      const base = done;
      const progress = (b: number): void => control?.onProgress?.(base + b);
      let r: StepResult;
      try {
        r = batch[0]!.path === 'reflink' ? await reflinkStep(input, output, batch[0]!, trace)
          : batch[0]!.path === 'offload' ? await offloadSteps(input, output, batch, trace, control, progress)
          : await spliceStep(input, output, batch[0]!, trace, control, progress);
      } catch (err) {
        if (done > 0 && err instanceof ErrnoError) r = { bytes: 0, host: 0, reasons: [err.message], errno: -err.errno };
        else throw err;
      }
      host += r.host;
      requests += r.requests ?? 0;
      commands += r.commands ?? 0;
      // Parts per step, as far as the bytes reached.
      let left = r.bytes;
      for (const s of batch) {
        if (left <= 0) break;
        const bytes = Math.min(left, s.len);
        left -= bytes;
        addPart(parts, { path: s.path, src_offset: s.src, dst_offset: s.dst, bytes, reason: [s.reason, ...r.reasons].join('; '), ...(r.blockPath ? { block_path: r.blockPath } : {}) });
        used.add(s.path);
        fsOut.copies[s.path].bytes += bytes;
        if (s.dst + bytes > dst.size) dst.size = s.dst + bytes;
      }
      done += r.bytes;
      control?.onProgress?.(done);
      if (r.bytes < want) {
        const errno = r.errno ?? Errno.EIO;
        if (done === 0 && errno !== Errno.ECANCELED) fail(errno, r.reasons.join('; ') || `the ${batch[0]!.path} step failed`);
        stop = { errno, message: r.reasons.join('; ') || `stopped after ${done} bytes` };
      }
      i = j;
    }
  } finally {
    for (const u of unlock) u();
    fsIn.unpin(src);
    fsOut.unpin(dst);
    for (const p of used) fsOut.copies[p].calls++;
  }
  return { bytes: done, parts, host_bytes: host, requests, commands, ...(stop ? { errno: stop.errno, message: stop.message } : {}) };
}

/** Appends a part, merged into the last one when it continues it in both files by the same path for the same reason. */
function addPart(parts: FileCopyPart[], p: FileCopyPart): void {
  const last = parts[parts.length - 1];
  if (last && last.path === p.path && last.reason === p.reason && last.block_path === p.block_path && last.src_offset + last.bytes === p.src_offset && last.dst_offset + last.bytes === p.dst_offset) {
    parts[parts.length - 1] = { ...last, bytes: last.bytes + p.bytes };
  } else parts.push(p);
}

/** The whole-block range of a step: first file block in each file and the block count (a partial last block counts). */
function blocksOf(s: Step): { sb: number; db: number; count: number } {
  return { sb: s.src / FS_BLOCK, db: s.dst / FS_BLOCK, count: Math.ceil(s.len / FS_BLOCK) };
}

async function reflinkStep(input: OpenFile, output: OpenFile, s: Step, trace: Trace): Promise<StepResult> {
  const { sb, db, count } = blocksOf(s);
  // The shared blocks must hold what the source's pages hold.
  await input.fs.writeback(input.inode, sb, sb + count, trace);
  output.fs.invalidate(output.inode, db, db + count);
  output.fs.cloneRange(input.inode, sb, output.inode, db, count);
  return { bytes: s.len, host: 0, reasons: [] };
}

async function spliceStep(input: OpenFile, output: OpenFile, s: Step, trace: Trace, control: FileCopyControl | undefined, progress: (b: number) => void): Promise<StepResult> {
  const buf = new Uint8Array(Math.min(s.len, SPLICE_CHUNK));
  let done = 0;
  while (done < s.len) {
    if (control?.cancelled) return { bytes: done, host: 2 * done, reasons: ['cancelled'], errno: Errno.ECANCELED };
    const len = Math.min(buf.length, s.len - done);
    const got = await input.fs.readRange(input.inode, s.src + done, buf.subarray(0, len), trace);
    if (got === 0) break;
    let put: number;
    try {
      put = await output.fs.writeRange(output.inode, s.dst + done, buf.subarray(0, got), trace);
    } catch (err) {
      // No block could be promised for the first page of this chunk: a short copy, unless nothing was copied.
      if (done > 0 && err instanceof ErrnoError && err.errno === -Errno.ENOSPC) put = 0;
      else throw err;
    }
    done += put;
    progress(done);
    if (put < got) return { bytes: done, host: 2 * done, reasons: [`no space left on ${output.fs.dev.name} after ${done} bytes`], errno: Errno.ENOSPC };
  }
  return { bytes: done, host: 2 * done, reasons: [] };
}

/** One device range of an offload, with where it starts in the batch's bytes (holes before it count). */
interface MappedRange {
  readonly srcOffset: number;
  readonly dstOffset: number;
  length: number;
  readonly at: number;
}

/**
 * Whole blocks of consecutive steps by REQ_OP_COPY (Chinner's recipe, linux-fsdevel 2011):
 * writeback of the source's dirty pages, invalidation of the destination's, blocks for the
 * destination's holes and shared blocks, then the block runs as vectored copies.
 */
async function offloadSteps(input: OpenFile, output: OpenFile, steps: readonly Step[], trace: Trace, control: FileCopyControl | undefined, progress: (b: number) => void): Promise<StepResult> {
  const { fs: fsIn, inode: src } = input;
  const { fs: fsOut, inode: dst } = output;
  for (const s of steps) {
    const { sb, db, count } = blocksOf(s);
    await fsIn.writeback(src, sb, sb + count, trace);
    fsOut.invalidate(dst, db, db + count);
  }
  // With metadata on the device, commits meanwhile write the destination as it was: none maps a block before the copy has written it.
  fsOut.beginUpdate(dst);
  try {
    return await offloadMapped(input, output, steps, trace, control, progress);
  } finally {
    fsOut.endUpdate(dst);
  }
}

async function offloadMapped(input: OpenFile, output: OpenFile, steps: readonly Step[], trace: Trace, control: FileCopyControl | undefined, progress: (b: number) => void): Promise<StepResult> {
  const { fs: fsIn } = input;
  const { fs: fsOut } = output;
  const reasons: string[] = [];
  const { ranges, covered, total, fresh } = mapForOffload(input, output, steps, reasons);
  const srcDev = fsIn.dev === fsOut.dev ? undefined : fsIn.dev;
  const { maxRanges, maxBytes } = fsOut.lab.copyRequestLimits;
  const paths = new Set<CopyPath>();
  let host = 0;
  let requests = 0;
  let commands = 0;
  let k = 0;
  while (k < ranges.length) {
    // One request: as many ranges as the request limits take (a range longer than maxBytes is cut).
    const group: MappedRange[] = [];
    let bytes = 0;
    while (k < ranges.length && group.length < maxRanges && bytes < maxBytes) {
      const r = ranges[k]!;
      const take = Math.min(r.length, maxBytes - bytes);
      group.push({ ...r, length: take });
      bytes += take;
      if (take < r.length) {
        ranges[k] = { srcOffset: r.srcOffset + take, dstOffset: r.dstOffset + take, length: r.length - take, at: r.at + take };
        break;
      }
      k++;
    }
    const reqControl: CopyControl = {
      get cancelled() {
        return control?.cancelled ?? false;
      },
      set cancelled(v: boolean) {
        if (control) control.cancelled = v;
      },
      onProgress: (b) => progress(batchBytes(group, b)),
    };
    const r = await fsOut.lab.copy(fsOut.dev, group.map((g) => ({ srcOffset: g.srcOffset, dstOffset: g.dstOffset, length: g.length, ...(srcDev ? { src: srcDev } : {}) })), {}, trace, reqControl);
    requests++;
    commands += r.pieces.filter((p) => p.path === 'offload').length;
    paths.add(r.path);
    host += r.host_bytes;
    for (const why of r.reasons) if (!reasons.includes(why)) reasons.push(why);
    if (r.res < 0) {
      if (r.message && !reasons.includes(r.message)) reasons.push(r.message);
      const bytes = batchBytes(group, Math.max(0, r.bytes));
      dropUncopied(output, fresh, bytes);
      return { bytes, host, reasons, blockPath: pathOf(paths), requests, commands, errno: -r.res };
    }
  }
  if (covered < total) {
    const bytes = covered;
    return { bytes, host, reasons: [...reasons, `no space left on ${fsOut.dev.name} after ${bytes} of ${total} bytes`], blockPath: pathOf(paths), requests, commands, errno: Errno.ENOSPC };
  }
  return { bytes: total, host, reasons, blockPath: pathOf(paths), requests, commands };
}

/**
 * Maps the steps' blocks onto the device: the source's runs, the destination's own unshared
 * blocks where it has them, new blocks in its holes and for its shared blocks (given up, so the
 * copy never writes a block another file maps). A hole in the source becomes a hole in the
 * destination. Stops where no block is left (`covered` bytes of `total`).
 */
function mapForOffload(input: OpenFile, output: OpenFile, steps: readonly Step[], reasons: string[]): { ranges: MappedRange[]; covered: number; total: number; fresh: FreshRun[] } {
  const fresh: FreshRun[] = [];
  const { inode: src } = input;
  const { fs: fsOut, inode: dst } = output;
  const ranges: MappedRange[] = [];
  const total = steps.reduce((n, s) => n + s.len, 0);
  let at = 0;
  for (const s of steps) {
    const { sb, db, count } = blocksOf(s);
    // Shared destination blocks are given up first: this copy writes blocks of its own.
    for (let k = 0; k < count; ) {
      const d = dst.extents.runAt(db + k, count - k);
      if (d.count === 0) {
        k += dst.extents.holeAt(db + k, count - k);
        continue;
      }
      const sh = fsOut.refcounts.runAt(d.dev, d.count);
      if (sh.shared) fsOut.releaseRuns(dst, dst.extents.unmap(db + k, sh.count));
      k += sh.count;
    }
    for (let k = 0; k < count; ) {
      const sr = src.extents.runAt(sb + k, count - k);
      if (sr.count === 0) {
        const hole = src.extents.holeAt(sb + k, count - k);
        fsOut.releaseRuns(dst, dst.extents.unmap(db + k, hole));
        k += hole;
        continue;
      }
      let left = sr.count;
      let srcDev = sr.dev;
      while (left > 0) {
        let d = dst.extents.runAt(db + k, left);
        if (d.count === 0) {
          const want = Math.min(left, dst.extents.holeAt(db + k, left), fsOut.allocator.available);
          if (want === 0) {
            if (!reasons.length) reasons.push(`no space left on ${fsOut.dev.name}`);
            return { ranges, covered: at + k * FS_BLOCK, total, fresh };
          }
          let fb = db + k;
          for (const e of fsOut.allocator.allocate(want)) {
            dst.extents.map(fb, e.start, e.count);
            fresh.push({ file: fb, count: e.count, at: at + (fb - db) * FS_BLOCK });
            fb += e.count;
          }
          d = dst.extents.runAt(db + k, left);
        }
        const last = ranges[ranges.length - 1];
        const so = srcDev * FS_BLOCK;
        const doff = d.dev * FS_BLOCK;
        if (last && last.srcOffset + last.length === so && last.dstOffset + last.length === doff && last.at + last.length === at + k * FS_BLOCK) last.length += d.count * FS_BLOCK;
        else ranges.push({ srcOffset: so, dstOffset: doff, length: d.count * FS_BLOCK, at: at + k * FS_BLOCK });
        srcDev += d.count;
        left -= d.count;
        k += d.count;
      }
    }
    at += s.len;
  }
  return { ranges, covered: total, total, fresh };
}

/** Destination blocks an offload allocated: file block, count, and where they start in the batch's bytes. */
interface FreshRun {
  readonly file: number;
  readonly count: number;
  readonly at: number;
}

/**
 * An offload that stopped after `bytes` of its batch gives back the blocks it allocated for the
 * rest: they hold whatever they held before (another file's old bytes), never the file's.
 */
function dropUncopied(output: OpenFile, fresh: readonly FreshRun[], bytes: number): void {
  const { fs, inode } = output;
  for (const r of fresh) {
    const keep = Math.max(0, Math.min(r.count, Math.ceil((bytes - r.at) / FS_BLOCK)));
    if (keep < r.count) fs.releaseRuns(inode, inode.extents.unmap(r.file + keep, r.count - keep));
  }
}

/** Where in the batch's bytes a request that did `done` bytes of `group` (in order) got to. */
function batchBytes(group: readonly MappedRange[], done: number): number {
  let left = done;
  for (const g of group) {
    if (left < g.length) return g.at + left;
    left -= g.length;
  }
  const last = group[group.length - 1]!;
  return last.at + last.length;
}

function pathOf(paths: Set<CopyPath>): CopyPath {
  if (paths.size === 0) return 'offload';
  return paths.size === 1 ? [...paths][0]! : 'mixed';
}
