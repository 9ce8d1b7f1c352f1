/**
 * The copy engine: the one place where REQ_OP_COPY is validated, planned, offloaded or
 * emulated (SPDK's bdev layer does the same in spdk_bdev_copy_blocks: a native copy when the
 * module supports it, one generic read-then-write fallback otherwise). Drivers and targets only
 * declare capability (queue limits, copy domain, copyOffloadRefusal); they never emulate.
 *
 * Pieces run one after another with one I/O in flight, as the kernel's blkdev_copy_emulation
 * does, so a failure leaves every earlier piece copied and nothing after it touched.
 */
import type { BlockDevice } from './device.js';
import type { CopyOptions, CopyPiece, CopyRange, CopyResult, EmulationReason, PieceResult } from './copy-types.js';
import { COPY_DEFAULTS } from './copy-types.js';
import { validateCopy } from './copy-validate.js';
import { planCopy } from './copy-plan.js';
import { submitBioWait } from './submit.js';
import { ReqOp } from './ops.js';
import { Trace } from './trace.js';
import { errnoName } from '../util/errno.js';

export async function blkdevCopy(
  dst: BlockDevice,
  ranges: readonly CopyRange[],
  options: Partial<CopyOptions> = {},
  trace: Trace = new Trace(),
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

  const plan = planCopy(dst, ranges, opts);
  if (plan.length > 1) {
    plan.forEach((p, i) =>
      trace.add('X', dst.name, ReqOp.COPY, p.dstOffset, p.length, { info: `piece ${i + 1}/${plan.length}, ${p.sources.length} source(s), ${p.offload ? 'offload' : 'emulate'}` }),
    );
  }

  const results: PieceResult[] = [];
  const reasons: string[] = [];
  const noteReason = (r: EmulationReason): void => {
    if (!reasons.includes(r.detail)) reasons.push(r.detail);
  };
  let bytes = 0;
  let hostBytes = 0;
  let failure = 0;
  const bounce = new Bounce();

  for (const piece of plan) {
    let r: PieceResult;
    if (piece.offload) {
      const res = await submitBioWait(dst, { op: ReqOp.COPY, offset: piece.dstOffset, length: piece.length, sources: piece.sources, trace });
      if (res >= 0) {
        r = { dst_offset: piece.dstOffset, length: piece.length, sources: piece.sources.length, path: 'offload', res, host_bytes: 0 };
      } else if (opts.fallback) {
        const reason: EmulationReason = { code: 'offload_failed', detail: `offload failed with ${res} (${errnoName(res)}); fell back to emulation` };
        r = await emulatePiece(dst, piece, reason, bounce, trace);
      } else {
        r = { dst_offset: piece.dstOffset, length: piece.length, sources: piece.sources.length, path: 'offload', res, host_bytes: 0 };
      }
    } else {
      r = await emulatePiece(dst, piece, piece.reason!, bounce, trace);
    }
    if (r.reason) noteReason(r.reason);
    results.push(r);
    hostBytes += r.host_bytes;
    if (r.res < 0) {
      failure = r.res;
      break;
    }
    bytes += piece.length;
  }

  const offloaded = results.some((p) => p.path === 'offload' && p.res >= 0);
  const emulated = results.some((p) => p.path === 'emulated');
  const path = offloaded && emulated ? 'mixed' : emulated ? 'emulated' : offloaded ? 'offload' : 'none';
  const res = failure < 0 ? failure : bytes;
  trace.add('C', dst.name, ReqOp.COPY, firstDst, requested, { res, info: `${path}, ${results.length} piece(s)` });
  return { res, bytes, path, pieces: results, host_bytes: hostBytes, reasons, trace };
}

/** The emulation bounce buffer, allocated on first use and reused for every piece of a request. */
class Bounce {
  private buf: Uint8Array | null = null;
  get(size: number): Uint8Array {
    if (!this.buf || this.buf.length < size) this.buf = new Uint8Array(size);
    return this.buf.subarray(0, size);
  }
}

/** Reads every source of the piece into the bounce buffer, then writes it to the destination. */
async function emulatePiece(dst: BlockDevice, piece: CopyPiece, reason: EmulationReason, bounce: Bounce, trace: Trace): Promise<PieceResult> {
  trace.add('E', dst.name, ReqOp.COPY, piece.dstOffset, piece.length, { info: `${reason.code}: ${reason.detail}` });
  const buf = bounce.get(piece.length);
  let host = 0;
  let at = 0;
  const base = { dst_offset: piece.dstOffset, length: piece.length, sources: piece.sources.length, path: 'emulated' as const, reason };
  for (const s of piece.sources) {
    const res = await submitBioWait(s.dev, { op: ReqOp.READ, offset: s.offset, length: s.length, data: buf.subarray(at, at + s.length), trace });
    if (res < 0) return { ...base, res, host_bytes: host };
    host += s.length;
    at += s.length;
  }
  const res = await submitBioWait(dst, { op: ReqOp.WRITE, offset: piece.dstOffset, length: piece.length, data: buf, trace });
  if (res < 0) return { ...base, res, host_bytes: host };
  host += piece.length;
  return { ...base, res: piece.length, host_bytes: host };
}
