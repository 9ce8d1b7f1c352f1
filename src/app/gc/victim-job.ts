/**
 * A victim job: what the log-structured layer decides about one victim, in a few words of
 * (possibly shared) memory, so that whoever moves the blocks (a mover, mover.ts: this thread or
 * the worker's on the tag-only device; the lab mover on a lab device) needs nothing else from the
 * layer. The layer picks the victim, copies its valid bitmap (the snapshot: the blocks valid at
 * selection, which a user write may invalidate a moment later), allocates the destinations in the
 * cold log (at most two extents: the rest of the open cold section and the start of the next),
 * and frees the section; the job expands into a plan with the owners of the snapshot's blocks
 * (from the device's tags, or the layer's own summary on a lab device), and the mover moves them.
 */
import { GcIntegrityError, TAG_LBA_MASK } from './tag.js';
import type { MovePlan } from './lfs.js';

/** Word offsets in a job. */
export const JOB = {
  VICTIM: 0,
  /** Valid blocks at selection: the moves. */
  COUNT: 1,
  /** Destination extents: first physical block and length of each (the second may be empty). */
  EXT0: 2,
  LEN0: 3,
  EXT1: 4,
  LEN1: 5,
  /** Blocks the GC moved before this job (two 32-bit halves: a terabyte run moves billions). */
  BEFORE_LO: 6,
  BEFORE_HI: 7,
  /** Set (atomically) by the mover's worker as it starts the job. */
  STARTED: 8,
  /** The snapshot: bit i of word BITS + i/32 is block i of the section. */
  BITS: 9,
} as const;

/** Words of a section's bitmap (the snapshot, and the cancellations after it). */
export function bitmapWords(sectionBlocks: number): number {
  return Math.ceil(sectionBlocks / 32);
}

/**
 * Words of one job for sections of `sectionBlocks` blocks: the header, the snapshot, then as many
 * words of cancellations (bit i: block i's move was overtaken by a user write before the job
 * started, WorkerMover.forward; its map entry is not the job's to change any more).
 */
export function jobWords(sectionBlocks: number): number {
  return JOB.BITS + 2 * bitmapWords(sectionBlocks);
}

/**
 * Where the job moves block `offset` of its section: its rank among the snapshot's blocks, in the
 * destination extents. −1 when the snapshot does not have it.
 */
export function destinationOf(jobs: Uint32Array, at: number, offset: number): number {
  const w = offset >>> 5;
  const bit = 1 << (offset & 31);
  const bits = jobs[at + JOB.BITS + w]!;
  if ((bits & bit) === 0) return -1;
  let rank = popcount32(bits & (bit - 1));
  for (let i = 0; i < w; i++) rank += popcount32(jobs[at + JOB.BITS + i]!);
  const l0 = jobs[at + JOB.LEN0]!;
  return rank < l0 ? jobs[at + JOB.EXT0]! + rank : jobs[at + JOB.EXT1]! + rank - l0;
}

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export function movedBefore(jobs: Uint32Array, at: number): number {
  return jobs[at + JOB.BEFORE_HI]! * 2 ** 32 + jobs[at + JOB.BEFORE_LO]!;
}

/**
 * The job's moves as a plan: sources in ascending order from the snapshot, each one's owner tag
 * read from `owners` (the device's tags, or the layer's own summary), destinations from the
 * extents. A snapshot whose bit count differs from the job's count is a broken SIT.
 */
export function expandJob(jobs: Uint32Array, at: number, owners: Uint32Array, plan: MovePlan): void {
  const sb = plan.sectionBlocks;
  const v = jobs[at + JOB.VICTIM]!;
  const n = jobs[at + JOB.COUNT]!;
  const first = v * sb;
  const words = Math.ceil(sb / 32);
  const { src, lba, tag, dst } = plan;
  let k = 0;
  for (let w = 0; w < words; w++) {
    let bits = jobs[at + JOB.BITS + w]!;
    if (bits === 0) continue;
    const base = first + (w << 5);
    while (bits !== 0) {
      const low = bits & -bits;
      const p = base + 31 - Math.clz32(low);
      bits ^= low;
      const t = owners[p]!;
      src[k] = p;
      tag[k] = t;
      lba[k] = t & TAG_LBA_MASK;
      k++;
    }
  }
  if (k !== n) throw new GcIntegrityError(`GC: section ${v} counts ${n} valid blocks but its snapshot has ${k}`, -1, first);
  const e0 = jobs[at + JOB.EXT0]!;
  const l0 = jobs[at + JOB.LEN0]!;
  const e1 = jobs[at + JOB.EXT1]!;
  const l1 = jobs[at + JOB.LEN1]!;
  for (let j = 0; j < l0; j++) dst[j] = e0 + j;
  for (let j = 0; j < l1; j++) dst[l0 + j] = e1 + j;
  plan.victim = v;
  plan.count = n;
}
