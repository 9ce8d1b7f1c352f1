/**
 * The copy engine: the one place where REQ_OP_COPY is validated, planned, offloaded or
 * emulated (SPDK's bdev layer does the same in spdk_bdev_copy_blocks: a native copy when the
 * module supports it, one generic read-then-write fallback otherwise). Drivers and targets only
 * declare capability (queue limits, copy domain, copyOffloadRefusal); they never emulate.
 *
 * Pieces run one after another with one I/O in flight, as the kernel's blkdev_copy_emulation
 * does, so a failure leaves every earlier piece copied and nothing after it touched. Each piece
 * is in flight on the stacked devices it was remapped through (a dm suspend waits for it and
 * holds the next); a table that went live under the copy makes it plan again.
 */
import type { BlockDevice } from '../device.js';
import type { CopyControl, CopyOptions, CopyPiece, CopyRange, CopyResult, EmulationReason, PieceResult } from './types.js';
import { Errno } from '../../util/errno.js';
import { COPY_DEFAULTS } from './types.js';
import { validateCopy } from './validate.js';
import { planCopy } from './plan.js';
import { submitBioWait } from '../submit.js';
import { ReqOp } from '../ops.js';
import { Trace } from '../trace.js';
import { errnoName } from '../../util/errno.js';
import { isStacked, type StackedDevice } from '../remap.js';
import type { WorkItem } from './stack.js';
import { planPaired, planToken, planVectored } from './strategies.js';

/** True when the copy must be remapped: a stacked device on either end. */
function involvesStack(dst: BlockDevice, ranges: readonly CopyRange[]): boolean {
  return isStacked(dst) || ranges.some((r) => r.src !== undefined && isStacked(r.src));
}

/**
 * The work for a validated request. Plain devices with the vectored strategy are planned on the
 * destination as they always were; stacks and the other strategies are remapped
 * (copy/strategies.ts) into pieces on the devices at the bottom and emulations where refused.
 */
function planWork(dst: BlockDevice, ranges: readonly CopyRange[], opts: CopyOptions, trace: Trace): WorkItem[] {
  if (opts.strategy === 'paired') return planPaired(dst, ranges, opts, trace);
  if (opts.strategy === 'token') return planToken(dst, ranges, opts, trace);
  if (involvesStack(dst, ranges)) return planVectored(dst, ranges, opts, trace);
  return planCopy(dst, ranges, opts).map((piece) => ({ dev: dst, piece, topBytes: piece.length }));
}

export async function blkdevCopy(
  dst: BlockDevice,
  ranges: readonly CopyRange[],
  options: Partial<CopyOptions> = {},
  trace: Trace = new Trace(),
  control?: CopyControl,
): Promise<CopyResult> {
  const opts: CopyOptions = { ...COPY_DEFAULTS, ...options };
  const requested = ranges.reduce((n, r) => n + (Number.isFinite(r.length) ? r.length : 0), 0);
  const firstDst = ranges.find((r) => r.length > 0)?.dstOffset ?? 0;
  trace.add('Q', dst.name, ReqOp.COPY, firstDst, requested, { info: `${ranges.length} range(s)` });

  const check = validateCopy(dst, ranges, opts);
  if (check.res < 0) {
    trace.add('C', dst.name, ReqOp.COPY, firstDst, requested, { res: check.res, info: check.message });
    return { res: check.res, bytes: 0, path: 'none', pieces: [], host_bytes: 0, reasons: [], message: check.message, trace };
  }
  if (check.total === 0) {
    trace.add('C', dst.name, ReqOp.COPY, firstDst, 0, { res: 0, info: 'empty copy' });
    return { res: 0, bytes: 0, path: 'none', pieces: [], host_bytes: 0, reasons: [], trace };
  }

  // A suspended stacked device holds the copy until it is resumed, as dm holds bios.
  for (const dev of new Set([dst, ...ranges.map((r) => r.src ?? dst)])) {
    if (!isStacked(dev) || !dev.whenActive) continue;
    if (!(await dev.whenActive())) {
      const message = `${dev.name} is suspended and holds as much as it may (resume it)`;
      trace.add('C', dst.name, ReqOp.COPY, firstDst, requested, { res: -Errno.EAGAIN, info: message });
      return { res: -Errno.EAGAIN, bytes: 0, path: 'none', pieces: [], host_bytes: 0, reasons: [], message, trace };
    }
  }

  let plan: WorkItem[] = [];
  let generations = new Map<StackedDevice, number>();
  const makePlan = (): void => {
    plan = planWork(dst, ranges, opts, trace);
    generations = new Map();
    for (const item of plan) for (const d of item.via ?? []) generations.set(d, d.mapGeneration ?? 0);
    if (plan.length > 1) {
      plan.forEach(({ dev, piece: p }, i) =>
        trace.add('X', dev.name, ReqOp.COPY, p.dstOffset, p.length, { info: `piece ${i + 1}/${plan.length}, ${p.sources.length} source(s), ${p.offload ? 'offload' : 'emulate'}` }),
      );
    }
  };
  makePlan();
  /** A device the plan was remapped through whose table changed since (null: the plan holds). */
  const staleOn = (gates: readonly StackedDevice[]): StackedDevice | null => gates.find((d) => (d.mapGeneration ?? 0) !== generations.get(d)) ?? null;

  const results: PieceResult[] = [];
  const reasons: string[] = [];
  const noteReason = (r: EmulationReason): void => {
    if (!reasons.includes(r.detail)) reasons.push(r.detail);
  };
  let bytes = 0;
  let hostBytes = 0;
  let failure = 0;
  const bounce = new Bounce();
  try {
    return await runPlan();
  } finally {
    bounce.release();
  }

  async function runPlan(): Promise<CopyResult> {
    let offloadedBytes = 0;
    let emulatedBytes = 0;
    let replans = 0;
    for (let i = 0; i < plan.length; i++) {
      const item = plan[i]!;
      const { piece } = item;
      if (control?.cancelled) {
        // Cancelled: stop at this piece boundary; earlier pieces stay copied.
        failure = -Errno.ECANCELED;
        trace.add('C', dst.name, ReqOp.COPY, piece.dstOffset, piece.length, { res: failure, info: 'cancelled before this piece' });
        break;
      }
      // The piece is in flight on every stacked device it was remapped through (a suspended one
      // holds it); a table that went live since the plan was made means planning again.
      const gates = item.via ?? [];
      const plannedAt = generations;
      if (gates.length && !(await enterGates(gates, plannedAt))) {
        failure = -Errno.EAGAIN;
        trace.add('C', dst.name, ReqOp.COPY, piece.dstOffset, piece.length, { res: failure, info: 'a suspended device below holds as much as it may' });
        break;
      }
      /** Plans the copy again from its first piece (copied pieces are copied again); false past the limit. */
      const replan = (stale: StackedDevice, why: string): boolean => {
        if (++replans > COPY_MAX_REPLANS) {
          failure = -Errno.EAGAIN;
          trace.add('C', dst.name, ReqOp.COPY, piece.dstOffset, piece.length, { res: failure, info: `tables changed under the copy ${COPY_MAX_REPLANS} times` });
          return false;
        }
        trace.add('X', stale.name, ReqOp.COPY, piece.dstOffset, piece.length, { info: `${why}: planned again (${replans}); copied pieces are copied again` });
        makePlan();
        results.length = 0;
        bytes = offloadedBytes = emulatedBytes = 0;
        i = -1;
        return true;
      };
      const stale = staleOn(gates);
      if (stale) {
        leaveGates(gates, plannedAt);
        if (replan(stale, `${stale.name} has another table or another copy map since the copy was planned`)) continue;
        break;
      }
      const m0 = trace.modeledNs();
      let r: PieceResult;
      let ranOn = item.dev;
      let entered = gates.length > 0;
      /** Which side's I/O failed below the targets (their end_io is told), or null. */
      let ioFailed: 'src' | 'dst' | null = null;
      try {
        if (piece.offload) {
          let res: number;
          if (item.planned) {
            trace.add('C', item.dev.name, ReqOp.COPY, piece.dstOffset, piece.length, { res: item.planned.res, info: item.planned.info });
            res = item.planned.res;
          } else {
            res = await submitBioWait(item.dev, { op: ReqOp.COPY, offset: piece.dstOffset, length: piece.length, sources: piece.sources, trace });
          }
          if (res >= 0) {
            r = { dst_offset: piece.dstOffset, length: piece.length, sources: piece.sources.length, path: 'offload', res, host_bytes: 0 };
          } else if (opts.fallback) {
            const why = item.planned ? item.planned.info : `offload failed with ${res} (${errnoName(res)})`;
            const reason: EmulationReason = { code: 'offload_failed', detail: `${why}; fell back to emulation` };
            const fb = item.fallback ?? { dev: item.dev, piece };
            ranOn = fb.dev;
            // A fallback on the top device goes through the stack as bios, which the devices hold themselves.
            if (item.fallback && entered) {
              leaveGates(gates, plannedAt);
              entered = false;
            }
            const e = await emulatePiece(fb.dev, fb.piece, reason, bounce, trace);
            r = e.result;
            // A fallback below the targets: a failed read or write there is theirs to hear of.
            if (e.failedAt && !item.fallback) ioFailed = e.failedAt === 'read' ? 'src' : 'dst';
          } else {
            r = { dst_offset: piece.dstOffset, length: piece.length, sources: piece.sources.length, path: 'offload', res, host_bytes: 0 };
            if (res === -Errno.EIO) ioFailed = 'dst';
          }
        } else {
          const e = await emulatePiece(item.dev, piece, piece.reason!, bounce, trace);
          r = e.result;
          // Emulated below the targets (between two legs' devices): a failed read or write is theirs to hear of.
          if (e.failedAt) ioFailed = e.failedAt === 'read' ? 'src' : 'dst';
        }
      } finally {
        if (entered) leaveGates(gates, plannedAt);
      }
      if (ranOn !== dst) r = { ...r, dev: ranOn.name };
      const modeled = trace.modeledNs() - m0;
      if (modeled > 0) r = { ...r, modeled_us: modeled / 1000 };
      if (r.reason) noteReason(r.reason);
      results.push(r);
      hostBytes += r.host_bytes;
      if (r.res < 0) {
        // A raid leg's device failed the piece: the target marks the leg dead, as for a write
        // through it, and the copy plans again around it (degraded, or refused with a reason).
        const told = ioFailed ? item.failed?.[ioFailed] ?? [] : [];
        for (const f of told) f();
        const changed = told.length ? staleOn(gates) : null;
        if (changed && replan(changed, `${ranOn.name} failed a piece of the copy (${errnoName(r.res)}) and ${changed.name} marked it dead`)) continue;
        if (failure === 0) failure = r.res;
        break;
      }
      if (r.path === 'offload') offloadedBytes += r.length;
      else emulatedBytes += r.length;
      bytes += item.topBytes;
      control?.onProgress?.(bytes, results.length, check.total);
    }

    const offloaded = results.some((p) => p.path === 'offload' && p.res >= 0);
    const emulated = results.some((p) => p.path === 'emulated');
    const path = offloaded && emulated ? 'mixed' : emulated ? 'emulated' : offloaded ? 'offload' : 'none';
    // On success every requested byte was copied (leg and parity pieces are not counted twice).
    if (failure === 0) bytes = check.total;
    const res = failure < 0 ? failure : bytes;
    // A stacked destination (dm-N) is the queue this request entered: its counters count it once,
    // with the bytes copied, as submitBio counts a read or write it remaps (the pieces below are
    // counted by the devices they ran on).
    if (isStacked(dst)) {
      dst.stats.ios.copy++;
      dst.stats.bytes.copy += bytes;
    }
    // One completion per request: when the device completed the whole request as one command
    // (or the emulation's one write did), that C is the request's, as the kernel traces one
    // block_rq_complete per request. A request carried out in pieces gets its own C here.
    if (!trace.lastCompletionIs(dst.name, firstDst, requested, res)) {
      trace.add('C', dst.name, ReqOp.COPY, firstDst, requested, { res, info: `${path}, ${results.length} piece(s)` });
    }
    return { res, bytes, path, pieces: results, host_bytes: hostBytes, reasons, trace, strategy: opts.strategy, offloaded_bytes: offloadedBytes, emulated_bytes: emulatedBytes };
  }
}

/** Times one copy is planned again because a table it was remapped through changed under it (a limit on everything). */
export const COPY_MAX_REPLANS = 16;

/**
 * Starts a piece on every stacked device it was remapped through: all at once or none, waiting
 * for a suspended one's resume with nothing held meanwhile (so a suspend of another one is not
 * kept waiting). False when a suspended device holds as much as it may.
 */
async function enterGates(gates: readonly StackedDevice[], planned: ReadonlyMap<StackedDevice, number>): Promise<boolean> {
  for (;;) {
    let k = 0;
    while (k < gates.length && (gates[k]!.startCopyPiece?.(planned.get(gates[k]!) ?? 0) ?? true)) k++;
    if (k === gates.length) return true;
    for (let j = 0; j < k; j++) gates[j]!.endCopyPiece?.(planned.get(gates[j]!) ?? 0);
    if (!((await gates[k]!.whenActive?.()) ?? true)) return false;
  }
}

function leaveGates(gates: readonly StackedDevice[], planned: ReadonlyMap<StackedDevice, number>): void {
  for (const d of gates) d.endCopyPiece?.(planned.get(d) ?? 0);
}

/**
 * Bounce buffers kept for reuse between requests (sizes rounded up to a power of two): an
 * emulated copy then costs its reads and writes, not a fresh zero-filled allocation each time.
 * Bounded in count and size (a limit on everything).
 */
const BOUNCE_POOL_MAX = 8;
const BOUNCE_POOL_MAX_BYTES = 16 * 1024 * 1024;
const bouncePool: Uint8Array[] = [];

/** The emulation bounce buffer of one request, reused for every piece, returned to the pool at the end. */
class Bounce {
  private buf: Uint8Array | null = null;
  get(size: number): Uint8Array {
    if (!this.buf || this.buf.length < size) {
      this.release();
      const i = bouncePool.findIndex((b) => b.length >= size);
      this.buf = i >= 0 ? bouncePool.splice(i, 1)[0]! : new Uint8Array(2 ** Math.ceil(Math.log2(Math.max(size, 4096))));
    }
    return this.buf.subarray(0, size);
  }
  release(): void {
    if (this.buf && this.buf.length <= BOUNCE_POOL_MAX_BYTES && bouncePool.length < BOUNCE_POOL_MAX) bouncePool.push(this.buf);
    this.buf = null;
  }
}

/** Reads every source of the piece into the bounce buffer, then writes it to the destination; a failure says which. */
async function emulatePiece(dst: BlockDevice, piece: CopyPiece, reason: EmulationReason, bounce: Bounce, trace: Trace): Promise<{ result: PieceResult; failedAt?: 'read' | 'write' }> {
  trace.add('E', dst.name, ReqOp.COPY, piece.dstOffset, piece.length, { info: `${reason.code}: ${reason.detail}` });
  const buf = bounce.get(piece.length);
  let host = 0;
  let at = 0;
  const base = { dst_offset: piece.dstOffset, length: piece.length, sources: piece.sources.length, path: 'emulated' as const, reason };
  for (const s of piece.sources) {
    const res = await submitBioWait(s.dev, { op: ReqOp.READ, offset: s.offset, length: s.length, data: buf.subarray(at, at + s.length), trace });
    if (res < 0) return { result: { ...base, res, host_bytes: host }, failedAt: 'read' };
    host += s.length;
    at += s.length;
  }
  const res = await submitBioWait(dst, { op: ReqOp.WRITE, offset: piece.dstOffset, length: piece.length, data: buf, trace });
  if (res < 0) return { result: { ...base, res, host_bytes: host }, failedAt: 'write' };
  host += piece.length;
  return { result: { ...base, res: piece.length, host_bytes: host } };
}
