import { describe, expect, it } from 'vitest';
import { Clock } from '../../src/core/time/clock.js';
import { Lab } from '../../src/app/lab.js';
import { addNvmeController } from '../../devices/nvme/attach.js';
import { TimingModel } from '../../devices/timing/model.js';
import { resolveTiming } from '../../devices/timing/params.js';
import { runClosedLoop } from '../../src/harness/closed-loop.js';

// read_dispatch: event (docs/timing.md, "Reads dispatched on events"): a read's time is decided when
// its chip and channel get to it, by MQSim's channel rules, not when it is issued.

/** The mqsim preset with every mapping entry in DRAM: page p (8 KiB) is on channel p mod 8, chip ⌊p / 8⌋ mod 4. */
const params = (read_dispatch: 'reserve' | 'event') => resolveTiming({ preset: 'mqsim', mapping_cache_bytes: 0, read_dispatch })!;
const PAGE = 8192;

/**
 * Page 0 (channel 0, chip 0) read at 0 and read again (E) right after, so E waits for chip 0;
 * with `later`, a read of page 8 (channel 0, chip 1) issued at 80 µs, while page 0's first read is
 * on the channel. Returns E's completion time.
 */
function earlierRead(mode: 'reserve' | 'event', later: boolean): number {
  const clock = new Clock();
  const m = new TimingModel(params(mode), clock);
  let e = NaN;
  m.readThen(0, 4096, () => undefined);
  m.readThen(64 * PAGE, 4096, (t) => void (e = t)); // page 64: channel 0, chip 0 again
  if (later) clock.at(80_000, () => m.readThen(8 * PAGE, 4096, () => undefined));
  clock.runUntilIdle();
  return e;
}

describe('read_dispatch', () => {
  it('is reserve on every preset, and a bounded key', () => {
    for (const p of ['femu', 'femu-zns-tlc', 'nvmevirt-zns', 'nvmevirt-zn540', 'simplessd', 'confzns', 'sas-array']) expect(resolveTiming(p)!.read_dispatch).toBe('reserve');
    expect(resolveTiming('mqsim')!.read_dispatch).toBe('event'); // MQSim's own scheduler
    expect(() => resolveTiming({ preset: 'mqsim', read_dispatch: 'eventual' } as never)).toThrow(/read_dispatch must be one of reserve, event/);
  });

  it('event: a read issued later delays one issued earlier on the same channel; reserve: it cannot', () => {
    // Reserve: E's time is fixed when it is issued.
    expect(earlierRead('reserve', true)).toBe(earlierRead('reserve', false));
    // Event: when page 0's transfer ends, chip 1 is next in the channel's round robin and is
    // commanded first; its page is sensed before E's and leaves first: E waits one transfer more.
    const alone = earlierRead('event', false);
    const delayed = earlierRead('event', true);
    const x = (4096 * 1000) / 333; // 4 KiB over a 333 MB/s channel
    expect(delayed - alone).toBeCloseTo(x, 3);
    // Alone, E is commanded when page 0's first read frees chip 0: two reads back to back on one chip.
    expect(alone).toBeCloseTo(2 * (290 + 75_000 + x) + (4096 * 1000) / 4000, 3);
  });

  it('event with cache_read 1: the chip is free after tR, but is commanded only once its channel is free', () => {
    const clock = new Clock();
    const m = new TimingModel(resolveTiming({ preset: 'mqsim', mapping_cache_bytes: 0, read_dispatch: 'event', cache_read: 1 })!, clock);
    const ends: number[] = [];
    for (let i = 0; i < 2; i++) m.readThen(64 * PAGE * i, 4096, (t) => ends.push(t));
    clock.runUntilIdle();
    // Chip 0 is free when the first sense ends, but its channel carries the first page then: the
    // second command waits for it (a command goes only to a free channel, waiting pages first).
    expect(ends[1]! - ends[0]!).toBeCloseTo(290 + 75_000 + (4096 * 1000) / 333, 3);
    m.check();
  });

  it('event reads share chips with programs placed on the calendars: no overlap, every read completes', () => {
    const clock = new Clock();
    const m = new TimingModel(resolveTiming({ preset: 'mqsim', read_dispatch: 'event', write_window_bytes: 64 << 10 })!, clock);
    let done = 0;
    let issued = 0;
    const next = (): void => {
      if (issued >= 4000) return;
      const i = issued++;
      const off = ((i * 7919) % 8192) * 4096;
      if (i % 3 === 0) clock.at(m.write(off, 4096), next);
      else m.readThen(off, 4096, (t) => clock.at(t, () => { done++; m.check(); next(); }));
    };
    for (let q = 0; q < 64; q++) next();
    clock.runUntilIdle();
    expect(done).toBe(4000 - Math.ceil(4000 / 3));
    m.check();
    expect(m.idleAt()).toBeGreaterThan(0);
  });

  it('event: two identical runs give identical figures', () => {
    const w = { name: 'randread-4k-qd128', op: 'read' as const, pattern: 'random' as const, bs: 4096, qd: 128 };
    const a = runClosedLoop(resolveTiming({ preset: 'mqsim', read_dispatch: 'event' })!, w, { workingSetBytes: 4.8e9, requests: 20_000, seed: 3 });
    const b = runClosedLoop(resolveTiming({ preset: 'mqsim', read_dispatch: 'event' })!, w, { workingSetBytes: 4.8e9, requests: 20_000, seed: 3 });
    expect(b.iops).toBe(a.iops);
    expect(b.meanUs).toBe(a.meanUs);
    expect(b.stats).toEqual(a.stats);
  });

  it('event on a nullblk: the same modeled times inline and on a worker, reads queued on chips', async () => {
    const times = async (queue: boolean): Promise<number[]> => {
      const lab = new Lab();
      lab.addNullBlk({ name: 'nullb0', size: 128 << 20, lbs: 4096, backing: 'memory', timing: { preset: 'mqsim', read_dispatch: 'event' }, execution: queue ? 'worker' : 'inline' });
      const t0 = lab.clock.now();
      const ends: number[] = [];
      await Promise.all(Array.from({ length: 64 }, (_, i) => lab.read('/dev/nullb0', ((i * 7919) % 16384) * 4096, 4096).then(() => ends.push(lab.clock.now() - t0))));
      await lab.close();
      return ends;
    };
    const inline = await times(false);
    expect(new Set(inline).size).toBeGreaterThan(8);
    expect(await times(false)).toEqual(inline);
    expect(await times(true)).toEqual(inline);
  });

  it('event on NVMe: reads complete by the events, with the same times inline and on a worker', async () => {
    const times = async (execution: 'inline' | 'worker'): Promise<number[]> => {
      const lab = new Lab();
      addNvmeController(lab, { name: 'nvme0', execution, io_queues: 2, timing: { preset: 'mqsim', read_dispatch: 'event' }, namespaces: [{ size: 64 << 20, lbs: 4096, backing: 'memory' }] });
      const t0 = lab.clock.now();
      const ends: number[] = [];
      await Promise.all(Array.from({ length: 32 }, (_, i) => lab.read('/dev/nvme0n1', ((i * 7919) % 16384) * 4096, 4096).then(() => ends.push(lab.clock.now() - t0))));
      await lab.close();
      return ends;
    };
    const inline = await times('inline');
    expect(Math.min(...inline)).toBeGreaterThan(75_000);
    expect(new Set(inline).size).toBeGreaterThan(8);
    expect(await times('worker')).toEqual(inline);
  });
});
