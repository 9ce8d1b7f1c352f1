import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Calendar, MAX_INTERVALS } from '../../devices/timing/calendar.js';

describe('a resource calendar (first fit, conservative backfilling)', () => {
  it('fit() gives the earliest free slot at or after ready, and take() keeps intervals sorted and disjoint', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 20 })), { maxLength: 60 }), (reqs) => {
        const cal = new Calendar();
        const busy = new Uint8Array(2000);
        for (const [ready, dur] of reqs) {
          const s = cal.fit(ready, dur);
          // Brute force over unit slots: the earliest start ≥ ready with dur free slots.
          let want = ready;
          while (busy.subarray(want, want + dur).some((b) => b === 1)) want++;
          expect(s).toBe(want);
          expect(cal.isFree(s, s + dur)).toBe(true);
          cal.take(s, dur);
          busy.fill(1, s, s + dur);
          cal.check();
          expect(cal.isFree(s, s + dur)).toBe(false);
        }
      }),
    );
  });

  it('prune() forgets what ends before the horizon; what is left is kept', () => {
    const cal = new Calendar();
    cal.take(0, 10);
    cal.take(20, 10);
    cal.take(40, 10);
    cal.prune(30);
    expect(cal.size).toBe(1);
    expect(cal.fit(35, 10)).toBe(50);
    expect(cal.fit(30, 10)).toBe(30);
  });

  it('past MAX_INTERVALS the oldest two merge: memory stays bounded, never an overlap', () => {
    const cal = new Calendar();
    for (let i = 0; i < MAX_INTERVALS + 100; i++) cal.take(i * 3, 1);
    expect(cal.size).toBeLessThanOrEqual(MAX_INTERVALS);
    cal.check();
    // The merged gaps count as busy (conservative): nothing fits there any more.
    expect(cal.fit(0, 1)).toBeGreaterThan(0);
  });
});
