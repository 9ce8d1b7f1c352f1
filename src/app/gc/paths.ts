/**
 * The GC copy paths and what each costs in commands and host bytes for one victim's moves:
 * - host:   read every run of valid blocks, write them at the cold log (two link crossings);
 * - copy:   REQ_OP_COPY through the copy engine: NVMe Copy (or SCSI XCOPY, tokens, emulation) with
 *           a command per destination extent cut by the device's copy limits (ranges per command,
 *           blocks per range and per command: NVMe MSRC, MSSRL, MCL);
 * - append: read the valid blocks, Zone Append them (the device picks the LBA; ZASL per command);
 * - izc:    ZNS+-style in-storage zone compaction: one command per destination zone carrying every
 *           source range of the victim; no host bytes.
 * On a lab device the same paths run through the lab (lab-mover.ts) and count what really ran.
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
  /** Sections freed for reuse (a zone reset, a discard, or on the tag-only device the tags cleared). */
  resets: number;
  /**
   * Commands the device was sent to free sections: zone resets (ZNS) or discards. Lab devices
   * only; the tag-only device sends none (its resets are not commands).
   */
  reset_commands: number;
  /** Bytes across the host link for GC (READ and WRITE payloads). */
  host_bytes: number;
  /** Source ranges the GC commands carried. */
  ranges: number;
}

export function newPathCounters(): PathCounters {
  return { commands: 0, reads: 0, writes: 0, copies: 0, appends: 0, compactions: 0, resets: 0, reset_commands: 0, host_bytes: 0, ranges: 0 };
}

/** The commands of each kind: together they are `commands`, on every path and backend. */
export const COMMAND_KINDS = ['reads', 'writes', 'copies', 'appends', 'compactions', 'reset_commands'] as const satisfies readonly (keyof PathCounters)[];

/** The kinds' sum; a run's `commands` must equal it (result.ts checks). */
export function commandKindsSum(c: PathCounters): number {
  let n = 0;
  for (const k of COMMAND_KINDS) n += c[k];
  return n;
}

/** The PathCounters fields, in one order (the worker mover publishes them in it). */
export const PATH_COUNTER_FIELDS = ['commands', 'reads', 'writes', 'copies', 'appends', 'compactions', 'resets', 'reset_commands', 'host_bytes', 'ranges'] as const satisfies readonly (keyof PathCounters)[];

/** Adds counters `c` to `into`. */
export function addPathCounters(into: PathCounters, c: PathCounters): void {
  for (const f of PATH_COUNTER_FIELDS) into[f] += c[f];
}

/** Splits a run of `len` blocks into commands of at most `max`. */
const cmds = (len: number, max: number): number => Math.ceil(len / max);

/**
 * A copy command's state as blocks are added to it: [blocks in the current source range, blocks
 * in the command, ranges in the command, commands so far].
 */
const copyState = new Float64Array(4);

/**
 * Adds `r` blocks that continue the current source range and destination extent to the copy
 * commands (copyState): a new range where the range reaches its length limit, a new command where
 * the command reaches its block limit, or its range limit as a range starts. Runs a chunk at a
 * time, not a block at a time.
 */
function continueCopy(r: number, lim: PathLimits): void {
  const st = copyState;
  let rangeLen = st[0]!;
  let inCmdBlocks = st[1]!;
  let inCmdRanges = st[2]!;
  let copyCmds = st[3]!;
  while (r > 0) {
    const quiet = Math.min(r, lim.rangeBlocks - rangeLen, lim.copyBlocks - inCmdBlocks);
    if (quiet > 0) {
      rangeLen += quiet;
      inCmdBlocks += quiet;
      r -= quiet;
      continue;
    }
    const newRange = rangeLen === lim.rangeBlocks;
    if (inCmdBlocks === lim.copyBlocks || (newRange && inCmdRanges === lim.copyRanges)) {
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
    r--;
  }
  st[0] = rangeLen;
  st[1] = inCmdBlocks;
  st[2] = inCmdRanges;
  st[3] = copyCmds;
}

/**
 * Counts one plan's commands on a path (the tag-only device's accounting), in one pass over the
 * moves: source runs (read commands, ranges), destination extents (a new one where the cold log
 * moved to another section: write and append commands) and, for copy, commands cut by ranges,
 * range length and command length. A block that continues both its source run and its
 * destination extent only extends them; the commands those blocks fill are counted a chunk at a
 * time where the run or extent ends (continueCopy).
 */
export function accountPlan(path: GcPathName, plan: MovePlan, lim: PathLimits, c: PathCounters): void {
  const n = plan.count;
  if (n === 0) return;
  const { src, dst } = plan;
  const sb = plan.sectionBlocks;
  const st = copyState;
  st.fill(0);
  let srcRuns = 0;
  let readCmds = 0;
  let run = 0;
  let ext = 0;
  let extLen = 0;
  let extBoundary = 0;
  let perExtWrites = 0;
  let perExtAppends = 0;
  let prevS = -2;
  let prevD = -2;
  // Blocks since the last run or extent boundary, after its first: not yet counted.
  let quiet = 0;
  for (let i = 0; i < n; i++) {
    const s = src[i]!;
    const d = dst[i]!;
    const contSrc = s === prevS + 1;
    // A destination extent ends where the destinations stop being consecutive or a section ends.
    const newExt = d !== prevD + 1 || d === extBoundary;
    prevS = s;
    prevD = d;
    if (contSrc && !newExt) {
      quiet++;
      continue;
    }
    if (quiet > 0) {
      continueCopy(quiet, lim);
      run += quiet;
      extLen += quiet;
      quiet = 0;
    }
    if (!contSrc && run > 0) {
      srcRuns++;
      readCmds += cmds(run, lim.ioBlocks);
      run = 0;
    }
    run++;
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
    // This block starts a source range (a new run or extent always does).
    if (newExt || st[1] === lim.copyBlocks || st[2] === lim.copyRanges) {
      st[3]!++;
      st[2] = 1;
      st[1] = 0;
    } else st[2]!++;
    st[0] = 1;
    st[1]!++;
  }
  if (quiet > 0) {
    continueCopy(quiet, lim);
    run += quiet;
    extLen += quiet;
  }
  srcRuns++;
  readCmds += cmds(run, lim.ioBlocks);
  perExtWrites += cmds(extLen, lim.ioBlocks);
  perExtAppends += cmds(extLen, lim.appendBlocks);
  addPlanCounts(path, { moves: n, srcRuns, readCmds, extents: ext, perExtWrites, perExtAppends, copyCmds: st[3]! }, c);
}

/** What one plan needs, counted: moves, source runs and their read commands, destination extents and their write and append commands, copy commands. */
export interface PlanCounts {
  readonly moves: number;
  readonly srcRuns: number;
  readonly readCmds: number;
  readonly extents: number;
  readonly perExtWrites: number;
  readonly perExtAppends: number;
  readonly copyCmds: number;
}

/** Adds a plan's counts to a path's counters: the commands that path sends, and its host bytes. */
export function addPlanCounts(path: GcPathName, k: PlanCounts, c: PathCounters): void {
  c.ranges += k.srcRuns;
  if (path === 'host' || path === 'append') {
    c.reads += k.readCmds;
    c.host_bytes += 2 * k.moves * GC_BLOCK_BYTES;
  }
  switch (path) {
    case 'host':
      c.writes += k.perExtWrites;
      c.commands += k.readCmds + k.perExtWrites;
      break;
    case 'append':
      c.appends += k.perExtAppends;
      c.commands += k.readCmds + k.perExtAppends;
      break;
    case 'copy':
      c.copies += k.copyCmds;
      c.commands += k.copyCmds;
      break;
    case 'izc':
      c.compactions += k.extents;
      c.commands += k.extents;
      break;
  }
}
