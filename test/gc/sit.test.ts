import { describe, expect, it } from 'vitest';
import { SectionState, Sit } from '../../src/app/gc/sit.js';
import { Prng } from '../../src/core/util/prng.js';

describe('SIT greedy buckets', () => {
  it('pick what a full scan picks (fewest valid; of those, the one that reached its count last) through many invalidations, closes and frees', () => {
    const sections = 300;
    const sb = 32;
    // Every full section tracked (no watch line), so that ties can be checked exactly.
    const sit = new Sit(sections, sb, Infinity);
    const rng = new Prng(17);
    // The reference: each full section's valid count and when it entered its bucket.
    const entered = new Float64Array(sections);
    let clock = 0;
    const full = (): number[] => [...Array(sections).keys()].filter((s) => sit.state[s] === SectionState.FULL);
    const close = (s: number): void => {
      sit.state[s] = SectionState.OPEN;
      const k = sb - rng.below(4);
      for (let b = 0; b < k; b++) sit.validate(s * sb + b, s, clock);
      sit.state[s] = SectionState.FULL;
      sit.insertFull(s);
      entered[s] = clock++;
    };
    for (let s = 0; s < sections; s++) close(s);
    for (let step = 0; step < 40_000; step++) {
      const f = full();
      if (rng.below(8) === 0) {
        // Greedy: the fewest valid, ties to the latest arrival.
        let want = -1;
        for (const s of f) if (want < 0 || sit.valid[s]! < sit.valid[want]! || (sit.valid[s] === sit.valid[want] && entered[s]! > entered[want]!)) want = s;
        expect(sit.fewestValid()).toBe(want);
        sit.removeFull(want);
        sit.state[want] = SectionState.OPEN;
        sit.clearSection(want);
        sit.state[want] = SectionState.FREE;
        close(want);
      } else {
        const s = f[rng.below(f.length)]!;
        const p = s * sb + rng.below(sb);
        if (!sit.isValid(p)) continue;
        const v = sit.invalidate(p, s);
        entered[s] = clock++;
        if (v === 0) {
          sit.clearSection(s);
          sit.state[s] = SectionState.FREE;
          close(s);
        }
      }
    }
    expect(sit.compactions).toBeGreaterThan(10);
  });

  it('keep every section of a bucket when its stack is compacted, in the order they arrived', () => {
    const sb = 32;
    const sit = new Sit(200, sb);
    const close = (s: number, k: number): void => {
      sit.state[s] = SectionState.OPEN;
      for (let b = 0; b < k; b++) sit.validate(s * sb + b, s, 0);
      sit.state[s] = SectionState.FULL;
      sit.insertFull(s);
    };
    // Sections 0 and 1 rest in bucket 10; 150 others pass through it to bucket 9, leaving stale entries above them.
    close(0, 10);
    close(1, 10);
    for (let s = 2; s < 152; s++) {
      close(s, 12);
      sit.invalidate(s * sb, s);
      sit.invalidate(s * sb + 1, s);
      sit.invalidate(s * sb + 2, s);
    }
    expect(sit.compactions).toBeGreaterThan(0);
    const take = (): number => {
      const v = sit.fewestValid();
      sit.removeFull(v);
      sit.state[v] = SectionState.OPEN;
      return v;
    };
    for (let i = 0; i < 150; i++) expect(sit.valid[take()]).toBe(9);
    expect(take()).toBe(1);
    expect(take()).toBe(0);
    expect(sit.fewestValid()).toBe(-1);
  });

  it('with a watch line, always pick a fewest-valid section, as the line follows greedy down and a scan raises it', () => {
    const sections = 400;
    const sb = 64;
    const sit = new Sit(sections, sb);
    expect(sit.margin).toBe(8);
    const rng = new Prng(5);
    const full = (): number[] => [...Array(sections).keys()].filter((s) => sit.state[s] === SectionState.FULL);
    const close = (s: number, k: number): void => {
      sit.state[s] = SectionState.OPEN;
      for (let b = 0; b < k; b++) sit.validate(s * sb + b, s, 0);
      sit.state[s] = SectionState.FULL;
      sit.insertFull(s);
    };
    for (let s = 0; s < sections; s++) close(s, sb);
    for (let step = 0; step < 60_000; step++) {
      const f = full();
      // Phases: invalidations spread evenly, then a burst that cleans many sections at once, so
      // that the fewest valid count falls (the line follows) and rises past it (a scan).
      const cleaning = step > 40_000 && step % 2000 > 1700;
      if (cleaning || rng.below(40) === 0) {
        const min = Math.min(...f.map((s) => sit.valid[s]!));
        const v = sit.fewestValid();
        expect(sit.valid[v]).toBe(min);
        sit.removeFull(v);
        sit.state[v] = SectionState.OPEN;
        sit.clearSection(v);
        sit.state[v] = SectionState.FREE;
        close(v, sb - rng.below(3));
      } else {
        const s = f[rng.below(f.length)]!;
        const p = s * sb + rng.below(sb);
        if (!sit.isValid(p)) continue;
        if (sit.invalidate(p, s) === 0) {
          sit.clearSection(s);
          sit.state[s] = SectionState.FREE;
          close(s, sb);
        }
      }
    }
    expect({ lowerings: sit.lowerings > 0, rescans: sit.rescans > 0 }).toEqual({ lowerings: true, rescans: true });
  });
});
