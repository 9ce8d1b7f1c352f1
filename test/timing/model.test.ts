import { describe, expect, it } from 'vitest';
import { Clock } from '../../src/core/time/clock.js';
import { TimingModel } from '../../devices/timing/model.js';
import { resolveTiming, presetNames } from '../../devices/timing/params.js';
import { Prng } from '../../src/core/util/prng.js';

const US = 1000;
const model = (spec: Parameters<typeof resolveTiming>[0]) => {
  const clock = new Clock();
  return new TimingModel(resolveTiming(spec)!, clock);
};

describe('timing parameters', () => {
  it('resolves presets with overrides and refuses what is out of range, naming the key', () => {
    const p = resolveTiming({ preset: 'nvmevirt-zns', dies_per_channel: 4, tprog_us: 1900 })!;
    expect(p.channels).toBe(8);
    expect(p.dies_per_channel).toBe(4);
    expect(p.tprog_us).toBe(1900);
    expect(resolveTiming('none')).toBeNull();
    expect(resolveTiming(undefined)).toBeNull();
    expect(() => resolveTiming({ preset: 'femu', channels: 0 })).toThrow(/timing.channels must be an integer in 1..256/);
    expect(() => resolveTiming({ preset: 'femu', warp: 9 } as never)).toThrow(/unknown key warp/);
    expect(() => resolveTiming('fast-ssd')).toThrow(/unknown preset "fast-ssd"/);
    expect(() => resolveTiming({ preset: 'femu', link: 'usb2' as never })).toThrow(/unknown link/);
    expect(presetNames()).toContain('sas-array');
  });

  it('a named link brings its nominal rate unless the rate is given', () => {
    expect(resolveTiming({ preset: 'femu', link: 'pcie4x4' })!.link_mbps).toBe(7877);
    expect(resolveTiming({ preset: 'femu', link: 'pcie4x4', link_mbps: 5000 })!.link_mbps).toBe(5000);
  });
});

describe('closed forms', () => {
  it('a 4 KiB read on an idle die costs link latency + controller + tR + channel and link transfers', () => {
    const m = model('femu');
    const p = m.params;
    const expected = (p.link_latency_us + p.ctrl_overhead_us + p.tr_us) * US + (4096 * 1000) / p.channel_mbps + (4096 * 1000) / p.link_mbps;
    expect(m.read(0, 4096)).toBeCloseTo(expected, 6);
  });

  it('a sequential read stream saturates at min(link, channels × channel rate, dies × page / tR)', () => {
    for (const preset of ['femu', 'nvmevirt-zns', 'mqsim', 'confzns']) {
      const m = model(preset);
      const p = m.params;
      let bound = Math.min(p.link_mbps, p.channels * p.channel_mbps, (m.dies * p.page_bytes) / p.tr_us); // MB/s = B/µs
      if (p.command_cycle_ns > 0) {
        // Commands only in the channel's gaps (mqsim): a channel's k chips are commanded together
        // when its transfers end, sense together (its channel idle), then send their pages back
        // to back, k pages per k commands + tR + k transfers (docs/timing.md, "How the device schedules").
        const k = p.dies_per_channel / (p.issue === 'chip' ? p.dies_per_chip : 1);
        const round = (k * p.command_cycle_ns) / 1000 + p.tr_us + (k * p.page_bytes) / p.channel_mbps; // µs
        bound = Math.min(p.link_mbps, (p.channels * k * p.page_bytes) / round, (m.dies * p.page_bytes) / p.tr_us);
      }
      const total = 1 << 30;
      const io = 128 << 10;
      let done = 0;
      for (let off = 0; off < total; off += io) done = Math.max(done, m.read(off, io));
      const mbps = total / (done / 1000);
      expect(Math.abs(mbps - bound) / bound, preset).toBeLessThan(0.02);
    }
  });

  it("Little's law holds for 4 KiB random reads from QD 1 to 256 within 2%", () => {
    for (const qd of [1, 4, 16, 64, 256]) {
      const clock = new Clock();
      const m = new TimingModel(resolveTiming('femu')!, clock);
      const rng = new Prng(qd);
      const blocks = (1 << 30) / 4096;
      let completed = 0;
      let latencySum = 0;
      const warm = 2000;
      const n = 20000;
      let tStart = 0;
      const issue = (): void => {
        const t0 = clock.now();
        const done = m.read(rng.below(blocks) * 4096, 4096);
        clock.at(done, () => {
          completed++;
          if (completed === warm) tStart = clock.now();
          if (completed > warm) latencySum += clock.now() - t0;
          if (completed < warm + n) issue();
        });
      };
      for (let i = 0; i < qd; i++) issue();
      clock.runUntilIdle();
      const x = n / (clock.now() - tStart); // per ns
      const r = latencySum / n;
      expect(Math.abs(x * r - qd) / qd, `QD ${qd}`).toBeLessThan(0.02);
    }
  });

  it('same-die copyback costs tR + tPROG; a cross-die copy adds two channel transfers', () => {
    const p = resolveTiming({ preset: 'femu', dram_bytes: 0 })!; // write-through: a copy completes when programmed
    const fixed = (p.link_latency_us + p.ctrl_overhead_us + p.copy_range_us) * US;
    const page = p.page_bytes;
    let m = new TimingModel(p, new Clock());
    expect(m.copy([{ model: m, offset: 0, length: page }], 64 * page)).toBeCloseTo(fixed + (p.tr_us + p.tprog_us) * US, 6);
    expect(m.stats.copyback_pages).toBe(1);
    // Without copyback the page goes through the controller: out over the source channel, in over the destination's.
    m = new TimingModel({ ...p, copyback: 0 }, new Clock());
    const xfer = (page * 1000) / p.channel_mbps;
    expect(m.copy([{ model: m, offset: 0, length: page }], page)).toBeCloseTo(fixed + (p.tr_us + p.tprog_us) * US + 2 * xfer, 6);
    expect(m.stats.cross_die_pieces).toBe(1);
  });

  it('writes complete in the write-back buffer until it is full, then at the program rate', () => {
    const p = resolveTiming({ preset: 'femu', dram_bytes: 1 << 20 })!;
    const m = new TimingModel(p, new Clock());
    const first = m.write(0, 4096);
    expect(first).toBeCloseTo((p.link_latency_us + p.ctrl_overhead_us) * US + (4096 * 1000) / p.link_mbps, 6);
    // Stream 64 MiB: far beyond the buffer, so the rate settles at dies × page / tPROG (or the channels).
    let done = 0;
    const total = 64 << 20;
    for (let off = 0; off < total; off += 1 << 17) done = Math.max(done, m.write(off, 1 << 17));
    const mbps = total / (done / 1000);
    const bound = Math.min(p.link_mbps, p.channels * p.channel_mbps, (m.dies * p.page_bytes) / p.tprog_us);
    expect(Math.abs(mbps - bound) / bound).toBeLessThan(0.05);
  });

  it('an erase of a zone spanning every die costs one tBERS (dies erase in parallel)', () => {
    const m = model('femu');
    const p = m.params;
    const t = m.erase(0, 64 << 20);
    expect(t).toBeCloseTo((p.link_latency_us + p.ctrl_overhead_us + p.tbers_us) * US, 6);
  });

  it('writes land at the write frontier and reads find them there', () => {
    const m = model({ preset: 'femu', dram_bytes: 0 });
    // Page 5 is written first: the frontier's first die (die 0), not page 5's striped home.
    m.write(5 * 4096, 4096);
    expect(m.dieOf(5 * 4096)).toBe(0);
    m.write(0, 4096);
    expect(m.dieOf(0)).toBe(m.dieOf(0)); // recorded
    expect(m.dieOf(0)).not.toBe(0); // the frontier moved on to the next die
  });
});
