/**
 * The GC copy paths and what each costs in commands and host bytes for one victim's moves:
 * - host:   read every run of valid blocks, write them at the cold log (two link crossings);
 * - copy:   REQ_OP_COPY through the copy engine: NVMe Copy (or SCSI XCOPY, tokens, emulation) with
 *           a command per destination extent cut by the device's copy limits (ranges per command,
 *           blocks per range and per command: NVMe MSRC, MSSRL, MCL);
 * - append: read the valid blocks, Zone Append them (the device picks the LBA; ZASL per command);
 * - izc:    ZNS+-style in-storage zone compaction: one command per destination zone carrying every
 *           source range of the victim; no host bytes.
 * On a lab device the same paths run through the lab (lab-backend.ts) and count what really ran.
 */
import { GC_BLOCK_BYTES } from './constants.js';
import type { MovePlan } from './lfs.js';

export type GcPathName = 'host' | 'copy' | 'append' | 'izc';
export const GC_PATHS: readonly GcPathName[] = ['host', 'copy', 'append', 'izc'];

/** Command limits of the device (defaults: the lab's NVMe defaults, QEMU's: MDTS 512 KiB, MSRC 127, MSSRL/MCL 128 blocks). */
export interface PathLimits {
  /** Blocks per READ/WRITE command (MDTS). */
  readonly ioBlocks: number;
  /** Source ranges per copy command (MSRC + 1). */
  readonly copyRanges: number;
  /** Blocks per source range (MSSRL) and per copy command (MCL). */
  readonly rangeBlocks: number;
  readonly copyBlocks: number;
  /** Blocks per Zone Append (ZASL). */
  readonly appendBlocks: number;
}

export const DEFAULT_PATH_LIMITS: PathLimits = { ioBlocks: 128, copyRanges: 128, rangeBlocks: 128, copyBlocks: 128, appendBlocks: 128 };

export interface PathCounters {
  commands: number;
  reads: number;
  writes: number;
  copies: number;
  appends: number;
  compactions: number;
  resets: number;
  /** Bytes across the host link for GC (READ and WRITE payloads). */
  host_bytes: number;
  /** Source ranges the GC commands carried. */
  ranges: number;
}

export function newPathCounters(): PathCounters {
  return { commands: 0, reads: 0, writes: 0, copies: 0, appends: 0, compactions: 0, resets: 0, host_bytes: 0, ranges: 0 };
}

/** Splits a run of `len` blocks into commands of at most `max`. */
const cmds = (len: number, max: number): number => Math.ceil(len / max);

/**
 * Counts one plan's commands on a path (the tag-only device's accounting), in one pass over the
 * moves: source runs (read commands, ranges), destination extents (a new one where the cold log
 * moved to another section: write and append commands) and, for copy, commands cut by ranges,
 * range length and command length.
 */
export function accountPlan(path: GcPathName, plan: MovePlan, lim: PathLimits, c: PathCounters): void {
  const n = plan.count;
  if (n === 0) return;
  const { src, dst } = plan;
  const sb = plan.sectionBlocks;
  let srcRuns = 0;
  let readCmds = 0;
  let run = 0;
  let copyCmds = 0;
  let ext = 0;
  let extLen = 0;
  let extBoundary = 0;
  let inCmdRanges = 0;
  let inCmdBlocks = 0;
  let rangeLen = 0;
  let perExtWrites = 0;
  let perExtAppends = 0;
  let prevS = -2;
  let prevD = -2;
  for (let i = 0; i < n; i++) {
    const s = src[i]!;
    const d = dst[i]!;
    const contSrc = s === prevS + 1;
    if (!contSrc && run > 0) {
      srcRuns++;
      readCmds += cmds(run, lim.ioBlocks);
      run = 0;
    }
    run++;
    // A destination extent ends where the destinations stop being consecutive or a section ends.
    const newExt = d !== prevD + 1 || d === extBoundary;
    if (newExt) {
      if (ext > 0) {
        perExtWrites += cmds(extLen, lim.ioBlocks);
        perExtAppends += cmds(extLen, lim.appendBlocks);
      }
      ext++;
      extLen = 0;
      extBoundary = d - (d % sb) + sb;
    }
    extLen++;
    const newRange = newExt || !contSrc || rangeLen === lim.rangeBlocks;
    if (newExt || inCmdBlocks === lim.copyBlocks || (newRange && inCmdRanges === lim.copyRanges)) {
      copyCmds++;
      inCmdRanges = 1;
      inCmdBlocks = 0;
      rangeLen = 0;
    } else if (newRange) {
      inCmdRanges++;
      rangeLen = 0;
    }
    rangeLen++;
    inCmdBlocks++;
    prevS = s;
    prevD = d;
  }
  srcRuns++;
  readCmds += cmds(run, lim.ioBlocks);
  perExtWrites += cmds(extLen, lim.ioBlocks);
  perExtAppends += cmds(extLen, lim.appendBlocks);
  c.ranges += srcRuns;
  if (path === 'host' || path === 'append') {
    c.reads += readCmds;
    c.host_bytes += 2 * n * GC_BLOCK_BYTES;
  }
  switch (path) {
    case 'host':
      c.writes += perExtWrites;
      c.commands += readCmds + perExtWrites;
      break;
    case 'append':
      c.appends += perExtAppends;
      c.commands += readCmds + perExtAppends;
      break;
    case 'copy':
      c.copies += copyCmds;
      c.commands += copyCmds;
      break;
    case 'izc':
      c.compactions += ext;
      c.commands += ext;
      break;
  }
}
