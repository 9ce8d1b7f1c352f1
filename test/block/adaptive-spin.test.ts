import { describe, expect, it } from 'vitest';
import { AdaptiveSpin, SPIN } from '../../src/core/block/adaptive-spin.js';

/** A clock that moves `stepUs` every time it is read. */
function clock(stepUs: number) {
  const c = { t: 0, step: stepUs, now: () => (c.t += c.step / 1000) };
  return c;
}

describe('adaptive polling', () => {
  it('spins while work comes within the budget and keeps the budget at its maximum', () => {
    const c = clock(1);
    const s = new AdaptiveSpin(200, 1, c.now);
    let polls = 0;
    expect(s.spin(() => ++polls === 10)).toBe(true);
    expect(s.budget).toBe(200);
    expect(s.hits).toBe(1);
  });

  it('sparse work: each empty spin halves the budget until the thread parks at once, without polling', () => {
    const c = clock(1);
    const s = new AdaptiveSpin(200, 1, c.now);
    const budgets: number[] = [];
    for (let i = 0; i < 8; i++) {
      expect(s.spin(() => false)).toBe(false);
      budgets.push(s.budget);
    }
    expect(budgets).toEqual([100, 50, 25, 12.5, 6.25, 3.125, 0, 0]);
    let polls = 0;
    expect(s.spin(() => (polls++, false))).toBe(false);
    expect(polls).toBe(1); // one look, no spinning
  });

  it('a park that ends soon grows the budget back; a long one does not', () => {
    const c = clock(1);
    const s = new AdaptiveSpin(200, 1, c.now);
    for (let i = 0; i < 8; i++) s.spin(() => false);
    expect(s.budget).toBe(0);
    s.parked(5); // 5 ms: far past the budget's reach
    expect(s.budget).toBe(0);
    s.parked(0.03); // 30 µs
    expect(s.budget).toBe(60);
  });

  it('a thread descheduled while spinning (a shared CPU) stops spinning for the back-off period', () => {
    const c = clock(1);
    const s = new AdaptiveSpin(200, 1, c.now);
    let polls = 0;
    expect(s.spin(() => {
      if (++polls === 5) c.step = SPIN.preemptUs + 10; // the next clock read jumps: the CPU was lost
      return false;
    })).toBe(false);
    expect(s.preemptions).toBe(1);
    expect(s.budget).toBe(0);
    c.step = 1;
    s.parked(0.01); // during the back-off a quick wake-up does not restart spinning
    expect(s.budget).toBe(0);
    c.t += SPIN.backoffMs;
    s.parked(0.01);
    expect(s.budget).toBeGreaterThan(0);
  });

  it('a maximum of 0 never spins', () => {
    const s = new AdaptiveSpin(0, 1, clock(1).now);
    let polls = 0;
    expect(s.spin(() => (polls++, false))).toBe(false);
    s.parked(0);
    expect(s.budget).toBe(0);
    expect(polls).toBe(1);
  });
});
