import { describe, expect, it } from 'vitest';
import { RunRecorder } from '../../src/app/gc/recorder.js';
import { GC_DEFAULTS, type GcOptions } from '../../src/app/gc/options.js';
import { makeLayout } from '../../src/app/gc/layout.js';
import { LogStructured } from '../../src/app/gc/lfs.js';
import { makePolicy } from '../../src/app/gc/policies.js';
import { newPathCounters } from '../../src/app/gc/paths.js';

const MiB = 1024 ** 2;
const dev = { size: 128 * MiB, timing: 'none', allocation: 'frontier', device: 'test', deviceCopy: { pages: 0, copyback: 0 } };

/** A recorder over a layer whose counters the test sets by hand, on a clock the test moves. */
function setup(o: Partial<GcOptions>) {
  const opts: GcOptions = { ...GC_DEFAULTS, size: 128 * MiB, overwrites: 1, seriesPoints: 4, ...o };
  const layout = makeLayout({ bytes: opts.size, spareFactor: opts.spareFactor });
  const lfs = new LogStructured(layout, makePolicy('greedy', 0));
  const clock = { ns: 0 };
  const rec = new RunRecorder(opts, layout, lfs, () => clock.ns, performance.now());
  return { rec, lfs, clock, layout };
}

describe('RunRecorder: what a GC run records, on either backend', () => {
  it('counts the WAF, modeled time, GC time and latencies from the end of the fill, the steady WAF from the half', () => {
    const { rec, lfs, clock, layout } = setup({});
    const c = lfs.counters;
    c.userBlocks = layout.userBlocks;
    c.gcMoved = 100;
    clock.ns = 5e9;
    rec.latency(1e9); // the fill's: not counted
    rec.gcTime(1e9);
    rec.fillDone();
    expect(rec.overwrites).toBe(layout.userBlocks);
    expect(rec.half).toBe(Math.floor(layout.userBlocks / 2));
    expect(rec.total).toBe(2 * layout.userBlocks);
    c.userBlocks += 1000;
    c.gcMoved += 1000;
    rec.atHalf();
    c.userBlocks += 1000;
    c.gcMoved += 3000;
    rec.latency(2000);
    rec.gcTime(7e8);
    clock.ns = 8e9;
    rec.overwritesDone();
    clock.ns = 9e9; // the read-back's modeled time is not the run's
    const r = rec.result(dev, newPathCounters(), 42);
    expect(r.user_bytes).toBe(2000 * 4096);
    expect(r.fill_bytes).toBe(layout.userBlocks * 4096);
    expect(r.gc_moved_bytes).toBe(4000 * 4096);
    expect(r.waf).toBe(3);
    expect(r.waf_steady).toBe(4);
    expect(r.modeled_s).toBe(3);
    expect(r.gc_modeled_s).toBe(0.7);
    expect(r.max_us).toBeCloseTo(2, 2);
    expect(r.verified_blocks).toBe(42);
    expect(r.series).toEqual([]);
    expect(r.peak_rss_bytes).toBeGreaterThan(0);
  });

  it('samples the series at the overwrites that end each of --series-points intervals, each point its own interval', () => {
    const { rec, lfs, clock } = setup({ seriesPoints: 4 });
    let next = rec.fillDone();
    const n = rec.overwrites;
    const ends: number[] = [];
    for (let i = 0; i < n; i++) {
      lfs.counters.userBlocks++;
      if (i % 2 === 0) lfs.counters.gcMoved++;
      clock.ns += 1000;
      if (i + 1 === next || i + 1 === n) {
        ends.push(i + 1);
        next = rec.sample();
      }
    }
    expect(ends).toEqual([1, 2, 3, 4].map((k) => Math.ceil((k * n) / 4)));
    const r = rec.result(dev, newPathCounters(), 0);
    expect(r.series.map((p) => p.user_bytes)).toEqual(ends.map((e) => e * 4096));
    for (const p of r.series) expect(p.waf).toBeCloseTo(1.5, 3);
    expect(r.series.reduce((s, p) => s + p.victims, 0)).toBe(0);
    expect(r.series.at(-1)!.modeled_s).toBeCloseTo((n * 1000) / 1e9, 12);
  });
});
