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

describe('Lru (devices/timing/lru.ts)', () => {
  it('agrees with a reference LRU on random operations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 12 })), { maxLength: 200 }), (cap, ops) => {
        const lru = new Lru(cap);
        const ref: number[] = []; // keys, most recent last
        const vals = new Map<number, number>();
        ops.forEach(([isSet, key], i) => {
          if (isSet) {
            lru.set(key, i);
            const at = ref.indexOf(key);
            if (at >= 0) ref.splice(at, 1);
            else if (ref.length >= cap) vals.delete(ref.shift()!);
            ref.push(key);
            vals.set(key, i);
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
