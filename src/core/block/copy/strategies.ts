/**
 * The three plumbing strategies (docs/architecture.md, docs/dm.md; facts in the block-copy reference): how a
 * copy request travels from the device it was issued on down to the devices that copy. Each
 * turns a validated request into work items; the engine (copy/engine.ts) runs them the same
 * way, so the same copy can be compared strategy by strategy.
 *
 * - vectored: one request, many sources, one destination. The engine remaps source and
 *   destination together (copy/stack.ts resolvePair) and gathers the bottom pieces per device.
 * - paired (the v20 series, May 2024): per range, the caller loops in chunks of the top
 *   device's copy_max_bytes (blkdev_copy_offload); each chunk is a REQ_OP_COPY_DST bio and a
 *   REQ_OP_COPY_SRC bio, each remapped down its own stack. Only dm-linear passes them, neither
 *   is split, and they must meet on one device to merge into one request: when they reach
 *   different devices the copy fails (-EXDEV here) and the engine falls back to emulation.
 * - token (Mikulas Patocka's REQ_OP_COPY_READ_TOKEN / WRITE_TOKEN): the source range is mapped
 *   down first and described by a token (bottom extents plus the data transforms above them);
 *   the write-token is then remapped down the destination stack, split and fanned out freely,
 *   and each bottom device accepts the part of the token it can copy from. A token cannot know
 *   the destination, so it names every in-sync raid1 leg of a range, and each destination
 *   device takes the one it can offload from.
 */
import type { BlockDevice } from '../device.js';
import type { CopyOptions, CopyRange, EmulationReason } from './types.js';
import { offloadRefusal } from './plan.js';
import { emulationItems, mapSide, partsToItems, resolvePair, chainRefusal, through, RemapBudget, type Part, type SideExtent, type WorkItem } from './stack.js';
import { ReqOp, SECTOR_SIZE } from '../ops.js';
import type { Trace } from '../trace.js';
import { Errno } from '../../util/errno.js';

/** Most chunks the paired strategy issues per request (a limit on everything). */
export const PAIRED_MAX_CHUNKS = 1 << 20;

function topRefusal(D: BlockDevice, S: BlockDevice): EmulationReason | null {
  // The user's cap in sysfs (copy_max_bytes = 0) disables offload through a stacked device.
  if (D.limits.max_user_copy_sectors === 0) return { code: 'no_offload', detail: `${D.name} has copy offload disabled (copy_max_bytes = 0)` };
  if (S !== D && S.limits.max_user_copy_sectors === 0) return { code: 'src_no_offload', detail: `source ${S.name} has copy offload disabled (copy_max_bytes = 0)` };
  return null;
}

export function planVectored(D: BlockDevice, ranges: readonly CopyRange[], opts: CopyOptions, trace: Trace): WorkItem[] {
  const budget = new RemapBudget();
  const parts: Part[] = [];
  for (const r of ranges) {
    if (r.length === 0) continue;
    const S = r.src ?? D;
    const top = topRefusal(D, S);
    if (top) parts.push({ kind: 'emulate', src: { dev: S, offset: r.srcOffset }, dst: { dev: D, offset: r.dstOffset }, length: r.length, reason: top, mirror: false, via: [] });
    else resolvePair({ trace, budget, out: parts }, S, r.srcOffset, D, r.dstOffset, r.length);
  }
  return partsToItems(parts, opts);
}

export function planPaired(D: BlockDevice, ranges: readonly CopyRange[], opts: CopyOptions, trace: Trace): WorkItem[] {
  const budget = new RemapBudget();
  const items: WorkItem[] = [];
  let chunks = 0;
  for (const r of ranges) {
    if (r.length === 0) continue;
    const S = r.src ?? D;
    const lbs = Math.max(D.limits.logical_block_size, S.limits.logical_block_size);
    const cap = Math.min(D.limits.max_copy_sectors, S.limits.max_copy_sectors) * SECTOR_SIZE;
    const chunk = Math.floor(Math.min(cap, opts.maxBytes) / lbs) * lbs;
    if (chunk === 0) {
      const which = D.limits.max_copy_sectors === 0 ? D : S;
      const reason: EmulationReason = { code: which === D ? 'no_offload' : 'src_no_offload', detail: `paired: ${which.name} has copy_max_bytes 0, so blkdev_copy_offload is not tried` };
      items.push(...emulationItems(D, r.dstOffset, S, r.srcOffset, r.length, reason, opts, false));
      continue;
    }
    for (let pos = 0; pos < r.length; pos += chunk) {
      const n = Math.min(chunk, r.length - pos);
      const a = r.srcOffset + pos;
      const b = r.dstOffset + pos;
      const top = { dev: D, piece: { dstOffset: b, length: n, sources: [{ dev: S, offset: a, length: n }], offload: false } };
      if (++chunks > PAIRED_MAX_CHUNKS) {
        items.push(...emulationItems(D, b, S, a, r.length - pos, { code: 'remap_limit', detail: `paired: more than ${PAIRED_MAX_CHUNKS} chunks` }, opts, false));
        break;
      }
      trace.add('Q', D.name, ReqOp.COPY_DST, b, n, { info: 'paired: COPY_DST' });
      trace.add('Q', S.name, ReqOp.COPY_SRC, a, n, { info: 'paired: COPY_SRC' });
      const dx: SideExtent[] = [];
      const sx: SideExtent[] = [];
      mapSide({ trace, budget, out: dx, role: 'dst', straight: true, strategy: 'paired' }, D, b, n);
      mapSide({ trace, budget, out: sx, role: 'src', straight: true, strategy: 'paired' }, S, a, n);
      const refused = dx.find((e) => e.reason) ?? sx.find((e) => e.reason);
      if (refused) {
        items.push(...emulationItems(D, b, S, a, n, refused.reason!, opts, false));
        continue;
      }
      const d = dx[0]!.loc!;
      const s = sx[0]!.loc!;
      const via = through(dx[0]!.via, ...sx[0]!.via);
      const failed = dx[0]!.failed || sx[0]!.failed ? { failed: { dst: dx[0]!.failed ? [dx[0]!.failed] : [], src: sx[0]!.failed ? [sx[0]!.failed] : [] } } : {};
      const piece = { dstOffset: d.offset, length: n, sources: [{ dev: s.dev, offset: s.offset, length: n }], offload: true };
      const fallback = { dev: D, piece: { ...top.piece, reason: { code: 'offload_failed', detail: '' } as EmulationReason } };
      if (d.dev !== s.dev) {
        items.push({ dev: d.dev, piece, fallback, topBytes: n, via, planned: { res: -Errno.EXDEV, info: `paired: COPY_DST reached ${d.dev.name}, COPY_SRC reached ${s.dev.name}; the pair cannot merge into one request` } });
        continue;
      }
      const refusal = offloadRefusal(d.dev, s.dev);
      if (refusal) {
        items.push(...emulationItems(D, b, S, a, n, refusal, opts, false));
        continue;
      }
      if (n > d.dev.limits.max_copy_sectors * SECTOR_SIZE) {
        items.push({ dev: d.dev, piece, fallback, topBytes: n, via, planned: { res: -Errno.EINVAL, info: `paired: ${n}-byte copy exceeds ${d.dev.name}'s copy_max_bytes and copy bios are not split` } });
        continue;
      }
      items.push({ dev: d.dev, piece, fallback, topBytes: n, via, ...failed });
    }
  }
  return items;
}

interface Interval {
  start: number;
  end: number;
  reason: EmulationReason;
}

/** Subtracts sorted, merged intervals from [start, end). */
function subtract(start: number, end: number, bad: readonly Interval[]): [number, number][] {
  const out: [number, number][] = [];
  let at = start;
  for (const iv of bad) {
    if (iv.end <= at || iv.start >= end) continue;
    if (iv.start > at) out.push([at, iv.start]);
    at = Math.max(at, iv.end);
  }
  if (at < end) out.push([at, end]);
  return out;
}

function merge(ivs: Interval[]): Interval[] {
  ivs.sort((x, y) => x.start - y.start);
  const out: Interval[] = [];
  for (const iv of ivs) {
    const last = out[out.length - 1];
    if (last && iv.start <= last.end) last.end = Math.max(last.end, iv.end);
    else out.push({ ...iv });
  }
  return out;
}

/** The cap a token pair's pieces are cut by: the smaller of its two sides' (userCopyCap). */
function tokenCap(s: SideExtent, d: SideExtent): { cap?: number } {
  const cap = Math.min(s.cap ?? Infinity, d.cap ?? Infinity);
  return Number.isFinite(cap) ? { cap } : {};
}

interface TokenPair {
  readonly s: SideExtent;
  readonly d: SideExtent;
  readonly start: number;
  end: number;
  /** Copies of the source the token named for this range, and why this one was taken. */
  readonly alternatives: number;
  readonly why: string;
}

/**
 * Pairs one bottom destination extent with the token's source extents, interval by interval.
 * Where the token names several copies of a range (raid1 legs), the destination device accepts
 * the one it can offload from, preferring its own device; a range no copy can serve raw (every
 * copy refused, or transformed otherwise) goes to `bad`.
 */
function pairToken(token: readonly SideExtent[], d: SideExtent, pairs: TokenPair[], bad: Interval[]): void {
  const dEnd = d.rel + d.length;
  const cands = token.filter((s) => s.rel < dEnd && s.rel + s.length > d.rel);
  const cuts = [...new Set([d.rel, dEnd, ...cands.flatMap((s) => [s.rel, s.rel + s.length])])].filter((x) => x >= d.rel && x <= dEnd).sort((x, y) => x - y);
  for (let i = 0; i + 1 < cuts.length; i++) {
    const start = cuts[i]!;
    const end = cuts[i + 1]!;
    const here = cands.filter((s) => s.rel <= start && s.rel + s.length >= end);
    const usable = here.filter((s) => !s.reason);
    if (usable.length === 0) {
      bad.push({ start, end, reason: here[0]?.reason ?? { code: 'remap_limit', detail: 'token: no source extent covers this range' } });
      continue;
    }
    const raw = usable.filter((s) => !chainRefusal(s, d, start));
    if (raw.length === 0) {
      bad.push({ start, end, reason: chainRefusal(usable[0]!, d, start)! });
      continue;
    }
    const dst = d.loc!.dev;
    const ordered = [...raw.filter((s) => s.loc!.dev === dst), ...raw.filter((s) => s.loc!.dev !== dst)];
    const refusals = ordered.map((s) => offloadRefusal(dst, s.loc!.dev));
    const k = refusals.findIndex((x) => x === null);
    const s = ordered[Math.max(0, k)]!;
    const why = k >= 0 ? `offloads${s.loc!.dev === dst ? ' (its own device)' : ''}` : `no copy offloads (${ordered.map((o, j) => `${o.loc!.dev.name}: ${refusals[j]!.detail}`).join('; ')})`;
    const last = pairs[pairs.length - 1];
    if (last && last.s === s && last.d === d && last.end === start) last.end = end;
    else pairs.push({ s, d, start, end, alternatives: here.length, why });
  }
}

export function planToken(D: BlockDevice, ranges: readonly CopyRange[], opts: CopyOptions, trace: Trace): WorkItem[] {
  const budget = new RemapBudget();
  const items: WorkItem[] = [];
  const parts: Part[] = [];
  for (const r of ranges) {
    if (r.length === 0) continue;
    const S = r.src ?? D;
    const top = topRefusal(D, S);
    if (top) {
      items.push(...emulationItems(D, r.dstOffset, S, r.srcOffset, r.length, top, opts, false));
      continue;
    }
    trace.add('Q', S.name, ReqOp.COPY_SRC, r.srcOffset, r.length, { info: 'token: READ_TOKEN' });
    const token: SideExtent[] = [];
    mapSide({ trace, budget, out: token, role: 'src', strategy: 'token', alternatives: true }, S, r.srcOffset, r.length);
    trace.add('Q', D.name, ReqOp.COPY_DST, r.dstOffset, r.length, { info: `token: WRITE_TOKEN (${token.length} extent(s))` });
    const writes: SideExtent[] = [];
    mapSide({ trace, budget, out: writes, role: 'dst', strategy: 'token' }, D, r.dstOffset, r.length);
    const bad: Interval[] = [];
    for (const e of writes) if (e.reason) bad.push({ start: e.rel, end: e.rel + e.length, reason: e.reason });
    const pairs: TokenPair[] = [];
    for (const d of writes) if (!d.reason) pairToken(token, d, pairs, bad);
    for (const p of pairs) {
      if (p.alternatives < 2) continue;
      const loc = p.s.loc!;
      trace.add('A', loc.dev.name, ReqOp.COPY_SRC, loc.offset + (p.start - p.s.rel), p.end - p.start, { info: `token: source ${loc.dev.name} (one of ${p.alternatives} copies) for ${p.d.loc!.dev.name}: ${p.why}` });
    }
    const merged = merge(bad);
    for (const iv of merged) items.push(...emulationItems(D, r.dstOffset + iv.start, S, r.srcOffset + iv.start, iv.end - iv.start, iv.reason, opts, false));
    for (const p of pairs) {
      for (const [x, y] of subtract(p.start, p.end, merged)) {
        parts.push({ kind: 'raw', src: { dev: p.s.loc!.dev, offset: p.s.loc!.offset + (x - p.s.rel) }, dst: { dev: p.d.loc!.dev, offset: p.d.loc!.offset + (x - p.d.rel) }, length: y - x, mirror: p.d.mirror, ...tokenCap(p.s, p.d), via: through(p.s.via, ...p.d.via), path: { via: [], ...(p.d.failed ? { dstFailed: p.d.failed } : {}), ...(p.s.failed ? { srcFailed: p.s.failed } : {}) } });
      }
    }
  }
  return [...items, ...partsToItems(parts, opts)];
}
