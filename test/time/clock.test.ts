import { describe, expect, it } from 'vitest';
import { Clock } from '../../src/core/time/clock.js';

describe('Clock (virtual)', () => {
  it('fires events in time order, FIFO at equal times, and advances now() to each', async () => {
    const c = new Clock();
    const seen: string[] = [];
    c.at(300, () => seen.push(`c@${c.now()}`));
    c.at(100, () => seen.push(`a@${c.now()}`));
    c.at(100, () => seen.push(`b@${c.now()}`));
    await c.sleep(1000);
    expect(seen).toEqual(['a@100', 'b@100', 'c@300']);
    expect(c.now()).toBe(1000);
  });

  it('lets promise chains started by an event run before time moves on', async () => {
    const c = new Clock();
    const log: number[] = [];
    const op = (dt: number) => new Promise<void>((r) => c.after(dt, r));
    // Two closed loops: each awaits its completion and submits the next at the same instant.
    const loop = async (dt: number, n: number) => {
      for (let i = 0; i < n; i++) {
        await op(dt);
        await Promise.resolve(); // a few more hops before the next submission
        await Promise.resolve();
        log.push(c.now());
      }
    };
    await Promise.all([loop(10, 3), loop(25, 2)]);
    expect(log).toEqual([10, 20, 25, 30, 50]);
  });

  it('cancels, counts pending, and holds time while off-thread work is out', async () => {
    const c = new Clock();
    let fired = false;
    const id = c.at(50, () => { fired = true; });
    expect(c.pending).toBe(1);
    expect(c.cancel(id)).toBe(true);
    expect(c.cancel(id)).toBe(false);
    expect(c.pending).toBe(0);
    c.hold();
    let late = false;
    c.at(10, () => { late = true; });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(late).toBe(false); // held: the clock did not move
    c.release();
    await c.sleep(0);
    await new Promise((r) => setImmediate(r));
    expect(late).toBe(true);
    expect(fired).toBe(false);
  });

  it('runUntilIdle drives callback-only loops synchronously', () => {
    const c = new Clock();
    let n = 0;
    const tick = () => { if (++n < 1000) c.after(7, tick); };
    c.after(7, tick);
    expect(c.runUntilIdle()).toBe(1000);
    expect(c.now()).toBe(7000);
  });

  it('refuses non-finite times and unknown modes', () => {
    const c = new Clock();
    expect(() => c.at(Number.NaN, () => {})).toThrow(RangeError);
    expect(() => new Clock({ mode: 'fast' as never })).toThrow(/virtual or realtime/);
  });
});

describe('Clock (realtime)', () => {
  it('fires an event no earlier than its wall time', async () => {
    const c = new Clock({ mode: 'realtime' });
    const start = c.wallNs();
    await c.sleep(15e6);
    const waited = c.wallNs() - start;
    expect(waited).toBeGreaterThanOrEqual(15e6);
    expect(c.now()).toBeGreaterThanOrEqual(15e6);
  });

  it('an event earlier than the one the timer waits for does not wait for it', async () => {
    const c = new Clock({ mode: 'realtime' });
    c.after(400e6, () => {}); // the timer is set for 400 ms
    const start = c.wallNs();
    await c.sleep(20e6);
    expect(c.wallNs() - start).toBeLessThan(300e6);
    c.stop();
  });

  it('inside an event, now() is the event time, so chained steps keep their pace', async () => {
    const c = new Clock({ mode: 'realtime' });
    const t0 = c.now();
    const seen: number[] = [];
    await new Promise<void>((done) => {
      const step = (k: number): void => {
        seen.push(c.now());
        const until = performance.now() + 3; // the host is late by 3 ms every step
        while (performance.now() < until) { /* busy */ }
        if (k < 5) c.at(c.now() + 10e6, () => step(k + 1));
        else done();
      };
      c.at(t0 + 10e6, () => step(1));
    });
    // Every step saw exactly its due time: 10, 20, ... 50 ms, the 3 ms of host work did not add up.
    expect(seen.map((t) => Math.round((t - t0) / 1e6))).toEqual([10, 20, 30, 40, 50]);
  });
});

describe('the event heap', () => {
  it('fires every event not cancelled, in (time, scheduling order), whatever the order they were scheduled and cancelled in', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.boolean()), { maxLength: 300 }), (events) => {
        const c = new Clock();
        const fired: [number, number][] = [];
        const ids = events.map(([t], i) => c.at(t, () => fired.push([t, i])));
        let cancelled = 0;
        events.forEach(([, cancel], i) => {
          if (cancel) {
            expect(c.cancel(ids[i]!)).toBe(true);
            expect(c.cancel(ids[i]!)).toBe(false);
            cancelled++;
          }
        });
        expect(c.pending).toBe(events.length - cancelled);
        c.runUntilIdle();
        const want = events.map(([t, cancel], i) => [t, i, cancel] as const).filter(([, , x]) => !x).map(([t, i]) => [t, i]);
        want.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
        expect(fired).toEqual(want);
        expect(c.pending).toBe(0);
        expect(c.cancel(ids[0] ?? 1)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
