import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CommandTimer } from '../../../devices/nvme/command-timer.js';

describe('CommandTimer: commands are timed in doorbell order', () => {
  it('a command executed before an earlier-rung one waits for it; dropped numbers do not block', () => {
    const t = new CommandTimer();
    const seqs = [t.stamp(), t.stamp(), t.stamp(), t.stamp()];
    const timed: number[] = [];
    t.done(seqs[2]!, () => timed.push(2));
    t.done(seqs[1]!, () => timed.push(1));
    expect(timed).toEqual([]);
    expect(t.waiting).toBe(2);
    t.done(seqs[0]!, () => timed.push(0));
    expect(timed).toEqual([0, 1, 2]);
    t.drop(seqs[3]!);
    const late = t.stamp();
    t.done(late, () => timed.push(4));
    expect(timed).toEqual([0, 1, 2, 4]);
    expect(t.waiting).toBe(0);
  });

  it('any execution order gives the doorbell order (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }))), ([n, order]) => {
        const t = new CommandTimer();
        const seqs = Array.from({ length: n }, () => t.stamp());
        const timed: number[] = [];
        for (const i of order) t.done(seqs[i]!, () => timed.push(i));
        expect(timed).toEqual([...Array(n).keys()]);
        expect(t.waiting).toBe(0);
      }),
    );
  });
});
