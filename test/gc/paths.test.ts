import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { accountPlan, addPlanCounts, newPathCounters, GC_PATHS, type GcPathName, type PathCounters, type PathLimits } from '../../src/app/gc/paths.js';
import { newMovePlan, type MovePlan } from '../../src/app/gc/lfs.js';
import { GC_BLOCK_BYTES } from '../../src/app/gc/constants.js';

const cmds = (len: number, max: number): number => Math.ceil(len / max);

/**
 * The oracle: path accounting one block at a time, as it was written first (every block through
 * the whole state machine). accountPlan counts the blocks that only extend a run a chunk at a
 * time and must agree with it on every plan and every limit.
 */
function blockByBlock(path: GcPathName, plan: MovePlan, lim: PathLimits, c: PathCounters): void {
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
  addPlanCounts(path, { moves: n, srcRuns, readCmds, extents: ext, perExtWrites, perExtAppends, copyCmds }, c);
}

/** A victim's moves: a random subset of a section's blocks, moved to one or two destination extents. */
const plans = fc
  .record({
    sb: fc.integer({ min: 1, max: 600 }),
    victim: fc.integer({ min: 0, max: 20 }),
    seed: fc.array(fc.boolean(), { minLength: 600, maxLength: 600 }),
    split: fc.nat(),
    ext0: fc.integer({ min: 0, max: 40 }),
    ext1: fc.integer({ min: 0, max: 40 }),
    off0: fc.nat(),
  })
  .map(({ sb, victim, seed, split, ext0, ext1, off0 }): MovePlan => {
    const plan = newMovePlan(sb);
    let n = 0;
    for (let i = 0; i < sb; i++) if (seed[i]) plan.src[n++] = victim * sb + i;
    plan.count = n;
    // The first extent: the rest of a cold section from some offset; the second: the start of another.
    const start = ext0 * sb + (off0 % sb);
    const k0 = Math.min(n, sb - (off0 % sb), split % (n + 1));
    for (let i = 0; i < k0; i++) plan.dst[i] = start + i;
    for (let i = k0; i < n; i++) plan.dst[i] = ext1 * sb + (i - k0);
    return plan;
  });
const limits = fc.record({
  ioBlocks: fc.integer({ min: 1, max: 9 }),
  copyRanges: fc.integer({ min: 1, max: 9 }),
  rangeBlocks: fc.integer({ min: 1, max: 9 }),
  copyBlocks: fc.integer({ min: 1, max: 20 }),
  appendBlocks: fc.integer({ min: 1, max: 9 }),
});

describe('GC path accounting', () => {
  it('counts the same commands, ranges and host bytes as block-by-block accounting, on any plan and any limits', () => {
    fc.assert(
      fc.property(plans, limits, fc.constantFrom(...GC_PATHS), (plan, lim: PathLimits, path: GcPathName) => {
        const want: PathCounters = newPathCounters();
        const got: PathCounters = newPathCounters();
        blockByBlock(path, plan, lim, want);
        accountPlan(path, plan, lim, got);
        expect(got).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('the lab defaults: 300 moves in three source runs to one extent are 3 copy commands of at most 128 blocks', () => {
    const plan = newMovePlan(512);
    let n = 0;
    for (const [from, len] of [[0, 100], [150, 100], [300, 100]] as const) for (let i = 0; i < len; i++) plan.src[n++] = from + i;
    for (let i = 0; i < n; i++) plan.dst[i] = 1024 + i;
    plan.count = n;
    const c = newPathCounters();
    accountPlan('copy', plan, { ioBlocks: 128, copyRanges: 128, rangeBlocks: 128, copyBlocks: 128, appendBlocks: 128 }, c);
    expect(c).toMatchObject({ copies: 3, commands: 3, ranges: 3, host_bytes: 0 });
    expect(GC_BLOCK_BYTES).toBe(4096);
  });
});
