import { describe, expect, it } from 'vitest';
import { runGc } from '../../src/app/gc/run.js';
import { GC_DEFAULTS, type GcOptions } from '../../src/app/gc/options.js';
import { GcIntegrityError } from '../../src/app/gc/tag.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const opts = (o: Partial<GcOptions>): GcOptions => ({ ...GC_DEFAULTS, seriesPoints: 10, ...o });

describe('GC write amplification against Desnoyers', () => {
  // 2048 sections of 2 MiB: the reserve and the open logs hold back ~0.2% of the space, which
  // reads ≈2% high at Sf 0.07 (the reference's note); larger devices come closer.
  it.each([0.07, 0.1, 0.2, 0.28])('greedy, uniform 4 KiB overwrites, Sf %f: steady WAF within 3 percent of the greedy formula', (sf) => {
    const r = runGc(opts({ size: 4 * GiB, spareFactor: sf, overwrites: 3, policy: 'greedy', seed: 7 }));
    expect(r.section_bytes).toBe(2 * MiB);
    expect(Math.abs(r.waf_steady / r.waf_desnoyers_greedy - 1)).toBeLessThan(0.03);
    expect(r.verified_blocks).toBe(r.user_blocks);
    expect(r.gc_moved_bytes).toBeGreaterThan(0);
  }, 300_000);

  it('a seed reproduces a run', () => {
    const a = runGc(opts({ size: 256 * MiB, overwrites: 1, seed: 3 }));
    const b = runGc(opts({ size: 256 * MiB, overwrites: 1, seed: 3 }));
    const c = runGc(opts({ size: 256 * MiB, overwrites: 1, seed: 4 }));
    expect(b.gc_moved_bytes).toBe(a.gc_moved_bytes);
    expect(b.victims).toBe(a.victims);
    expect(c.gc_moved_bytes).not.toBe(a.gc_moved_bytes);
  });
});

describe('hot/cold (90% of writes to 10% of blocks)', () => {
  it('cost-benefit beats greedy when cleaned blocks go to their own (cold) log', () => {
    const base = { size: 1 * GiB, spareFactor: 0.1, overwrites: 4, workload: 'zoned:90/10:10/90', seed: 5 };
    const greedy = runGc(opts({ ...base, policy: 'greedy' }));
    const cb = runGc(opts({ ...base, policy: 'cost-benefit' }));
    expect(cb.waf_steady).toBeLessThan(greedy.waf_steady);
  }, 300_000);
});

describe('GC integrity: a GC bug fails the run on its tag check', () => {
  it('a dropped block is caught', () => {
    expect(() => runGc(opts({ size: 128 * MiB, overwrites: 1, inject: { kind: 'drop', at: 1000 } }))).toThrow(GcIntegrityError);
  });
  it('a misplaced block is caught', () => {
    expect(() => runGc(opts({ size: 128 * MiB, overwrites: 1, inject: { kind: 'misplace', at: 1000 } }))).toThrow(GcIntegrityError);
  });
  it('without the bug the same run passes', () => {
    expect(runGc(opts({ size: 128 * MiB, overwrites: 1 })).verified_blocks).toBeGreaterThan(0);
  });
});
