import { describe, expect, it } from 'vitest';
import { Clock } from '../../src/core/time/clock.js';
import { TimingModel } from '../../devices/timing/model.js';
import { resolveTiming, type TimingSpec } from '../../devices/timing/params.js';

const US = 1000;
const model = (spec: TimingSpec): TimingModel => new TimingModel(resolveTiming(spec)!, new Clock());

describe('the flash scheduler (devices/timing/model.ts)', () => {
  it('completes out of order: a read of an idle die does not wait for one queued behind a busy die', () => {
    const m = model('femu');
    const p = m.params;
    const page = p.page_bytes;
    // Logical pages 0 and 8 live on dies 0 and 1 (channel-first striping: page p on channel p mod 8).
    expect(m.dieOf(0)).not.toBe(m.dieOf(page));
    const a = m.read(0, page);
    const b = m.read(0, page); // queued behind a on its die
    const c = m.read(page, page); // another die: idle
    expect(b).toBeGreaterThan(a);
    expect(c).toBeLessThan(b);
    // c pays only its own path (no wait for b's link transfer).
    const idle = (p.link_latency_us + p.ctrl_overhead_us + p.tr_us) * US + (page * 1000) / p.channel_mbps + (page * 1000) / p.link_mbps;
    expect(c).toBeLessThan(idle + 2 * p.ctrl_overhead_us * US);
  });

  it('reads before programs: a read waits for the program in progress on its die, not for the ones queued', () => {
    const p = resolveTiming({ preset: 'femu', dram_bytes: 64 << 20 })!;
    const clock = new Clock();
    const m = new TimingModel(p, clock);
    const page = p.page_bytes;
    // Eight pages of writes land on the frontier's first eight dies, two rounds: die 0 gets pages 0 and 64.
    for (let i = 0; i < 2 * m.dies; i++) m.write(i * page, page);
    const d0 = m.dieOf(0);
    expect(m.dieOf(m.dies * page)).toBe(d0);
    const r = m.read(0, page);
    // At most one program (200 µs) ahead of it on that die, never both.
    const bound = (p.link_latency_us + p.ctrl_overhead_us + p.tprog_us + p.tr_us) * US + 3 * (page * 1000) / p.channel_mbps + (page * 1000) / p.link_mbps + 5 * US;
    expect(r).toBeLessThan(bound);
    m.check();
  });

  it('a device copy senses each source page once and moves no more over the channels than a host read + write', () => {
    for (const preset of ['femu', 'femu-zns-tlc', 'nvmevirt-zns', 'mqsim']) {
      const pageBytes = resolveTiming(preset)!.page_bytes;
      const dev = model(preset);
      const host = model(preset);
      // 4 KiB pieces, every other block of 8 pages (a GC victim's valid blocks).
      const sources = [];
      for (let off = 0; off < 8 * pageBytes; off += 8192) sources.push({ model: dev, offset: off, length: 4096 });
      dev.copy(sources, 64 << 20);
      for (const s of sources) host.read(s.offset, s.length);
      let dst = 64 << 20;
      for (const s of sources) {
        host.write(dst, s.length);
        dst += s.length;
      }
      dev.idleAt();
      host.idleAt();
      expect(dev.stats.copy_source_pages, preset).toBe(new Set(sources.map((s) => Math.floor(s.offset / pageBytes))).size);
      expect(dev.stats.channel_bytes, preset).toBeLessThanOrEqual(host.stats.channel_bytes);
      expect(dev.stats.link_bytes, preset).toBe(0);
      dev.check();
    }
  });

  it('copyback-aware allocation copies pages back on their source die where the channels bind, and finishes sooner', () => {
    // Slow channels: moving 64 pages of 64 KiB out through the controller takes ~10 ms per channel,
    // a copyback (tR + tPROG) 2 ms on a die.
    const run = (allocation: 'frontier' | 'copyback-aware'): { done: number; m: TimingModel } => {
      const p = resolveTiming({ preset: 'nvmevirt-zns', channel_mbps: 50, allocation })!;
      const m = new TimingModel(p, new Clock());
      const page = p.page_bytes;
      const cmds = [];
      for (let i = 0; i < 64; i++) cmds.push({ sources: [{ model: m, offset: i * page, length: page }], dstOffset: (256 << 20) + i * page });
      return { done: Math.max(...m.copyBatch(cmds)), m };
    };
    const frontier = run('frontier');
    const aware = run('copyback-aware');
    expect(frontier.m.stats.copyback_pages).toBe(0);
    expect(aware.m.stats.copyback_pages).toBeGreaterThan(0);
    expect(aware.done).toBeLessThan(frontier.done);
    expect(aware.m.stats.channel_bytes).toBeLessThan(frontier.m.stats.channel_bytes);
    const page = aware.m.params.page_bytes;
    let onSource = 0;
    for (let i = 0; i < 64; i++) if (aware.m.dieOf((256 << 20) + i * page) === aware.m.dieOf(i * page)) onSource++;
    expect(onSource).toBe(aware.m.stats.copyback_pages);
  });

  it('copyback-aware allocation leaves a copy through the controller where that is sooner (idle channels)', () => {
    const p = resolveTiming({ preset: 'nvmevirt-zns', allocation: 'copyback-aware' })!;
    const m = new TimingModel(p, new Clock());
    m.copy([{ model: m, offset: 0, length: p.page_bytes }], 256 << 20);
    expect(m.stats.copyback_pages).toBe(0);
  });

  it('with write-through, a whole-page copy onto its own die is a copyback: tR + tPROG, no channel transfer', () => {
    const p = resolveTiming({ preset: 'femu', dram_bytes: 0 })!;
    const m = new TimingModel(p, new Clock());
    const fixed = (p.link_latency_us + p.ctrl_overhead_us + p.copy_range_us) * US;
    expect(m.copy([{ model: m, offset: 0, length: p.page_bytes }], 64 * p.page_bytes)).toBeCloseTo(fixed + (p.tr_us + p.tprog_us) * US, 6);
    expect(m.stats.copyback_pages).toBe(1);
    expect(m.stats.channel_bytes).toBe(0);
  });

  it.each(['nvmevirt-zns', 'mqsim'])('is deterministic: the same commands give the same times (%s)', (preset) => {
    const run = (): number[] => {
      const m = model(preset);
      const out: number[] = [];
      for (let i = 0; i < 500; i++) {
        const off = ((i * 7919) % 4096) * 4096;
        out.push(i % 3 === 0 ? m.write(off, 4096) : i % 3 === 1 ? m.read(off, 4096) : m.copy([{ model: m, offset: off, length: 8192 }], (1 << 30) + off));
      }
      out.push(m.idleAt());
      return out;
    };
    expect(run()).toEqual(run());
  });

  it('a die does not sit idle while its data waits for the channel (reads queued on one channel)', () => {
    // nvmevirt-zns senses without a cache register: the die is busy from its sense to the end of
    // its page's transfer. Eight reads on eight dies of one channel sense together; their
    // transfers queue on the channel, so each die's sense starts late enough to meet its turn.
    const m = model('nvmevirt-zns');
    const p = m.params;
    const page = p.page_bytes;
    const cal = (m as unknown as { die: { isFree(a: number, b: number): boolean }[] }).die;
    const offs = Array.from({ length: 8 }, (_, i) => i * p.channels * page);
    const dies = offs.map((o) => m.dieOf(o));
    expect(new Set(dies).size).toBe(8);
    const ends = offs.map((o) => m.read(o, page));
    const x = (page * 1000) / p.channel_mbps;
    const last = dies[7]!;
    // The last read's page leaves at its turn (seven transfers ahead of it) and its die was free until shortly before.
    expect(ends[7]! - ends[0]!).toBeGreaterThanOrEqual(7 * x - 1);
    expect(cal[last]!.isFree(0, 6 * x - p.tr_us * US)).toBe(true);
  });

  it('a step with nothing to move over the channel waits for no channel', async () => {
    const { Calendar } = await import('../../devices/timing/calendar.js');
    const c = new Calendar();
    c.take(100, 50);
    expect(c.fit(120, 0)).toBe(120);
    expect(c.fit(120, 1)).toBe(150);
  });
});
