import { describe, expect, it } from 'vitest';
import { layoutOf, runGc } from '../../src/app/gc/run.js';
import { WorkerMover } from '../../src/app/gc/worker-mover.js';
import { GC_DEFAULTS, type GcOptions } from '../../src/app/gc/options.js';
import { GcIntegrityError, TAG_LBA_BITS } from '../../src/app/gc/tag.js';
import { JOB, jobWords } from '../../src/app/gc/victim-job.js';
import { LogStructured, Temp } from '../../src/app/gc/lfs.js';
import { openMover, type MoverMode } from '../../src/app/gc/mover.js';
import { Prng } from '../../src/core/util/prng.js';
import { TagDevice } from '../../src/app/gc/tag-device.js';
import { makePolicy } from '../../src/app/gc/policies.js';
import { DEFAULT_PATH_LIMITS, newPathCounters } from '../../src/app/gc/paths.js';
import { gcReserve } from '../../src/app/gc/constants.js';

const MiB = 1024 ** 2;
const opts = (o: Partial<GcOptions>): GcOptions => ({ ...GC_DEFAULTS, seriesPoints: 10, zoneBytes: 2 * MiB, zoneCapacityBytes: 2 * MiB, ...o });
const gen = (g: number, x: number): number => ((g << TAG_LBA_BITS) | x) >>> 0;

/** A worker mover on a small tag device, outside a run, for driving jobs by hand. */
function bareMover() {
  const o = opts({ size: 256 * MiB });
  const layout = layoutOf(o);
  const dev = new TagDevice(layout, true);
  const lfs = new LogStructured(layout, makePolicy('greedy', 0), dev.tags, true);
  const mover = WorkerMover.start({ l2p: lfs.l2p, dev, path: o.path, limits: DEFAULT_PATH_LIMITS, inject: o.inject }, lfs);
  return { layout, dev, lfs, mover };
}

/**
 * The layer's victim jobs through a mover of either kind, as a run drives them (select, reset
 * the sections taken, dispatch; user writes' tags written), without the run around them.
 */
async function driveJobs(mode: MoverMode) {
  const o = opts({ size: 256 * MiB });
  const layout = layoutOf(o);
  const shared = mode === 'worker';
  const dev = new TagDevice(layout, shared);
  const lfs = new LogStructured(layout, makePolicy('greedy', 0), dev.tags, shared);
  const mover = openMover(mode, lfs, dev, o, DEFAULT_PATH_LIMITS);
  const resets = (): void => {
    for (const s of lfs.resetQueue) mover.resetSection(s);
    lfs.resetQueue.length = 0;
  };
  const write = (lba: number): void => {
    while (lfs.gcNeeded) {
      const at = mover.slot();
      if (!lfs.selectVictim(mover.jobs, at)) break;
      resets();
      const plan = mover.dispatch(at);
      if (mode === 'inline') expect(plan?.victim).toBe(mover.jobs[at + JOB.VICTIM]);
    }
    const p = lfs.userWrite(lba, Temp.WARM);
    resets();
    dev.tags[p] = lfs.lastTag;
  };
  try {
    const U = layout.userBlocks;
    const rng = new Prng(5);
    for (let l = 0; l < U; l++) write(l);
    for (let i = 0; i < 2 * U; i++) write(rng.below(U));
    mover.drain();
    const gc = newPathCounters();
    mover.totals(gc);
    return { l2p: Array.from(lfs.l2p), gc, readBack: mover.verify(0, U), stats: mover.stats(), victims: lfs.counters.victims, U };
  } finally {
    await mover.close();
  }
}

describe('GC movers: InlineMover and WorkerMover behind one interface', () => {
  it('the same jobs leave the same map, the same commands counted and every block reading back, whichever runs them', async () => {
    const inline = await driveJobs('inline');
    const worker = await driveJobs('worker');
    expect(inline.victims).toBeGreaterThan(100);
    expect(worker.victims).toBe(inline.victims);
    expect(worker.l2p).toEqual(inline.l2p);
    expect(worker.gc).toEqual(inline.gc);
    expect(inline.readBack).toEqual({ verified: inline.U, bad: -1 });
    expect(worker.readBack).toEqual(inline.readBack);
    expect(inline.stats).toEqual({ here: inline.victims, worker: 0, waits: 0, waitMs: 0, cancels: 0 });
    expect(worker.stats.here + worker.stats.worker).toBe(worker.victims);
    expect(worker.stats.worker).toBeGreaterThan(0);
  });
});

describe('GC mover: victim jobs on a worker thread', () => {
  it('gives the same run as moving inline: victims, moves, commands, WAF, series, every block read back; both threads move', () => {
    const o = opts({ size: 256 * MiB, overwrites: 2, seed: 11 });
    const inline = runGc(o, { mover: 'inline' });
    const stats = { here: 0, worker: 0, waits: 0, waitMs: 0, cancels: 0 };
    const threaded = runGc(o, { mover: 'worker', moverStats: stats });
    expect(threaded.victims).toBe(inline.victims);
    expect(threaded.gc_moved_bytes).toBe(inline.gc_moved_bytes);
    expect(threaded.commands).toBe(inline.commands);
    expect(threaded.gc).toEqual(inline.gc);
    expect(threaded.waf).toBe(inline.waf);
    expect(threaded.victim_valid_histogram).toEqual(inline.victim_valid_histogram);
    expect(threaded.series.map((p) => p.waf)).toEqual(inline.series.map((p) => p.waf));
    expect(threaded.verified_blocks).toBe(threaded.user_blocks);
    expect(inline.gc_moved_bytes).toBeGreaterThan(0);
    // Both threads ran victims (a reserve of two sections lets the worker fall one job behind:
    // the main thread runs the next itself).
    expect(stats.worker).toBeGreaterThan(0);
    expect(stats.here).toBeGreaterThan(0);
    expect(stats.here + stats.worker).toBe(threaded.victims);
  });

  it('the same with sections that do not start on a bitmap word (zone capacity 385 blocks) and with hot and cold logs', () => {
    for (const o of [opts({ size: 512 * MiB, zoneCapacityBytes: 1540 * 1024, overwrites: 2, seed: 3 }), opts({ size: 256 * MiB, workload: 'zoned:90/10:10/90', overwrites: 2, seed: 4 })]) {
      const inline = runGc(o, { mover: 'inline' });
      const threaded = runGc(o, { mover: 'worker' });
      expect(threaded.gc).toEqual(inline.gc);
      expect(threaded.victim_valid_histogram).toEqual(inline.victim_valid_histogram);
      expect(threaded.waf).toBe(inline.waf);
      expect(threaded.verified_blocks).toBe(inline.verified_blocks);
      expect(inline.victims).toBeGreaterThan(100);
    }
  });

  it('a dropped block is caught with the worker moving', () => {
    expect(() => runGc(opts({ size: 128 * MiB, overwrites: 1, inject: { kind: 'drop', at: 1000 } }), { mover: 'worker' })).toThrow(GcIntegrityError);
  });

  it('a misplaced block is caught with the worker moving', () => {
    expect(() => runGc(opts({ size: 128 * MiB, overwrites: 1, inject: { kind: 'misplace', at: 1000 } }), { mover: 'worker' })).toThrow(GcIntegrityError);
  });

  it('a timed run refuses the worker (the model times each victim as it moves)', () => {
    expect(() => runGc(opts({ size: 64 * MiB, overwrites: 1, timing: 'nvmevirt-zns' }), { mover: 'worker' })).toThrow(/--timing/);
  });

  it('the worker moves a job only where the map agrees with the source; a job it does not agree with fails the run naming the block', async () => {
    const { layout, dev, lfs, mover } = bareMover();
    const sb = layout.sectionBlocks;
    try {
      // Section 0's block 0 holds lba 5 (generation 3), section 1's block 0 lba 6 (generation 2);
      // the map agrees for lba 5 and puts lba 6 elsewhere.
      dev.tags[0] = gen(3, 5);
      dev.tags[sb] = gen(2, 6);
      lfs.l2p[5] = gen(3, 0);
      lfs.l2p[6] = gen(2, 77);
      const job = (victim: number, bits: number, dst: number): void => {
        const at = mover.slot();
        mover.jobs.fill(0, at, at + jobWords(sb));
        mover.jobs[at + JOB.VICTIM] = victim;
        mover.jobs[at + JOB.COUNT] = 1;
        mover.jobs[at + JOB.BITS] = bits;
        mover.jobs[at + JOB.EXT0] = dst;
        mover.jobs[at + JOB.LEN0] = 1;
        expect(mover.dispatch(at)).toBeUndefined(); // queued for the worker
      };
      job(0, 0b1, 3 * sb);
      mover.drain();
      expect(lfs.l2p[5]).toBe(gen(3, 3 * sb));
      expect(dev.tags[3 * sb]).toBe(gen(3, 5));
      // The worker reset the victim's zone once it had read it.
      expect(dev.tags[0]).toBe(0);
      // That reset stands for the next one: the section's tags are not reset again.
      dev.tags[1] = gen(1, 1);
      mover.resetSection(0);
      expect(dev.tags[1]).toBe(gen(1, 1));
      mover.resetSection(0);
      expect(dev.tags[1]).toBe(0);
      job(1, 0b1, 3 * sb + 1);
      let err: unknown;
      try {
        mover.drain();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GcIntegrityError);
      expect((err as GcIntegrityError).lba).toBe(6);
      expect((err as GcIntegrityError).physical).toBe(sb);
      expect((err as Error).message).toMatch(/map puts lba 6 at 77/);
      expect(lfs.l2p[6]).toBe(gen(2, 77));
      expect(dev.tags[3 * sb + 1]).toBe(0);
    } finally {
      await mover.close();
    }
  });

  it('a worker thread that dies fails the wait for its job at once, not after the stall timeout', async () => {
    const { layout, mover } = bareMover();
    const sb = layout.sectionBlocks;
    await mover.kill();
    const at = mover.slot();
    mover.jobs.fill(0, at, at + jobWords(sb));
    mover.jobs[at + JOB.VICTIM] = 0;
    mover.jobs[at + JOB.COUNT] = 0;
    expect(mover.dispatch(at)).toBeUndefined();
    const t0 = performance.now();
    expect(() => mover.drain()).toThrow(/GC mover thread is gone \(GC mover killed\)/);
    expect(performance.now() - t0).toBeLessThan(5_000); // MOVER.stallMs is 60 s
    expect(() => mover.verify(0, sb)).toThrow(/GC mover thread is gone/);
    await mover.close();
  });

  it('a user write of a block whose job is queued but not started takes the block from the job: its destination, by rank in the snapshot, and the move cancelled', async () => {
    const { layout, mover } = bareMover();
    const sb = layout.sectionBlocks;
    // A worker that has stopped runs nothing: the job stays queued.
    await mover.close();
    const at = mover.slot();
    mover.jobs.fill(0, at, at + jobWords(sb));
    mover.jobs[at + JOB.VICTIM] = 2;
    mover.jobs[at + JOB.COUNT] = 4;
    mover.jobs[at + JOB.BITS] = 0b1011; // blocks 0, 1, 3
    mover.jobs[at + JOB.BITS + 1] = 0b1; // block 32
    mover.jobs[at + JOB.EXT0] = 7 * sb + sb - 2; // two blocks left in one cold section
    mover.jobs[at + JOB.LEN0] = 2;
    mover.jobs[at + JOB.EXT1] = 9 * sb; // and two at the start of the next
    mover.jobs[at + JOB.LEN1] = 2;
    expect(mover.dispatch(at)).toBeUndefined();
    expect(mover.forward(2, 2 * sb + 3)).toEqual({ kind: 'moved', to: 9 * sb }); // third of four: the second extent's first
    expect(mover.forward(2, 2 * sb + 1)).toEqual({ kind: 'moved', to: 7 * sb + sb - 1 });
    expect(mover.forward(2, 2 * sb + 32)).toEqual({ kind: 'moved', to: 9 * sb + 1 });
    expect(mover.forward(2, 2 * sb + 2)).toEqual({ kind: 'gone' }); // not in the snapshot: no job moves it
    expect(mover.forward(5, 5 * sb)).toEqual({ kind: 'gone' }); // no job for that section
    const cancel = at + JOB.BITS + Math.ceil(sb / 32);
    expect(mover.jobs[cancel]).toBe(0b1010);
    expect(mover.jobs[cancel + 1]).toBe(0b1);
  });

  it('the read-back on both threads finds a block whose tag is not its latest write, in either half', async () => {
    const { dev, lfs, mover } = bareMover();
    try {
      for (let l = 0; l < 64; l++) {
        lfs.l2p[l] = gen(1, l + 10);
        dev.tags[l + 10] = gen(1, l);
      }
      expect(mover.verify(0, 64)).toEqual({ verified: 64, bad: -1 });
      dev.tags[50] = gen(2, 40); // lba 40 (the worker's half) holds a newer generation than the map's
      expect(mover.verify(0, 64).bad).toBe(40);
      dev.tags[12] = gen(2, 2); // and lba 2, in this thread's half
      expect(mover.verify(0, 64).bad).toBe(2);
    } finally {
      await mover.close();
    }
  });

  it('the reserve grows with the device so that the worker may fall behind: 2 sections up to 8192, then one per 4096', () => {
    expect(gcReserve(16)).toBe(2);
    expect(gcReserve(8191)).toBe(2);
    expect(gcReserve(16384)).toBe(4);
    expect(gcReserve(512 * 1024)).toBe(128);
  });
});
