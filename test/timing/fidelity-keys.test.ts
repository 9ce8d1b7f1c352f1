import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Clock } from '../../src/core/time/clock.js';
import { Lru } from '../../devices/timing/lru.js';
import { TimingModel } from '../../devices/timing/model.js';
import { resolveTiming, type TimingSpec } from '../../devices/timing/params.js';

const US = 1000;
const model = (spec: TimingSpec): TimingModel => new TimingModel(resolveTiming(spec)!, new Clock());

// A small device whose figures are easy to follow: 1 channel, 4 dies, 4 KiB pages, no controller
// time or link latency, tR 50 µs, tPROG 500 µs, a channel of 4096 MB/s (1 µs per page).
const SMALL = {
  preset: 'femu', channels: 1, dies_per_channel: 4, page_bytes: 4096, tr_us: 50, tprog_us: 500, channel_mbps: 4096,
  ctrl_overhead_us: 0, link_latency_us: 0, link_mbps: 1e6,
} as const;

describe('fidelity keys (docs/timing.md, "Parameters")', () => {
  it('issue: chip makes a chip one server: two dies of one chip read one after the other, two chips at once', () => {
    const page = 4096;
    // CWDP striping with 2 dies per chip on one channel: page 0 → chip 0 die 0, page 1 → chip 1
    // die 0, page 2 → chip 0 die 1.
    const byDie = model({ ...SMALL, dies_per_chip: 2, issue: 'die' });
    expect([0, 1, 2].map((p) => byDie.dieOf(p * page))).toEqual([0, 2, 1]);
    const a = byDie.read(0, page);
    const b = byDie.read(2 * page, page);
    expect(b - a).toBeLessThan(2 * US); // only the channel transfer separates them
    const byChip = model({ ...SMALL, dies_per_chip: 2, issue: 'chip' });
    const c = byChip.read(0, page);
    const d = byChip.read(2 * page, page); // chip 0's other die: waits for die 0's sense and transfer
    const e = byChip.read(page, page); // chip 1: free
    expect(d - c).toBeGreaterThanOrEqual(50 * US);
    expect(e).toBeLessThan(d);
    byChip.check();
  });

  it('cache_read: 1 frees a die after tR; 0 holds it until its page has left over the channel', () => {
    // A slow channel (100 µs per page) makes the difference plain: two reads of one die.
    const spec = { ...SMALL, dies_per_channel: 1, channel_mbps: 40.96 } as const;
    const held = model({ ...spec, cache_read: 0 });
    held.read(0, 4096);
    const heldSecond = held.read(4096, 4096);
    const cached = model({ ...spec, cache_read: 1 });
    cached.read(0, 4096);
    const cachedSecond = cached.read(4096, 4096);
    // Held: the second sense starts after the first transfer (50 + 100), ends 100 µs later still.
    expect(heldSecond).toBeCloseTo((50 + 100 + 50 + 100) * US, -1); // (plus 4 ns on the link)
    // Cache read: the second sense overlaps the first transfer; only the channel serializes them.
    expect(cachedSecond).toBeCloseTo((50 + 100 + 100) * US, -1);
  });

  it('program_unit: write pays a whole tPROG for a 4 KiB write that page packs into a quarter of one', () => {
    const spec = { ...SMALL, page_bytes: 16384, dram_bytes: 0 } as const;
    const packed = model({ ...spec, program_unit: 'page' }).write(0, 4096);
    const perWrite = model({ ...spec, program_unit: 'write' }).write(0, 4096);
    expect(perWrite - packed).toBeCloseTo(0.75 * 500 * US, 0);
  });

  it('planes: two programs of one page number on the two planes of a die take one tPROG (multi-plane)', () => {
    const spec = { ...SMALL, dies_per_channel: 1, dram_bytes: 1 << 20, program_unit: 'write' } as const;
    // One die: with 2 planes the frontier gives pages 0 and 1 the same page number on planes 0 and 1.
    const two = model({ ...spec, planes: 2 });
    two.write(0, 4096);
    two.write(4096, 4096);
    const one = model({ ...spec, planes: 1 });
    one.write(0, 4096);
    one.write(4096, 4096);
    // One tPROG less, give or take the page transfer the two programs share a channel for.
    expect(one.idleAt() - two.idleAt()).toBeGreaterThan(498 * US);
    expect(one.idleAt() - two.idleAt()).toBeLessThanOrEqual(500 * US);
    two.check();
  });

  it('plane_allocation: cwdp places a logical page on the die its number stripes to, dynamic at the frontier', () => {
    const spec = { ...SMALL, dram_bytes: 0 } as const;
    const cwdp = model({ ...spec, plane_allocation: 'cwdp' });
    const dyn = model({ ...spec, plane_allocation: 'dynamic' });
    for (const m of [cwdp, dyn]) m.write(3 * 4096, 4096);
    expect(cwdp.dieOf(3 * 4096)).toBe(3);
    expect(dyn.dieOf(3 * 4096)).toBe(0); // the frontier's first page
  });

  it('write_window_bytes: a write waits while the window is full of unprogrammed data', () => {
    const spec = { ...SMALL, dies_per_channel: 1, dram_bytes: 64 << 20, program_unit: 'write' } as const;
    const open = model(spec);
    const narrow = model({ ...spec, write_window_bytes: 8192 });
    const at = (m: TimingModel): number[] => [0, 1, 2].map((i) => m.write(i * 4096, 4096));
    const [, , thirdOpen] = at(open);
    const [, , thirdNarrow] = at(narrow);
    expect(thirdOpen).toBeLessThan(10 * US); // into the buffer at once
    expect(thirdNarrow).toBeGreaterThanOrEqual(500 * US); // after the first program ends
  });

  it('command_cycle_ns: a command crosses the channel first; a chip is commanded only in a gap of its channel, then holds its page', () => {
    // A slow channel (100 µs per page) and 1 µs of command cycles: the figures are plain.
    const spec = { ...SMALL, channel_mbps: 40.96 } as const;
    const link = 4096 / 1e6; // 4 ns on the link
    const idle = model({ ...spec, command_cycle_ns: 1000 });
    expect(idle.read(0, 4096)).toBeCloseTo((1 + 50 + 100 + link) * US, 0);
    const writeThrough = model({ ...spec, command_cycle_ns: 1000, dram_bytes: 0 });
    expect(writeThrough.write(0, 4096)).toBeCloseTo((link + 1 + 100 + 500) * US, 0);
    // Three dies read at once, their pages leave back to back (51..351 µs); a fourth die's read
    // comes at 60 µs. With command cycles its chip is commanded when that stretch ends (351 µs),
    // then senses and moves its page: 502 µs. Without, its sense is timed to meet the channel at
    // 350 µs: done at 450 µs.
    const fourth = (cmd: number): number => {
      const clock = new Clock();
      const m = new TimingModel(resolveTiming({ ...spec, command_cycle_ns: cmd })!, clock);
      for (const d of [0, 1, 2]) m.read(d * 4096, 4096); // dies 0, 1, 2 (striped page d)
      let end = 0;
      clock.at(60 * US, () => {
        end = m.read(3 * 4096, 4096) - 60 * US;
      });
      clock.runUntilIdle();
      m.check();
      return end + 60 * US;
    };
    expect(fourth(1000)).toBeCloseTo((351 + 1 + 50 + 100 + link) * US, 0);
    expect(fourth(0)).toBeCloseTo((350 + 100 + link) * US, 0);
    expect(() => resolveTiming({ preset: 'femu', command_cycle_ns: -1 })).toThrow(/command_cycle_ns must be a number in 0\.\.100000/);
  });

  it('refuses what cannot be: dies_per_chip not dividing dies_per_channel, unknown values, a cache past its limit', () => {
    expect(() => resolveTiming({ preset: 'femu', dies_per_chip: 3 })).toThrow(/dies_per_chip \(3\) must divide dies_per_channel \(8\)/);
    expect(() => resolveTiming({ preset: 'femu', issue: 'lun' as never })).toThrow(/timing.issue must be one of die, chip/);
    expect(() => resolveTiming({ preset: 'femu', program_unit: 'sector' as never })).toThrow(/timing.program_unit must be one of page, write/);
    expect(() => resolveTiming({ preset: 'femu', plane_allocation: 'cdwp' as never })).toThrow(/plane_allocation must be one of dynamic, cwdp/);
    expect(() => resolveTiming({ preset: 'femu', mapping_cache_bytes: 2 ** 40, mapping_entry_bytes: 1 })).toThrow(/at most 134217728 cached entries/);
  });

  it('a mapping cache of n entries hits on the n most recent pages and misses on the one before', () => {
    const m = model({ ...SMALL, mapping_cache_bytes: 3 * 8, mapping_entry_bytes: 8 });
    for (const p of [0, 1, 2, 3]) m.read(p * 4096 * 1000, 4096); // 4 misses; page 0 is evicted
    expect(m.stats.mapping_misses).toBe(4);
    m.read(3 * 4096 * 1000, 4096);
    m.read(1 * 4096 * 1000, 4096);
    expect(m.stats.mapping_hits).toBe(2);
    m.read(0, 4096);
    expect(m.stats.mapping_misses).toBe(5);
  });
});

describe('the mapping cache: translation pages and write-backs (docs/timing.md, "The mapping cache")', () => {
  // SMALL's 4 KiB pages hold 512 entries of 8 bytes: logical pages 0..511 share translation page 0.
  const CACHE = { ...SMALL, mapping_entry_bytes: 8 } as const;
  const withClock = (spec: TimingSpec): { m: TimingModel; clock: Clock; to: (t: number) => void } => {
    const clock = new Clock();
    const m = new TimingModel(resolveTiming(spec)!, clock);
    return { m, clock, to: (t) => { clock.at(t, () => undefined); clock.runUntilIdle(); } };
  };

  it('translation_entry_bytes sets the entries per translation page: two misses share a read only when one page holds both', () => {
    const wide = model({ ...CACHE, mapping_cache_bytes: 64 * 8 });
    wide.read(0, 4096);
    wide.read(600 * 4096, 4096); // translation page 1 of 512-entry pages
    expect(wide.stats.mapping_reads).toBe(2);
    const narrow = model({ ...CACHE, mapping_cache_bytes: 64 * 8, translation_entry_bytes: 4 });
    narrow.read(0, 4096);
    narrow.read(600 * 4096, 4096); // the same 1024-entry page, its read in flight: shared
    expect(narrow.stats.mapping_reads).toBe(1);
    expect(narrow.stats.mapping_misses).toBe(2);
  });

  it('mapping_writeback: held writes a changed entry\'s page back once and serves later misses in it from memory; none reads it again', () => {
    const run = (mapping_writeback: 'none' | 'held') => {
      const { m, to } = withClock({ ...CACHE, mapping_cache_bytes: 2 * 8, mapping_writeback });
      m.write(0, 4096); // a changed entry for logical page 0 (translation page 0)
      m.read(1000 * 4096, 4096);
      m.read(2000 * 4096, 4096); // evicts page 0's changed entry
      to(m.idleAt());
      const before = m.stats.mapping_reads;
      m.read(5 * 4096, 4096); // a miss in translation page 0, after every read is done
      return { s: m.stats, extra: m.stats.mapping_reads - before };
    };
    const held = run('held');
    expect(held.s.mapping_writebacks).toBe(1);
    expect(held.s.mapping_reads).toBe(3); // two misses and the write-back's read of page 0
    expect(held.extra).toBe(0);
    expect(held.s.mapping_held).toBe(1);
    const none = run('none');
    expect(none.s.mapping_writebacks).toBe(0);
    expect(none.extra).toBe(1);
    expect(none.s.mapping_held).toBe(0);
  });

  it('mapping_writeback: program keeps the page in memory until its program (tPROG on its die) is done, then reads it again', () => {
    const { m, to } = withClock({ ...CACHE, mapping_cache_bytes: 2 * 8, mapping_writeback: 'program' });
    m.write(0, 4096);
    m.read(1000 * 4096, 4096);
    const t = m.read(2000 * 4096, 4096); // evicts page 0's entry: read page 0, program it
    to(t);
    m.read(5 * 4096, 4096); // the program is still to come: from memory
    expect(m.stats.mapping_held).toBe(1);
    const idle = m.idleAt();
    expect(idle).toBeGreaterThanOrEqual(500 * US); // the translation page's program
    to(idle);
    m.read(6 * 4096, 4096); // programmed and gone from memory: read from flash
    expect(m.stats.mapping_held).toBe(1);
    expect(m.stats.mapping_reads).toBe(4);
    m.check();
  });

  it('a write-back cleans every changed entry of its page; an entry changed after it is written back again', () => {
    const m = model({ ...CACHE, mapping_cache_bytes: 3 * 8, mapping_writeback: 'held' });
    m.write(0, 4096);
    m.write(4096, 4096); // two changed entries of translation page 0
    m.read(1000 * 4096, 4096);
    m.read(2000 * 4096, 4096); // evicts page 0's entry: page 0 written back, page 1's entry clean with it
    m.read(3000 * 4096, 4096); // evicts page 1's entry: clean, nothing to write
    expect(m.stats.mapping_writebacks).toBe(1);
    m.write(2 * 4096, 4096); // changed after the write-back
    m.read(4000 * 4096, 4096);
    m.read(5000 * 4096, 4096);
    m.read(6000 * 4096, 4096); // evicts it: written back again
    expect(m.stats.mapping_writebacks).toBe(2);
  });

  it('map_on_read: 1 makes the first read of a page never written change its entry (written back when evicted); 0 does not', () => {
    const run = (map_on_read: number) => {
      const m = model({ ...CACHE, mapping_cache_bytes: 2 * 8, mapping_writeback: 'held', map_on_read });
      for (const p of [0, 1000, 2000]) m.read(p * 4096, 4096); // page 0's entry evicted
      m.read(0, 4096);
      m.read(1000 * 4096, 4096);
      m.read(2000 * 4096, 4096); // the same pages again: mapped now, their entries clean
      return m.stats.mapping_writebacks;
    };
    expect(run(0)).toBe(0);
    expect(run(1)).toBe(3); // pages 0, 1000, 2000: each evicted once while changed
  });

  it('refuses an unknown mapping_writeback and a translation entry out of bounds', () => {
    expect(() => resolveTiming({ preset: 'femu', mapping_writeback: 'lazy' as never })).toThrow(/mapping_writeback must be one of none, program, held/);
    expect(() => resolveTiming({ preset: 'femu', translation_entry_bytes: 65 })).toThrow(/translation_entry_bytes must be an integer in 0..64/);
  });
});

describe('Lru (devices/timing/lru.ts)', () => {
  it('agrees with a reference LRU on random operations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 12 })), { maxLength: 200 }), (cap, ops) => {
        const lru = new Lru(cap);
        const ref: number[] = []; // keys, most recent last
        const vals = new Map<number, number>();
        ops.forEach(([isSet, key], i) => {
          if (isSet) {
            lru.set(key, i, i + 1);
            const at = ref.indexOf(key);
            let evicted = NaN;
            if (at >= 0) ref.splice(at, 1);
            else if (ref.length >= cap) {
              evicted = ref.shift()!;
              expect(lru.evictedAux).toBe(vals.get(evicted)! + 1); // the evicted entry's aux
              vals.delete(evicted);
            }
            expect(lru.evictedKey).toEqual(evicted);
            ref.push(key);
            vals.set(key, i);
            expect(lru.auxOf(key)).toBe(i + 1);
          } else {
            const at = ref.indexOf(key);
            expect(lru.get(key)).toBe(at >= 0 ? vals.get(key) : undefined);
            if (at >= 0) ref.push(...ref.splice(at, 1));
          }
          expect(lru.size).toBe(ref.length);
        });
      }),
    );
  });

  it('refuses a capacity out of bounds', () => {
    expect(() => new Lru(0)).toThrow(RangeError);
    expect(() => new Lru(2 ** 28)).toThrow(RangeError);
  });
});
