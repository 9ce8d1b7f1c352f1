/**
 * Copies through stacked devices: the part of the copy engine that remaps a copy down a dm
 * stack from what each target declares (remap.ts: copyMap), and turns the result into work
 * items the engine runs (offloaded COPY bios on the devices at the bottom, or emulation at
 * the level where a target refused). Nothing here moves data; copy/engine.ts does.
 *
 * Shared by the three plumbing strategies (copy/strategies.ts). The `vectored` strategy remaps
 * source and destination together, level by level (resolvePair), so it can pick the raid1
 * source leg each destination leg can offload from (copy/source-choice.ts) and pair raid5 full
 * stripes.
 */
import type { BlockDevice } from '../device.js';
import type { CopySource } from '../bio.js';
import type { CopyOptions, CopyPiece, CopyRange, EmulationReason } from './types.js';
import { emulationChunk, planCopy, userCopyCap } from './plan.js';
import { best, choiceInfo, noCopyReason, preferenceOrder, trial, type TraceLike } from './source-choice.js';
import { isStacked, REMAP_MAX_DEPTH, REMAP_MAX_EXTENTS, type CopyExtent, type DataTransform, type LowerLocation, type StackedDevice } from '../remap.js';
import { ReqOp, SECTOR_SIZE } from '../ops.js';
import type { Trace } from '../trace.js';

/** A piece of work for the engine. */
export interface WorkItem {
  /** The device the piece runs on (a bottom device for an offload, any level for emulation). */
  readonly dev: BlockDevice;
  readonly piece: CopyPiece;
  /** What to emulate when the offload fails (default: the piece itself on `dev`). */
  readonly fallback?: { readonly dev: BlockDevice; readonly piece: CopyPiece };
  /** The offload is known to fail where the bios meet (paired strategy): result and why. */
  readonly planned?: { readonly res: number; readonly info: string };
  /** Bytes of the request's destination this item completes (0 for a second raid1 leg). */
  readonly topBytes: number;
  /**
   * The stacked devices the piece was remapped through above the device its bios go to: the
   * piece is in flight on each of them while it runs (a dm suspend waits for it; a suspended
   * one holds it), as a bio remapped through a dm stack is.
   */
  readonly via?: readonly StackedDevice[];
  /**
   * For an offloaded piece: the targets' end_io of the locations it writes (`dst`) and reads
   * (`src`): an I/O error there is told to them (a raid leg is marked dead), and the copy plans again.
   */
  readonly failed?: { readonly dst: readonly (() => void)[]; readonly src: readonly (() => void)[] };
}

/** Where a remap is, for the parts it makes: the stacked devices above, and the innermost targets' end_io of each side. */
export interface RemapPath {
  readonly via: readonly StackedDevice[];
  readonly dstFailed?: () => void;
  readonly srcFailed?: () => void;
}

const TOP: RemapPath = { via: [] };

/** `via` with the stacked ones of `devs` added (each once). */
export function through(via: readonly StackedDevice[], ...devs: BlockDevice[]): readonly StackedDevice[] {
  const add = devs.filter((d): d is StackedDevice => isStacked(d) && !via.includes(d));
  return add.length ? [...via, ...add] : via;
}

/** A raw copy between two bottom devices, or an emulation at some level. */
export type Part =
  | { readonly kind: 'raw'; readonly src: LowerLocation; readonly dst: LowerLocation; readonly length: number; readonly mirror: boolean; readonly cap?: number; readonly via: readonly StackedDevice[]; readonly path?: RemapPath }
  | { readonly kind: 'emulate'; readonly src: LowerLocation; readonly dst: LowerLocation; readonly length: number; readonly reason: EmulationReason; readonly mirror: boolean; readonly via: readonly StackedDevice[] };

/** Counts remap work per request (a limit on everything). */
export class RemapBudget {
  extents = 0;
  spend(): boolean {
    return ++this.extents <= REMAP_MAX_EXTENTS;
  }
}

const identity = (dev: BlockDevice, offset: number, length: number): CopyExtent => ({ kind: 'remap', length, target: '', copies: [{ dev, offset }] });

const limitReason: EmulationReason = { code: 'remap_limit', detail: `remapping exceeded ${REMAP_MAX_DEPTH} levels or ${REMAP_MAX_EXTENTS} extents` };

export function sameTransform(a: DataTransform | undefined, b: DataTransform | undefined): boolean {
  if (!a || !b) return a === b;
  return a.id === b.id && a.tweak === b.tweak && a.unit === b.unit;
}

function transformReason(s: DataTransform | undefined, d: DataTransform | undefined): EmulationReason {
  const what = !s || !d ? 'only one side is encrypted' : s.id !== d.id ? 'different keys or ciphers' : `IV sectors differ (${s.tweak} vs ${d.tweak})`;
  return { code: 'transform', detail: `crypt: a raw copy would not decrypt to the source's plaintext (${what}); emulated through decrypt and encrypt` };
}

/** Emits an 'A' (remap) event: `lower` receives what `from` had at `fromOffset`. */
export function traceRemap(trace: TraceLike, op: ReqOp, lower: LowerLocation, length: number, from: BlockDevice, fromOffset: number, target: string): void {
  trace.add('A', lower.dev.name, op, lower.offset, length, { info: `<- ${from.name} ${fromOffset / SECTOR_SIZE}${target ? ` ${target}` : ''}`, from: from.name, fromSector: Math.floor(fromOffset / SECTOR_SIZE) });
}

/** Why a stacked device with a user copy_max_bytes of 0 refuses offload through it. */
function capReason(devs: readonly BlockDevice[]): EmulationReason {
  const d = devs.find((x) => isStacked(x) && x.limits.max_user_copy_sectors === 0);
  return { code: 'no_offload', detail: `${d?.name ?? 'a stacked device'} has copy offload disabled (copy_max_bytes = 0)` };
}

/** What stays the same through one vectored remap: where trace events and parts go, and its budget. */
export interface PairWalk {
  readonly trace: TraceLike;
  readonly budget: RemapBudget;
  readonly out: Part[];
}

/**
 * Where a remap walk stands, carried one level down: `mirror` (a second raid1 leg: its bytes do
 * not complete the request), the stacked devices above and their targets' end_io (`path`), the
 * depth, and `cap`, the smallest user copy_max_bytes of the stacked devices above (userCopyCap),
 * carried to the raw parts so their pieces are cut by it.
 */
export interface PairLevel {
  readonly mirror: boolean;
  readonly path: RemapPath;
  readonly depth: number;
  readonly cap: number;
}

const TOP_LEVEL: PairLevel = { mirror: false, path: TOP, depth: 0, cap: Infinity };

/**
 * The vectored remap: source S at `a` and destination D at `b`, `length` bytes, walked down both
 * stacks together. Appends raw parts (bottom device to bottom device) and emulation parts to
 * `walk.out`, each with the stacked devices above it and the innermost targets' end_io.
 */
export function resolvePair(walk: PairWalk, S: BlockDevice, a: number, D: BlockDevice, b: number, length: number, level: PairLevel = TOP_LEVEL): void {
  const { trace, budget, out } = walk;
  const { mirror, path, depth } = level;
  const { via } = path;
  const emulate = (pos: number, n: number, reason: EmulationReason, m: boolean): void => {
    out.push({ kind: 'emulate', src: { dev: S, offset: a + pos }, dst: { dev: D, offset: b + pos }, length: n, reason, mirror: m, via });
  };
  if (!isStacked(S) && !isStacked(D)) {
    out.push({ kind: 'raw', src: { dev: S, offset: a }, dst: { dev: D, offset: b }, length, mirror, via, path, ...(Number.isFinite(level.cap) ? { cap: level.cap } : {}) });
    return;
  }
  const below = through(via, S, D);
  const next = (d: LowerLocation, s: LowerLocation): RemapPath => {
    const dstFailed = d.failed ?? path.dstFailed;
    const srcFailed = s.failed ?? path.srcFailed;
    return { via: below, ...(dstFailed ? { dstFailed } : {}), ...(srcFailed ? { srcFailed } : {}) };
  };
  if (depth >= REMAP_MAX_DEPTH) return emulate(0, length, limitReason, mirror);
  const cap = Math.min(level.cap, userCopyCap(S, D));
  if (cap === 0) return emulate(0, length, capReason([S, D]), mirror);
  const down = (d: LowerLocation, s: LowerLocation, m: boolean): PairLevel => ({ mirror: m, path: next(d, s), depth: depth + 1, cap });
  for (let pos = 0; pos < length; ) {
    if (!budget.spend()) return emulate(pos, length - pos, limitReason, mirror);
    const left = length - pos;
    const dE = isStacked(D) ? D.copyMap(b + pos, left, 'dst') : identity(D, b + pos, left);
    const sE = isStacked(S) ? S.copyMap(a + pos, dE.length, 'src', dE.kind === 'stripe' ? dE.layout : undefined) : identity(S, a + pos, dE.length);
    const n = Math.min(dE.length, sE.length);
    if (dE.kind === 'refuse') emulate(pos, n, dE.reason, mirror);
    else if (sE.kind === 'refuse') emulate(pos, n, sE.reason, mirror);
    else if (dE.kind === 'stripe' || sE.kind === 'stripe') {
      if (dE.kind === 'stripe' && sE.kind === 'stripe' && sE.layout === dE.layout && n === dE.length && n === sE.length) {
        dE.segments.forEach((ds, i) => {
          const ss = sE.segments[i]!;
          traceRemap(trace, ReqOp.COPY, ds, ds.length, D, b + pos, `${dE.target} stripe ${i}`);
          traceRemap(trace, ReqOp.COPY_SRC, ss, ss.length, S, a + pos, `${sE.target} stripe ${i}`);
          resolvePair(walk, ss.dev, ss.offset, ds.dev, ds.offset, ds.length, down(ds, ss, mirror));
        });
      } else {
        emulate(pos, n, { code: 'target_refused', detail: `${dE.target}: a full-stripe copy needs a source stripe of the same geometry (parity is copied with it); otherwise parity must be recomputed` }, mirror);
      }
    } else if (!sameTransform(sE.transform, dE.transform)) {
      emulate(pos, n, transformReason(sE.transform, dE.transform), mirror);
    } else {
      dE.copies.forEach((dc, k) => {
        if (dE.target) traceRemap(trace, ReqOp.COPY, dc, n, D, b + pos, dE.target);
        const m = mirror || k > 0;
        if (sE.copies.length === 1) {
          const sc = sE.copies[0]!;
          if (sE.target) traceRemap(trace, ReqOp.COPY_SRC, sc, n, S, a + pos, sE.target);
          resolvePair(walk, sc.dev, sc.offset, dc.dev, dc.offset, n, down(dc, sc, m));
          return;
        }
        // Several copies of the source (raid1 legs): each tried; the one this destination can offload from wins.
        const trials = preferenceOrder(sE.copies, dc.dev).map((sc) => trial<Part>(sc, (rec, parts) => resolvePair({ trace: rec, budget, out: parts }, sc.dev, sc.offset, dc.dev, dc.offset, n, down(dc, sc, m))));
        const chosen = best(trials);
        if (chosen.offloadable === 0) {
          const reason = noCopyReason(sE.target, trials, dc.dev);
          traceRemap(trace, ReqOp.COPY_SRC, chosen.copy, n, S, a + pos, `${sE.target} source ${chosen.copy.dev.name}: ${reason.detail}; emulated`);
          // The emulation reads through S itself: its target balances the reads and hears of a
          // leg that fails one (marks it dead and reads another), as a host read would.
          out.push({ kind: 'emulate', src: { dev: S, offset: a + pos }, dst: dc, length: n, reason, mirror: m, via: through(via, D) });
          return;
        }
        traceRemap(trace, ReqOp.COPY_SRC, chosen.copy, n, S, a + pos, choiceInfo(sE.target, chosen, trials, dc.dev, n));
        chosen.recorder.replay(trace);
        out.push(...chosen.parts);
      });
    }
    pos += n;
  }
}

/** One side of a copy mapped to the bottom on its own (token and paired strategies). */
export interface SideExtent {
  /** Offset from the start of the mapped range. */
  readonly rel: number;
  readonly length: number;
  readonly loc?: LowerLocation;
  readonly transforms: readonly DataTransform[];
  readonly reason?: EmulationReason;
  readonly mirror: boolean;
  /** The smallest user copy_max_bytes of the stacked devices above `loc` (absent: none written). */
  readonly cap?: number;
  /** The stacked devices above `loc` (or above the level that refused). */
  readonly via: readonly StackedDevice[];
  /** The innermost target's end_io for `loc` (a raid leg), if any. */
  readonly failed?: () => void;
}

/** What stays the same through one side's remap: where events and extents go, its budget and strategy. */
export interface SideWalk {
  readonly trace: Trace;
  readonly budget: RemapBudget;
  readonly out: SideExtent[];
  readonly role: 'src' | 'dst';
  /** Paired strategy: only dm-linear passes, and an extent may not be split. */
  readonly straight?: boolean;
  /** Source side: every copy of a range (raid1 legs), for a reader to choose between. */
  readonly alternatives?: boolean;
  readonly strategy: string;
}

/** Where a side's remap stands, carried one level down (see PairLevel); `rel`: offset in the mapped range. */
export interface SideLevel {
  readonly rel: number;
  readonly transforms: readonly DataTransform[];
  readonly mirror: boolean;
  readonly via: readonly StackedDevice[];
  readonly depth: number;
  readonly failed?: () => void;
  readonly cap: number;
}

const SIDE_TOP: SideLevel = { rel: 0, transforms: [], mirror: false, via: [], depth: 0, cap: Infinity };

/**
 * Maps [off, off+length) of `dev` to the bottom devices. For role 'dst' every copy (raid1
 * fan-out); for 'src' the first copy, or with `alternatives` every copy, extents of the same
 * range that a reader may choose between (a token naming each in-sync raid1 leg).
 */
export function mapSide(walk: SideWalk, dev: BlockDevice, off: number, length: number, level: SideLevel = SIDE_TOP): void {
  const { trace, budget, out, role } = walk;
  const { rel, transforms, mirror, via, depth, failed } = level;
  if (!isStacked(dev)) {
    out.push({ rel, length, loc: { dev, offset: off }, transforms, mirror, via, ...(failed ? { failed } : {}), ...(Number.isFinite(level.cap) ? { cap: level.cap } : {}) });
    return;
  }
  const refuse = (pos: number, n: number, reason: EmulationReason): void => {
    out.push({ rel: rel + pos, length: n, transforms, reason, mirror, via });
  };
  const below = through(via, dev);
  if (depth >= REMAP_MAX_DEPTH) return refuse(0, length, limitReason);
  const cap = Math.min(level.cap, userCopyCap(dev));
  if (cap === 0) return refuse(0, length, capReason([dev]));
  for (let pos = 0; pos < length; ) {
    if (!budget.spend()) return refuse(pos, length - pos, limitReason);
    const e = dev.copyMap(off + pos, length - pos, role);
    const n = e.length;
    if (e.kind === 'refuse' && !walk.straight) refuse(pos, n, e.reason);
    else if (walk.straight && e.target !== 'linear') {
      refuse(pos, n, { code: 'strategy_refused', detail: `${walk.strategy}: ${e.target} target does not pass copy bios (only dm-linear does in the 2024 series)` });
    } else if (e.kind === 'refuse') refuse(pos, n, e.reason);
    else if (e.kind === 'stripe') {
      refuse(pos, n, { code: 'strategy_refused', detail: `${walk.strategy}: ${e.target} full-stripe copy needs the source stripe alongside the destination (only the vectored strategy sees both)` });
    } else if (walk.straight && n < length - pos) {
      refuse(pos, length - pos, { code: 'strategy_refused', detail: `${walk.strategy}: the copy bio crosses a ${dev.name} target boundary and copy bios are not split` });
      return;
    } else {
      const t = e.transform ? [...transforms, e.transform] : transforms;
      const copies = role === 'src' && !walk.alternatives ? e.copies.slice(0, 1) : e.copies;
      copies.forEach((c, k) => {
        traceRemap(trace, role === 'src' ? ReqOp.COPY_SRC : ReqOp.COPY_DST, c, n, dev, off + pos, e.target);
        const f = c.failed ?? failed;
        mapSide(walk, c.dev, c.offset, n, { rel: rel + pos, transforms: t, mirror: mirror || k > 0, via: below, depth: depth + 1, ...(f ? { failed: f } : {}), cap });
      });
    }
    pos += n;
  }
}

/** The transform at `rel` of a side extent's level `i` (its tweak advanced from the extent's start). */
function transformAt(x: SideExtent, i: number, rel: number): DataTransform | undefined {
  const t = x.transforms[i];
  return t && { ...t, tweak: t.tweak + (rel - x.rel) / t.unit };
}

/** Null when a raw copy from `s` to `d` at `rel` is correct for every transform level, else why not. */
export function chainRefusal(s: SideExtent, d: SideExtent, rel: number): EmulationReason | null {
  for (let i = 0; i < Math.max(s.transforms.length, d.transforms.length); i++) {
    const ts = transformAt(s, i, rel);
    const td = transformAt(d, i, rel);
    if (!sameTransform(ts, td)) return transformReason(ts, td);
  }
  return null;
}

/** Emulation pieces for `length` bytes from S at `a` to D at `b`, cut to the bounce buffer; `via`: the stacked devices above S and D. */
export function emulationItems(D: BlockDevice, b: number, S: BlockDevice, a: number, length: number, reason: EmulationReason, opts: CopyOptions, mirror: boolean, via: readonly StackedDevice[] = []): WorkItem[] {
  const chunk = emulationChunk(D, [S], opts.emulationBufferBytes);
  const items: WorkItem[] = [];
  for (let pos = 0; pos < length; pos += chunk) {
    const n = Math.min(chunk, length - pos);
    const sources: CopySource[] = [{ dev: S, offset: a + pos, length: n }];
    items.push({ dev: D, piece: { dstOffset: b + pos, length: n, sources, offload: false, reason }, topBytes: mirror ? 0 : n, ...(via.length ? { via } : {}) });
  }
  return items;
}

/** The end_io of the parts (sorted by destination) a piece of [start, +length) covers. */
function failedOf(group: readonly Extract<Part, { kind: 'raw' }>[], start: number, length: number): WorkItem['failed'] {
  let lo = 0;
  let hi = group.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (group[mid]!.dst.offset + group[mid]!.length <= start) lo = mid + 1;
    else hi = mid;
  }
  const dst = new Set<() => void>();
  const src = new Set<() => void>();
  for (let i = lo; i < group.length && group[i]!.dst.offset < start + length; i++) {
    const p = group[i]!.path;
    if (p?.dstFailed) dst.add(p.dstFailed);
    if (p?.srcFailed) src.add(p.srcFailed);
  }
  return dst.size || src.size ? { dst: [...dst], src: [...src] } : undefined;
}

/**
 * Turns parts into work items: emulation parts as they are; raw parts grouped by bottom
 * destination device and planned there as the plain engine plans (gathering contiguous
 * destinations into many-sources pieces, cutting by that device's copy limits).
 */
export function partsToItems(parts: readonly Part[], opts: CopyOptions): WorkItem[] {
  const items: WorkItem[] = [];
  // Raw parts grouped by bottom destination device and by the cap of the stacks above them.
  const groups = new Map<BlockDevice, Map<number, Extract<Part, { kind: 'raw' }>[]>>();
  // Emulation parts that continue each other on both sides (a partial-stripe run) go as one.
  const emus: Extract<Part, { kind: 'emulate' }>[] = [];
  for (const p of parts) {
    if (p.kind !== 'emulate') continue;
    const last = emus[emus.length - 1];
    if (last && last.dst.dev === p.dst.dev && last.src.dev === p.src.dev && last.dst.offset + last.length === p.dst.offset && last.src.offset + last.length === p.src.offset && last.reason.detail === p.reason.detail && last.mirror === p.mirror) {
      emus[emus.length - 1] = { ...last, length: last.length + p.length, via: through(last.via, ...p.via) };
    } else emus.push(p);
  }
  for (const p of emus) items.push(...emulationItems(p.dst.dev, p.dst.offset, p.src.dev, p.src.offset, p.length, p.reason, opts, p.mirror, p.via));
  for (const p of parts) {
    if (p.kind === 'emulate') continue;
    else {
      const byCap = groups.get(p.dst.dev) ?? new Map<number, Extract<Part, { kind: 'raw' }>[]>();
      const cap = p.cap ?? Infinity;
      const group = byCap.get(cap);
      if (group) group.push(p);
      else byCap.set(cap, [p]);
      groups.set(p.dst.dev, byCap);
    }
  }
  for (const [dev, byCap] of groups) {
    for (const [cap, group] of byCap) {
      group.sort((x, y) => x.dst.offset - y.dst.offset);
      const mirror = group.every((p) => p.mirror);
      const via = group.reduce<readonly StackedDevice[]>((v, p) => through(v, ...p.via), []);
      const ranges: CopyRange[] = group.map((p) => ({ src: p.src.dev, srcOffset: p.src.offset, dstOffset: p.dst.offset, length: p.length }));
      const anyFailed = group.some((p) => p.path?.dstFailed || p.path?.srcFailed);
      for (const piece of planCopy(dev, ranges, opts, cap)) {
        const failed = anyFailed ? failedOf(group, piece.dstOffset, piece.length) : undefined;
        items.push({ dev, piece, topBytes: mirror ? 0 : piece.length, ...(via.length ? { via } : {}), ...(failed ? { failed } : {}) });
      }
    }
  }
  return items;
}
