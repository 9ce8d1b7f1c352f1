/**
 * The consumer side of the ring (what io_uring_enter does in the kernel): reads SQEs, checks
 * them, builds link chains and drain barriers, executes them against block devices, and posts
 * CQEs, keeping completions aside when the CQ is full (IORING_FEAT_NODROP) so none is lost.
 *
 * Semantics follow io_uring's documentation (io_uring_enter(2), io_uring_sqe_set_flags(3)):
 * - IO_LINK: the next SQE starts when this one completes; a failure (a short read or write too)
 *   completes the rest of the chain with -ECANCELED. A chain never crosses a submit call.
 * - IO_HARDLINK: like IO_LINK, but the chain goes on whatever the result.
 * - IO_DRAIN: starts when every earlier SQE has completed; later SQEs wait for it.
 * - CQE_SKIP_SUCCESS: no CQE on success.
 * - ASYNC: never run inline in submit(); punted to the next turn of the event loop.
 * - A request whose SQE is bad fails with its errno and its chain with -ECANCELED.
 */
import { BUFFER_ADDRESS_STRIDE, COPY_RANGE, CQE, HDR, MAX_REGISTERED_BUFFERS, MAX_REGISTERED_FILES, SQE } from './layout.js';
import { IORING_ASYNC_CANCEL, IORING_OP, IOSQE, IOSQE_SUPPORTED, IORING_SQ } from './opcodes.js';
import type { Ring } from './ring.js';
import type { BlockDevice } from '../block/device.js';
import type { CopyControl, CopyOptions, CopyRange, CopyResult } from '../block/copy/types.js';
import { blkdevCopy } from '../block/copy/engine.js';
import { submitBio } from '../block/submit.js';
import type { Trace } from '../block/trace.js';
import { ReqOp } from '../block/ops.js';
import { Errno, ErrnoError } from '../util/errno.js';
import { le64, putLe64 } from '../util/bytes.js';
import { ASSERTS, invariant } from '../util/invariants.js';

/** What the consumer needs from the lab. */
export interface RingHost {
  /** The device an open lab file descriptor names. */
  fdDevice(fd: number): BlockDevice | undefined;
  /** Opens a device path and returns its lab fd. */
  open(path: string): number;
  /** The copy engine's settings for the COPY opcode (the ring calls the block layer's copy with them). */
  readonly copyOptions: CopyOptions;
  /** A trace for a copy whose request the host does not trace (traceOf gave none). */
  newTrace(): Trace;
  /**
   * Told of every COPY's result with its SQE's user_data, before its CQE is posted (a harness
   * counting offloaded and emulated bytes per job, for the requests its figures count).
   */
  copied?(r: CopyResult, userData: number): void;
  /**
   * The trace a request's block-layer events go to (by its user_data), when the host traces
   * them: its bios then record their splits, issues and completions (X, D, C) and its copies
   * everything the copy engine does (Q, X, A, D, C, E).
   */
  traceOf?(userData: number): Trace | undefined;
  /** Reaps finished work of devices that run on other threads; returns how many completed. */
  poll(): number;
  /** Resolves when device work may have finished (the next poll may reap something). */
  waitEvent(): Promise<void>;
  /**
   * copylab's COPY_FILE_RANGE: copy_file_range between two open files of the host's file
   * systems (offsets null: the file position). Resolves with the bytes copied or -errno, and the
   * bytes done when it was cancelled (`control`); never rejects for a bad request.
   */
  copyFileRange?(req: FileCopyRequest, control: CopyControl): Promise<{ readonly res: number; readonly bytes: number }>;
  /** True while devices on other threads hold requests (waitEvent can then resolve). */
  readonly deviceWorkPending: boolean;
}

/** A COPY_FILE_RANGE SQE's fields. */
export interface FileCopyRequest {
  readonly fdIn: number;
  readonly offIn: number | null;
  readonly fdOut: number;
  readonly offOut: number | null;
  readonly len: number;
  readonly flags: number;
}

/**
 * A u64 field of ring memory as a number, the value le64 reads (low word + high word × 2^32),
 * without its bounds checks: SQEs lie inside the ring by construction. Three per SQE.
 */
function u64(v: DataView, o: number): number {
  return v.getUint32(o, true) + v.getUint32(o + 4, true) * 0x1_0000_0000;
}

/** An SQE offset at or past 2^63 is -1 in an s64 field: "use the file position". */
const FILE_POSITION = 2 ** 63;

/** Results of passthrough commands (URING_CMD): res, and big_cqe[0..1] for CQE32 rings. */
export interface UringCmdResult {
  readonly res: number;
  readonly big0?: bigint;
  readonly big1?: bigint;
}

/** A device that takes passthrough commands implements this (NVMe, SCSI). */
export interface UringCmdDevice {
  uringCmd(cmdOp: number, cmd: Uint8Array, buffers: BufferResolver, done: (r: UringCmdResult) => void): void;
}

/** Resolves an address range in the ring's registered buffers (for passthrough data pointers). */
export type BufferResolver = (addr: number, len: number) => Uint8Array | null;

/** Buffer views a consumer keeps for reuse (a power of two). */
const VIEW_CACHE = 256;

/** Requests in flight per ring (a limit on everything); beyond it submit() returns -EAGAIN. */
export const RING_MAX_INFLIGHT = 65536;

interface Req {
  readonly op: number;
  readonly flags: number;
  readonly fd: number;
  readonly off: number;
  readonly addr: number;
  readonly len: number;
  readonly opFlags: number;
  readonly userData: number;
  readonly bufIndex: number;
  /** splice_fd_in (file_index): COPY_FILE_RANGE's input descriptor. */
  readonly fdIn: number;
  readonly cmdOp: number;
  readonly cmd: Uint8Array | null;
  next: Req | null;
  /** Set when preparing the SQE found it bad: the errno it fails with. */
  bad: number;
  /** On a chain head: some member has IO_DRAIN, so the whole chain drains (io_uring marks the head). */
  drain: boolean;
  /** The head of this request's chain, and (on the head) members not yet finished. */
  head: Req | null;
  remaining: number;
}

interface PendingCqe {
  readonly userData: number;
  readonly res: number;
  readonly flags: number;
  readonly big0: bigint;
  readonly big1: bigint;
}

export class RingConsumer {
  private readonly buffers: Uint8Array[] = [];
  private readonly files: (BlockDevice | null)[] = [];
  private readonly overflow: PendingCqe[] = [];
  private readonly deferred: Req[] = [];
  /** Requests inside deferred chains (counted in inflight, not started). */
  private deferredMembers = 0;
  /** A started IO_DRAIN chain later SQEs wait behind. */
  private drainBarrier: Req | null = null;
  /** Requests to run, [readyHead, readyTail): slots are cleared as they run and reused, so the array keeps its storage. */
  private readonly ready: (Req | undefined)[] = [];
  private readyHead = 0;
  private readyTail = 0;
  private pumping = false;
  /** Requests submitted and not yet completed (chain members not yet started included). */
  inflight = 0;
  private wakers: (() => void)[] = [];
  private spareWakers: (() => void)[] | null = [];

  constructor(private readonly ring: Ring, readonly host: RingHost) {}

  /** Work is outstanding: requests in flight, completions in overflow, or SQEs the poller has yet to consume. */
  get busy(): boolean {
    return this.inflight > 0 || this.overflow.length > 0 || (this.polling && Atomics.load(this.ring.hdr, HDR.SQ_TAIL) !== this.ring.hdr[HDR.SQ_HEAD]);
  }

  registerBuffers(bufs: readonly Uint8Array[]): number[] {
    if (this.buffers.length + bufs.length > MAX_REGISTERED_BUFFERS) throw new ErrnoError(Errno.EINVAL, `at most ${MAX_REGISTERED_BUFFERS} registered buffers`);
    const addrs: number[] = [];
    for (const b of bufs) {
      if (b.length === 0 || b.length > BUFFER_ADDRESS_STRIDE) throw new ErrnoError(Errno.EINVAL, 'a registered buffer must be 1 byte .. 1 TiB');
      this.buffers.push(b);
      addrs.push(this.ring.bufferAddress(this.buffers.length - 1));
    }
    return addrs;
  }

  registerFiles(files: readonly (number | string)[]): void {
    if (this.files.length + files.length > MAX_REGISTERED_FILES) throw new ErrnoError(Errno.EINVAL, `at most ${MAX_REGISTERED_FILES} registered files`);
    for (const f of files) {
      const fd = typeof f === 'string' ? this.host.open(f) : f;
      const dev = this.host.fdDevice(fd);
      if (!dev) throw new ErrnoError(Errno.EBADF, `fd ${String(f)} is not an open device`);
      this.files.push(dev);
    }
  }

  /** The registered buffer holding [addr, addr+len) (io_import_fixed's check), or -1: -EFAULT. */
  private bufferIndex(addr: number, len: number, bufIndex = -1): number {
    const index = Math.floor(addr / BUFFER_ADDRESS_STRIDE) - 1;
    if (index < 0 || (bufIndex >= 0 && index !== bufIndex)) return -1;
    const b = this.buffers[index];
    if (!b) return -1;
    const off = addr - (index + 1) * BUFFER_ADDRESS_STRIDE;
    return off + len > b.length ? -1 : index;
  }

  /**
   * Views of registered buffers handed out lately, by address (direct-mapped): a program that
   * reuses its buffer slots gets the same view again instead of a new one per request. Registered
   * buffers never change, so an address and length name the same bytes for the ring's life.
   */
  private readonly viewAddr = new Float64Array(VIEW_CACHE).fill(-1);
  private readonly viewCache: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(VIEW_CACHE).fill(undefined);

  /** Resolves [addr, addr+len) in the registered buffers (io_import_fixed); null is -EFAULT. */
  private buffer(addr: number, len: number, bufIndex = -1): Uint8Array | null {
    const index = this.bufferIndex(addr, len, bufIndex);
    if (index < 0) return null;
    const off = addr - (index + 1) * BUFFER_ADDRESS_STRIDE;
    const slot = ((off >>> 12) ^ (off >>> 20) ^ index) & (VIEW_CACHE - 1);
    const cached = this.viewCache[slot];
    if (cached !== undefined && this.viewAddr[slot] === addr && cached.length === len) return cached;
    const view = this.buffers[index]!.subarray(off, off + len);
    this.viewCache[slot] = view;
    this.viewAddr[slot] = addr;
    return view;
  }

  readonly resolveBuffer: BufferResolver = (addr, len) => this.buffer(addr, len);

  private device(req: Req): BlockDevice | undefined {
    if (req.flags & IOSQE.FIXED_FILE) return this.files[req.fd] ?? undefined;
    return this.host.fdDevice(req.fd);
  }

  // ── submission ─────────────────────────────────────────────────────────────────────────

  /** Consumes up to `n` SQEs; returns how many, or -EBUSY / -EAGAIN (nothing consumed). */
  enter(n: number): number {
    this.poll();
    this.flushOverflow();
    if (this.overflow.length > 0) return -Errno.EBUSY;
    if (this.inflight >= RING_MAX_INFLIGHT) return -Errno.EAGAIN;
    const hdr = this.ring.hdr;
    let head = hdr[HDR.SQ_HEAD]!;
    const tail = Atomics.load(hdr, HDR.SQ_TAIL);
    const count = Math.min(n, tail - head, RING_MAX_INFLIGHT - this.inflight);
    let chainHead: Req | null = null;
    let chainTail: Req | null = null;
    let consumed = 0;
    for (let i = 0; i < count; i++) {
      const idx = this.ring.sqArray[head & this.ring.sqMask]!;
      head++;
      consumed++;
      if (idx >= this.ring.sqEntries) {
        // An index outside the SQE array is dropped and counted, as io_uring does.
        Atomics.add(hdr, HDR.SQ_DROPPED, 1);
        continue;
      }
      // Fast path: a NOP with no flags outside any chain or barrier completes at once.
      const so = this.ring.sqesOffset + idx * this.ring.sqeSize;
      const v = this.ring.view;
      if (!chainTail && v.getUint8(so + SQE.OPCODE) === IORING_OP.NOP && v.getUint8(so + SQE.FLAGS) === 0 && !this.drainBarrier && this.deferred.length === 0) {
        const userData = le64(this.ring.bytes, so + SQE.USER_DATA);
        Atomics.store(hdr, HDR.SQ_HEAD, head);
        this.postCqe(userData, 0, 0, 0n, 0n);
        continue;
      }
      const req = this.readSqe(idx);
      // The SQE is copied out: free its slot before its CQE can appear (io_uring consumes SQEs
      // first), so a producer that has reaped every CQE always finds room in the SQ.
      Atomics.store(hdr, HDR.SQ_HEAD, head);
      if (chainTail) chainTail.next = req;
      else chainHead = req;
      chainTail = req;
      // A chain ends at the first SQE without a link flag, and always at the end of a submit.
      if (!(req.flags & (IOSQE.IO_LINK | IOSQE.IO_HARDLINK)) || i === count - 1) {
        this.queue(chainHead!);
        chainHead = chainTail = null;
      }
    }
    Atomics.store(hdr, HDR.SQ_HEAD, head);
    this.pump();
    if (ASSERTS) this.checkIndices();
    return consumed;
  }

  /** The ring's indices and counts hold together (COPYLAB_ASSERT runs check them at each enter and CQE). */
  private checkIndices(): void {
    const hdr = this.ring.hdr;
    const sq = Atomics.load(hdr, HDR.SQ_TAIL) - Atomics.load(hdr, HDR.SQ_HEAD);
    const cq = Atomics.load(hdr, HDR.CQ_TAIL) - Atomics.load(hdr, HDR.CQ_HEAD);
    invariant(sq >= 0 && sq <= this.ring.sqEntries, () => `ring: ${sq} SQEs between head and tail of ${this.ring.sqEntries}`);
    invariant(cq >= 0 && cq <= this.ring.cqEntries, () => `ring: ${cq} CQEs between head and tail of ${this.ring.cqEntries}`);
    invariant(this.inflight >= 0 && this.deferredMembers >= 0 && this.deferredMembers <= this.inflight && this.inflight <= RING_MAX_INFLIGHT, () => `ring: ${this.inflight} in flight, ${this.deferredMembers} deferred`);
  }

  /** Copies an SQE out of the ring (its slot is free again once the head moves). */
  private readSqe(idx: number): Req {
    const v = this.ring.view;
    const o = this.ring.sqesOffset + idx * this.ring.sqeSize;
    const op = v.getUint8(o + SQE.OPCODE);
    const flags = v.getUint8(o + SQE.FLAGS);
    let bad = 0;
    if (flags & ~IOSQE_SUPPORTED) bad = -Errno.EINVAL;
    let cmd: Uint8Array | null = null;
    if (op === IORING_OP.URING_CMD) {
      cmd = new Uint8Array(this.ring.sab.slice(o + SQE.CMD, o + this.ring.sqeSize));
    }
    return {
      op,
      flags,
      fd: v.getInt32(o + SQE.FD, true),
      off: u64(v, o + SQE.OFF),
      addr: u64(v, o + SQE.ADDR),
      len: v.getUint32(o + SQE.LEN, true),
      opFlags: v.getUint32(o + SQE.OP_FLAGS, true),
      userData: u64(v, o + SQE.USER_DATA),
      bufIndex: v.getUint16(o + SQE.BUF_INDEX, true),
      fdIn: v.getInt32(o + SQE.FILE_INDEX, true),
      cmdOp: v.getUint32(o + SQE.CMD_OP, true),
      cmd,
      next: null,
      bad,
      drain: false,
      head: null,
      remaining: 0,
    };
  }

  private queue(chain: Req): void {
    let n = 0;
    let failed = false;
    for (let r: Req | null = chain; r; r = r.next) {
      n++;
      r.head = chain;
      if (r.bad === 0) r.bad = this.prep(r);
      if (r.bad !== 0) failed = true;
      if (r.flags & IOSQE.IO_DRAIN) chain.drain = true;
    }
    this.inflight += n;
    chain.remaining = n;
    if (failed) {
      // io_uring fails a whole chain when one of its SQEs is bad: the bad one with its errno,
      // the others with -ECANCELED.
      for (let r: Req | null = chain; r; r = r.next) this.finish(r, r.bad !== 0 ? r.bad : -Errno.ECANCELED);
      return;
    }
    if (this.drainBarrier || this.deferred.length || (chain.drain && this.inflight > n)) {
      this.deferred.push(chain);
      this.deferredMembers += n;
      return;
    }
    this.start(chain);
  }

  private start(chain: Req): void {
    if (chain.drain) this.drainBarrier = chain;
    this.issue(chain);
  }

  private issue(req: Req): void {
    if (req.flags & IOSQE.ASYNC) {
      setImmediate(() => {
        this.execute(req);
        this.pump();
      });
      return;
    }
    this.ready[this.readyTail++] = req;
    if (!this.pumping) this.pump();
  }

  /** Runs ready requests iteratively, so inline completions of long chains do not recurse. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.readyHead < this.readyTail) {
        const req = this.ready[this.readyHead]!;
        this.ready[this.readyHead++] = undefined;
        this.execute(req);
      }
      this.readyHead = this.readyTail = 0;
    } finally {
      this.pumping = false;
    }
  }

  /** Checks an SQE before it runs; returns 0 or the errno it fails with. Touches nothing. */
  private prep(req: Req): number {
    switch (req.op) {
      case IORING_OP.NOP:
        return 0;
      case IORING_OP.READ:
      case IORING_OP.WRITE:
      case IORING_OP.READ_FIXED:
      case IORING_OP.WRITE_FIXED: {
        if (!this.device(req)) return -Errno.EBADF;
        const fixed = req.op === IORING_OP.READ_FIXED || req.op === IORING_OP.WRITE_FIXED;
        // io_import_fixed: an address outside the registered buffer is -EFAULT.
        return this.bufferIndex(req.addr, req.len, fixed ? req.bufIndex : -1) < 0 ? -Errno.EFAULT : 0;
      }
      case IORING_OP.FSYNC:
      case IORING_OP.DISCARD:
      case IORING_OP.WRITE_ZEROES:
        return this.device(req) ? 0 : -Errno.EBADF;
      case IORING_OP.COPY:
        if (!this.device(req)) return -Errno.EBADF;
        if (req.len === 0) return 0;
        return this.bufferIndex(req.addr, req.len * COPY_RANGE.SIZE) < 0 ? -Errno.EFAULT : 0;
      case IORING_OP.URING_CMD:
        return this.device(req) ? 0 : -Errno.EBADF;
      case IORING_OP.COPY_FILE_RANGE:
        // Files are not registered (the registered files are devices).
        if (!this.host.copyFileRange || req.flags & IOSQE.FIXED_FILE) return -Errno.EINVAL;
        return 0;
      case IORING_OP.ASYNC_CANCEL:
        return req.opFlags & ~IORING_ASYNC_CANCEL.ALL ? -Errno.EINVAL : 0;
      default:
        return -Errno.EINVAL;
    }
  }

  /** Running copies by user_data, so ASYNC_CANCEL can find them. */
  private readonly copies = new Map<number, CopyControl[]>();

  /** io_async_cancel by user_data: 0 / -ENOENT, or the count with IORING_ASYNC_CANCEL_ALL. */
  private cancel(req: Req): number {
    const all = (req.opFlags & IORING_ASYNC_CANCEL.ALL) !== 0;
    const list = this.copies.get(req.addr);
    let n = 0;
    for (const c of list ?? []) {
      if (c.cancelled) continue;
      c.cancelled = true;
      n++;
      if (!all) break;
    }
    if (all) return n;
    return n > 0 ? 0 : -Errno.ENOENT;
  }

  private execute(req: Req): void {
    const done = (res: number): void => this.complete(req, res);
    const trace = this.host.traceOf?.(req.userData);
    switch (req.op) {
      case IORING_OP.NOP:
        return done(0);
      case IORING_OP.READ:
      case IORING_OP.READ_FIXED:
      case IORING_OP.WRITE:
      case IORING_OP.WRITE_FIXED: {
        const dev = this.device(req)!;
        const write = req.op === IORING_OP.WRITE || req.op === IORING_OP.WRITE_FIXED;
        // blkdev_read_iter / blkdev_write_iter: a read at or past the end returns 0 and one
        // crossing it is cut short; a write at or past the end is -ENOSPC, one crossing it short.
        let len = req.len;
        if (req.off >= dev.capacity) return done(write ? -Errno.ENOSPC : 0);
        if (req.off + len > dev.capacity) len = dev.capacity - req.off;
        if (len === 0) return done(0);
        const data = this.buffer(req.addr, len)!;
        const op = write ? ReqOp.WRITE : ReqOp.READ;
        // Two literals rather than a spread of an optional trace: one allocation, a fixed shape.
        submitBio(dev, trace ? { op, offset: req.off, length: len, data, flags: 0, trace, endIo: done } : { op, offset: req.off, length: len, data, flags: 0, endIo: done });
        return;
      }
      case IORING_OP.FSYNC:
        submitBio(this.device(req)!, { op: ReqOp.FLUSH, offset: 0, length: 0, flags: 0, ...(trace ? { trace } : {}), endIo: done });
        return;
      case IORING_OP.DISCARD:
      case IORING_OP.WRITE_ZEROES:
        submitBio(this.device(req)!, { op: req.op === IORING_OP.DISCARD ? ReqOp.DISCARD : ReqOp.WRITE_ZEROES, offset: req.off, length: req.len, flags: 0, ...(trace ? { trace } : {}), endIo: done });
        return;
      case IORING_OP.COPY:
        return this.executeCopy(req, done, trace);
      case IORING_OP.COPY_FILE_RANGE:
        return this.executeCopyFileRange(req);
      case IORING_OP.ASYNC_CANCEL:
        return done(this.cancel(req));
      case IORING_OP.URING_CMD: {
        const dev = this.device(req)! as BlockDevice & Partial<UringCmdDevice>;
        if (!dev.uringCmd) return done(-Errno.ENOTSUP);
        dev.uringCmd(req.cmdOp, req.cmd!, this.resolveBuffer, (r) => this.complete(req, r.res, r.big0, r.big1));
        return;
      }
      default:
        return done(-Errno.EINVAL);
    }
  }

  /** Registers a running copy under its user_data (ASYNC_CANCEL finds it there); returns its forget. */
  private track(req: Req, control: CopyControl): () => void {
    const list = this.copies.get(req.userData);
    if (list) list.push(control);
    else this.copies.set(req.userData, [control]);
    return () => {
      const l = this.copies.get(req.userData);
      if (!l) return;
      l.splice(l.indexOf(control), 1);
      if (l.length === 0) this.copies.delete(req.userData);
    };
  }

  private executeCopyFileRange(req: Req): void {
    const control: CopyControl = { cancelled: false };
    const forget = this.track(req, control);
    const request: FileCopyRequest = {
      fdIn: req.fdIn,
      offIn: req.addr >= FILE_POSITION ? null : req.addr,
      fdOut: req.fd,
      offOut: req.off >= FILE_POSITION ? null : req.off,
      len: req.len,
      flags: req.opFlags,
    };
    this.host.copyFileRange!(request, control).then(
      (r) => {
        forget();
        // Cancelled: -ECANCELED with the bytes done in big_cqe[0] (CQE32 rings), as COPY.
        this.complete(req, r.res, r.res === -Errno.ECANCELED ? BigInt(r.bytes) : 0n, 0n);
        this.pump();
      },
      () => {
        forget();
        this.complete(req, -Errno.EIO);
        this.pump();
      },
    );
  }

  /** A DataView per registered buffer, made once (COPY reads its range list through it). */
  private readonly views: DataView[] = [];

  private executeCopy(req: Req, done: (res: number) => void, trace: Trace | undefined): void {
    const dst = this.device(req)!;
    if (req.len === 0) return done(0);
    // prep() checked the list lies inside one registered buffer.
    const index = Math.floor(req.addr / BUFFER_ADDRESS_STRIDE) - 1;
    const b = this.buffers[index]!;
    const v = (this.views[index] ??= new DataView(b.buffer, b.byteOffset, b.byteLength));
    const base = req.addr - (index + 1) * BUFFER_ADDRESS_STRIDE;
    const ranges: CopyRange[] = [];
    for (let i = 0; i < req.len; i++) {
      const at = base + i * COPY_RANGE.SIZE;
      const srcFd = v.getInt32(at + COPY_RANGE.SRC_FD, true);
      let src: BlockDevice | undefined = dst;
      if (srcFd !== -1) src = req.flags & IOSQE.FIXED_FILE ? (this.files[srcFd] ?? undefined) : this.host.fdDevice(srcFd);
      if (!src) return done(-Errno.EBADF);
      ranges.push({ src, srcOffset: le64(b, at + COPY_RANGE.SRC_OFF), dstOffset: le64(b, at + COPY_RANGE.DST_OFF), length: le64(b, at + COPY_RANGE.LEN) });
    }
    const control: CopyControl = { cancelled: false };
    const forget = this.track(req, control);
    blkdevCopy(dst, ranges, this.host.copyOptions, trace ?? this.host.newTrace(), control).then(
      (r) => {
        forget();
        this.host.copied?.(r, req.userData);
        // A cancelled copy: -ECANCELED, with the bytes done in big_cqe[0] on CQE32 rings.
        if (r.res === -Errno.ECANCELED) this.complete(req, r.res, BigInt(r.bytes), 0n);
        else done(r.res);
        this.pump();
      },
      () => {
        forget();
        done(-Errno.EIO);
        this.pump();
      },
    );
  }

  // ── completion ─────────────────────────────────────────────────────────────────────────

  private complete(req: Req, res: number, big0 = 0n, big1 = 0n): void {
    this.finish(req, res, big0, big1);
    const next = req.next;
    if (next) {
      const short = (req.op === IORING_OP.READ || req.op === IORING_OP.READ_FIXED || req.op === IORING_OP.WRITE || req.op === IORING_OP.WRITE_FIXED) && res >= 0 && res < req.len;
      if ((res < 0 || short) && !(req.flags & IOSQE.IO_HARDLINK)) {
        for (let r: Req | null = next; r; r = r.next) this.finish(r, -Errno.ECANCELED);
      } else {
        this.issue(next);
      }
    }
    if (this.drainBarrier && this.drainBarrier.remaining === 0) this.drainBarrier = null;
    if (this.deferred.length) this.runDeferred();
  }

  /** Posts a request's CQE (unless skipped) and counts it done. */
  private finish(req: Req, res: number, big0 = 0n, big1 = 0n): void {
    if (req.head) req.head.remaining--;
    this.inflight--;
    if (!(req.flags & IOSQE.CQE_SKIP_SUCCESS) || res < 0) this.postCqe(req.userData, res, 0, big0, big1);
  }

  private runDeferred(): void {
    while (this.deferred.length && !this.drainBarrier) {
      const chain = this.deferred[0]!;
      let members = 0;
      for (let r: Req | null = chain; r; r = r.next) members++;
      // A drain chain starts when nothing but deferred chains is outstanding.
      if (chain.drain && this.inflight - this.deferredMembers > 0) return;
      this.deferred.shift();
      this.deferredMembers -= members;
      this.start(chain);
    }
  }

  private postCqe(userData: number, res: number, flags: number, big0: bigint, big1: bigint): void {
    const hdr = this.ring.hdr;
    const tail = hdr[HDR.CQ_TAIL]!;
    if (this.overflow.length === 0 && tail - Atomics.load(hdr, HDR.CQ_HEAD) < this.ring.cqEntries) {
      this.writeCqe(tail, userData, res, flags, big0, big1);
      Atomics.store(hdr, HDR.CQ_TAIL, tail + 1);
      this.cqDirty = true;
    } else {
      this.overflow.push({ userData, res, flags, big0, big1 });
      Atomics.or(hdr, HDR.SQ_FLAGS, IORING_SQ.CQ_OVERFLOW);
    }
    if (ASSERTS) this.checkIndices();
    if (this.wakers.length) this.wake();
  }

  private writeCqe(tail: number, userData: number, res: number, flags: number, big0: bigint, big1: bigint): void {
    const v = this.ring.view;
    const o = this.ring.cqesOffset + (tail & this.ring.cqMask) * this.ring.cqeSize;
    putLe64(this.ring.bytes, o + CQE.USER_DATA, userData);
    v.setInt32(o + 8, res, true);
    v.setUint32(o + 12, flags, true);
    if (this.ring.cqeSize === 32) {
      v.setBigUint64(o + 16, big0, true);
      v.setBigUint64(o + 24, big1, true);
    }
  }

  /** Moves completions kept aside into the CQ as room allows (io_cqring_overflow_flush). */
  flushOverflow(): void {
    if (this.overflow.length === 0) return;
    const hdr = this.ring.hdr;
    let tail = hdr[HDR.CQ_TAIL]!;
    let moved = 0;
    while (moved < this.overflow.length && tail - Atomics.load(hdr, HDR.CQ_HEAD) < this.ring.cqEntries) {
      const c = this.overflow[moved++]!;
      this.writeCqe(tail++, c.userData, c.res, c.flags, c.big0, c.big1);
    }
    this.overflow.splice(0, moved);
    Atomics.store(hdr, HDR.CQ_TAIL, tail);
    if (moved) this.cqDirty = true;
    if (this.overflow.length === 0) Atomics.and(hdr, HDR.SQ_FLAGS, ~IORING_SQ.CQ_OVERFLOW);
    if (moved) this.wake();
  }

  // ── SQPOLL ─────────────────────────────────────────────────────────────────────────────

  private polling = false;
  /** CQEs were posted since the poller last woke sleeping application threads. */
  private cqDirty = false;

  /** Wakes application threads sleeping on the CQ tail, once per batch of CQEs (SQPOLL rings). */
  private publishCq(): void {
    if (!this.cqDirty) return;
    this.cqDirty = false;
    if (Atomics.load(this.ring.hdr, HDR.CQ_WAITERS)) Atomics.notify(this.ring.hdr, HDR.CQ_TAIL);
  }

  /**
   * The SQ poller (IORING_SETUP_SQPOLL) on the lab's thread: consumes SQEs as they are published,
   * reaps device completions and moves overflowed CQEs in; after `idleMs` without work it sets
   * NEED_WAKEUP and sleeps on the SQ tail (Atomics.waitAsync) until a submit wakes it. It yields
   * to the event loop regularly so device workers' and ASYNC completions are delivered.
   */
  startPoller(idleMs: number): void {
    if (this.polling) return;
    this.polling = true;
    const hdr = this.ring.hdr;
    const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));
    void (async () => {
      let lastWork = performance.now();
      let spins = 0;
      while (this.polling) {
        const avail = Atomics.load(hdr, HDR.SQ_TAIL) - hdr[HDR.SQ_HEAD]!;
        this.flushOverflow();
        if (avail > 0 && this.overflow.length === 0) {
          this.enter(avail);
          lastWork = performance.now();
        } else {
          this.poll();
        }
        this.publishCq();
        if ((++spins & 255) === 0) await yieldNow();
        if (avail > 0 || this.busy || performance.now() - lastWork < idleMs) continue;
        Atomics.or(hdr, HDR.SQ_FLAGS, IORING_SQ.NEED_WAKEUP);
        const head = hdr[HDR.SQ_HEAD]!;
        if (Atomics.load(hdr, HDR.SQ_TAIL) === head && this.polling) {
          const w = Atomics.waitAsync(hdr, HDR.SQ_TAIL, head, 100);
          if (w.async) await w.value;
        }
        Atomics.and(hdr, HDR.SQ_FLAGS, ~IORING_SQ.NEED_WAKEUP);
        lastWork = performance.now();
      }
    })();
  }

  stopPoller(): void {
    this.polling = false;
  }

  /** Reaps device completions (worker-run devices) and runs what they unblocked. */
  poll(): void {
    if (this.inflight > 0 && this.host.poll() > 0) this.pump();
  }

  private wake(): void {
    if (this.wakers.length === 0) return;
    // Swap in the spare list (no new array per wake): a waker that waits again goes on the other
    // one. A wake from inside a waker (none does today) takes a fresh list.
    const w = this.wakers;
    const spare = this.spareWakers;
    this.wakers = spare ?? [];
    this.spareWakers = null;
    for (let i = 0; i < w.length; i++) {
      const fn = w[i]!;
      fn();
    }
    w.length = 0;
    this.spareWakers = w;
  }

  /**
   * Calls fn where nextEvent's promise is resolved by a CQE post (for a waiter that no device
   * thread can wake: the caller checked deviceWorkPending).
   */
  onNextEvent(fn: () => void): void {
    this.wakers.push(fn);
  }

  /** Resolves at the next CQE posted, or when device work may have finished. */
  nextEvent(): Promise<void> {
    return new Promise<void>((resolve) => {
      // A promise settles once: whichever of the two calls resolve first wins, the other is a no-op.
      this.wakers.push(resolve);
      // Only device work on other threads needs the doorbell; inline and ASYNC work posts CQEs
      // through wake() on this thread.
      if (this.host.deviceWorkPending) this.host.waitEvent().then(resolve, resolve);
    });
  }
}
