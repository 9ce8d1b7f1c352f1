import { describe, expect, it } from 'vitest';
import { lambertW0, wafGreedy, wafLru } from '../../src/app/gc/desnoyers.js';

describe('Lambert W0', () => {
  it('meets known values and its defining equation', () => {
    expect(lambertW0(0)).toBe(0);
    expect(lambertW0(1)).toBeCloseTo(0.5671432904097838, 14); // the omega constant
    expect(lambertW0(Math.E)).toBeCloseTo(1, 14);
    expect(lambertW0(-Math.exp(-1))).toBeCloseTo(-1, 6);
    for (const x of [-0.36, -0.3, -0.1, -1e-9, 1e-6, 0.5, 2, 10, 1e3, 1e9]) {
      const w = lambertW0(x);
      expect(w * Math.exp(w)).toBeCloseTo(x, Math.max(0, 12 - Math.ceil(Math.log10(Math.abs(x) + 1))));
      expect(w).toBeGreaterThanOrEqual(-1);
    }
  });
  it('rejects x below −1/e', () => {
    expect(() => lambertW0(-0.4)).toThrow(RangeError);
  });
});

describe("Desnoyers' write amplification", () => {
  // The table of the reference (SYSTOR 2012 / TOS 2014): LRU and greedy with Np blocks per unit.
  const table: [number, number, number, number, number, number][] = [
    [0.07, 7.32, 6.6, 6.94, 7.12, 7.22],
    [0.1, 5.18, 4.82, 4.99, 5.08, 5.13],
    [0.2, 2.69, 2.6, 2.65, 2.67, 2.68],
    [0.28, 1.99, 1.94, 1.97, 1.98, 1.99],
  ];
  it.each(table)('Sf %f: LRU %f, greedy 64/128/256/512 blocks', (sf, lru, g64, g128, g256, g512) => {
    // The table is rounded to two decimals (one entry, 2.6446 printed as 2.65, a hair over).
    const near = (got: number, want: number): void => expect(Math.abs(got - want)).toBeLessThan(0.0075);
    near(wafLru(sf), lru);
    near(wafGreedy(sf, 64), g64);
    near(wafGreedy(sf, 128), g128);
    near(wafGreedy(sf, 256), g256);
    near(wafGreedy(sf, 512), g512);
  });
  it('gives 2.364 at over-provisioning 0.3 (Xiang and Kurkoski)', () => {
    // (T − U)/U = 0.3 → α = 1.3
    expect(wafLru(1 - 1 / 1.3)).toBeCloseTo(2.364, 3);
  });
});
