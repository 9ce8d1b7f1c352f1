import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Errno } from '../../src/core/util/errno.js';
import { ReqOp } from '../../src/core/block/ops.js';
import { labWith, pattern, KiB, MiB } from '../helpers.js';

const SEED = 42;

async function seeded(lab: ReturnType<typeof labWith>, dev: string, offset: number, length: number, seed = SEED) {
  await lab.write(dev, offset, pattern(length, seed, offset));
}

describe('copy engine: data', () => {
  it('copies one block, offloaded, with no host bytes', async () => {
    const lab = labWith([{ copy_max_hw_bytes: MiB }]);
    await seeded(lab, 'nullb0', 0, 4096);
    const r = await lab.copy('nullb0', [{ srcOffset: 0, dstOffset: 8 * MiB, length: 4096 }]);
    expect(r).toMatchObject({ res: 4096, path: 'offload', host_bytes: 0 });
    expect(r.pieces).toHaveLength(1);
    expect(await lab.read('nullb0', 8 * MiB, 4096)).toEqualBytes(pattern(4096, SEED, 0));
  });

  it('copies many ranges; contiguous destinations gather into one many-sources piece', async () => {
    const lab = labWith([{ copy_max_hw_bytes: MiB, copy_max_segments: 8 }]);
    await seeded(lab, 'nullb0', 0, 4 * MiB);
    // 16 scattered sources onto one contiguous destination: 2 pieces of 8 sources each.
    const ranges = Array.from({ length: 16 }, (_, i) => ({ srcOffset: (15 - i) * 128 * KiB, dstOffset: 8 * MiB + i * 16 * KiB, length: 16 * KiB }));
    const r = await lab.copy('nullb0', ranges);
    expect(r.res).toBe(256 * KiB);
    expect(r.path).toBe('offload');
    expect(r.pieces.map((p) => p.sources)).toEqual([8, 8]);
    for (const [i, rg] of ranges.entries()) {
      expect(await lab.read('nullb0', rg.dstOffset, rg.length), `range ${i}`).toEqualBytes(pattern(rg.length, SEED, rg.srcOffset));
    }
  });

  it('splits across copy_max_bytes boundaries with unaligned-to-limit lengths', async () => {
    const lab = labWith([{ copy_max_hw_bytes: 256 * KiB }]);
    await seeded(lab, 'nullb0', 0, 1000 * 4 * KiB);
    const len = 1000 * 4 * KiB; // 15.6 pieces of 256 KiB
    const r = await lab.copy('nullb0', [{ srcOffset: 0, dstOffset: 8 * MiB, length: len }]);
    expect(r.res).toBe(len);
    expect(r.pieces).toHaveLength(16);
    expect(r.pieces.every((p) => p.length <= 256 * KiB && p.path === 'offload')).toBe(true);
    expect(await lab.read('nullb0', 8 * MiB, len)).toEqualBytes(pattern(len, SEED, 0));
  });

  it('respects a lower user copy_max_bytes from sysfs', async () => {
    const lab = labWith([{ copy_max_hw_bytes: MiB }]);
    await seeded(lab, 'nullb0', 0, MiB);
    expect(lab.writeSysfs('/sys/block/nullb0/queue/copy_max_bytes', '262144').res).toBeGreaterThan(0);
    const r = await lab.copy('nullb0', [{ srcOffset: 0, dstOffset: 4 * MiB, length: MiB }]);
    expect(r.pieces).toHaveLength(4);
  });

  it('offloads across devices in one copy domain and emulates across domains', async () => {
    const lab = labWith([
      { copy_max_hw_bytes: MiB, domain: 'd0' },
      { copy_max_hw_bytes: MiB, domain: 'd0' },
      { copy_max_hw_bytes: MiB, domain: 'd1' },
      { copy_max_hw_bytes: MiB }, // no domain: a domain of its own
    ]);
    await seeded(lab, 'nullb0', 0, 2 * MiB);
    const same = await lab.copy('nullb1', [{ src: 'nullb0', srcOffset: 0, dstOffset: 0, length: 2 * MiB }]);
    expect(same).toMatchObject({ res: 2 * MiB, path: 'offload', host_bytes: 0 });
    for (const dst of ['nullb2', 'nullb3']) {
      const other = await lab.copy(dst, [{ src: '/dev/nullb0', srcOffset: 0, dstOffset: 0, length: 2 * MiB }]);
      expect(other).toMatchObject({ res: 2 * MiB, path: 'emulated', host_bytes: 4 * MiB });
      expect(other.pieces.every((p) => p.reason?.code === 'cross_domain')).toBe(true);
      expect(await lab.read(dst, 0, 2 * MiB)).toEqualBytes(pattern(2 * MiB, SEED, 0));
    }
    expect(await lab.read('nullb1', 0, 2 * MiB)).toEqualBytes(pattern(2 * MiB, SEED, 0));
  });

  it('copies between 512- and 4096-byte devices (emulated), aligned to the larger block', async () => {
    const lab = labWith([{ lbs: 512, copy_max_hw_bytes: 0 }, { lbs: 4096 }]);
    await seeded(lab, 'nullb0', 0, 64 * KiB);
    expect((await lab.copy('nullb1', [{ src: 'nullb0', srcOffset: 512, dstOffset: 0, length: 4096 }])).res).toBe(-Errno.EINVAL);
    const r = await lab.copy('nullb1', [{ src: 'nullb0', srcOffset: 4096, dstOffset: 0, length: 64 * KiB - 4096 }]);
    expect(r.res).toBe(60 * KiB);
    expect(await lab.read('nullb1', 0, 60 * KiB)).toEqualBytes(pattern(60 * KiB, SEED, 4096));
  });

  it('copy_max_bytes = 0 emulates with correct data and says why', async () => {
    const lab = labWith([{ copy_max_hw_bytes: MiB }]);
    await seeded(lab, 'nullb0', 0, 3 * MiB);
    expect(lab.writeSysfs('/sys/block/nullb0/queue/copy_max_bytes', '0').res).toBeGreaterThan(0);
    const r = await lab.copy('nullb0', [{ srcOffset: 0, dstOffset: 8 * MiB, length: 3 * MiB }]);
    expect(r).toMatchObject({ res: 3 * MiB, path: 'emulated', host_bytes: 6 * MiB });
    expect(r.reasons[0]).toMatch(/copy_max_bytes = 0/);
    expect(await lab.read('nullb0', 8 * MiB, 3 * MiB)).toEqualBytes(pattern(3 * MiB, SEED, 0));
  });

  it('emulates pieces below copy_offload_min_bytes', async () => {
    const lab = labWith([{ copy_max_hw_bytes: MiB }]);
    await seeded(lab, 'nullb0', 0, MiB);
    lab.writeSysfs('/sys/block/nullb0/queue/copy_offload_min_bytes', String(128 * KiB));
    const small = await lab.copy('nullb0', [{ srcOffset: 0, dstOffset: 4 * MiB, length: 64 * KiB }]);
    expect(small.path).toBe('emulated');
    expect(small.pieces[0]!.reason?.code).toBe('below_min');
    const big = await lab.copy('nullb0', [{ srcOffset: 0, dstOffset: 6 * MiB, length: 128 * KiB }]);
    expect(big.path).toBe('offload');
    expect(await lab.read('nullb0', 4 * MiB, 64 * KiB)).toEqualBytes(pattern(64 * KiB, SEED, 0));
  });

  it('an injected offload failure falls back to emulation, with correct data and a trace that says why', async () => {
    const lab = labWith([{ copy_max_hw_bytes: MiB }]);
    await seeded(lab, 'nullb0', 0, 2 * MiB);
    lab.device('nullb0').faults.add(ReqOp.COPY, Errno.EIO, 1, 1); // the second piece fails
    const r = await lab.copy('nullb0', [{ srcOffset: 0, dstOffset: 8 * MiB, length: 2 * MiB }]);
    expect(r).toMatchObject({ res: 2 * MiB, path: 'mixed', host_bytes: 2 * MiB });
    expect(r.pieces.map((p) => p.path)).toEqual(['offload', 'emulated']);
    expect(r.pieces[1]!.reason?.code).toBe('offload_failed');
    const text = r.trace.format();
    expect(text).toMatch(/ C  CP .*\[-5 EIO\] \[injected fault\]/);
    expect(text).toMatch(/ E  CP .*offload_failed: offload failed with -5 \(EIO\)/);
    expect(await lab.read('nullb0', 8 * MiB, 2 * MiB)).toEqualBytes(pattern(2 * MiB, SEED, 0));
  });

  it('with fallback switched off, a failed offload fails the copy and stops at the failed piece', async () => {
    const lab = labWith([{ copy_max_hw_bytes: MiB }], { fallback: false });
    await seeded(lab, 'nullb0', 0, 3 * MiB);
    lab.device('nullb0').faults.add(ReqOp.COPY, Errno.EIO, 1, 1);
    const r = await lab.copy('nullb0', [{ srcOffset: 0, dstOffset: 8 * MiB, length: 3 * MiB }]);
    expect(r.res).toBe(-Errno.EIO);
    expect(r.bytes).toBe(MiB);
    expect(r.pieces).toHaveLength(2);
    expect(await lab.read('nullb0', 8 * MiB, MiB)).toEqualBytes(pattern(MiB, SEED, 0));
    expect((await lab.read('nullb0', 9 * MiB, 2 * MiB)).every((b) => b === 0)).toBe(true);
  });

  it('a failed read during emulation fails the copy with that errno', async () => {
    const lab = labWith([{ copy_max_hw_bytes: 0 }]);
    lab.device('nullb0').faults.add(ReqOp.READ, Errno.EIO);
    const r = await lab.copy('nullb0', [{ srcOffset: 0, dstOffset: 8 * MiB, length: 64 * KiB }]);
    expect(r.res).toBe(-Errno.EIO);
    expect(r.bytes).toBe(0);
  });

  it('a zero-length copy succeeds and does nothing', async () => {
    const lab = labWith([{}]);
    const r = await lab.copy('nullb0', [{ srcOffset: 0, dstOffset: 4096, length: 0 }]);
    expect(r).toMatchObject({ res: 0, path: 'none', pieces: [] });
    expect((await lab.copy('nullb0', [])).res).toBe(0);
    expect(lab.device('nullb0').stats.ios.copy + lab.device('nullb0').stats.ios.write).toBe(0);
  });
});

describe('copy engine: rejected copies write nothing', () => {
  const cases: [string, (size: number) => { src?: string; srcOffset: number; dstOffset: number; length: number }[], RegExp][] = [
    ['unaligned source', () => [{ srcOffset: 512, dstOffset: 8 * MiB, length: 4096 }], /aligned/],
    ['unaligned length', () => [{ srcOffset: 0, dstOffset: 8 * MiB, length: 4097 }], /aligned/],
    ['source out of bounds', (size) => [{ srcOffset: size - 4096, dstOffset: 8 * MiB, length: 8192 }], /beyond its end/],
    ['destination out of bounds', (size) => [{ srcOffset: 0, dstOffset: size - 4096, length: 8192 }], /beyond its end/],
    ['source overlaps destination', () => [{ srcOffset: 8 * MiB, dstOffset: 8 * MiB + 4096, length: 8192 }], /overlaps/],
    ['a later source overlaps an earlier destination', () => [
      { srcOffset: 0, dstOffset: 8 * MiB, length: 4096 },
      { srcOffset: 8 * MiB, dstOffset: 12 * MiB, length: 4096 },
    ], /overlaps/],
    ['destinations overlap', () => [
      { srcOffset: 0, dstOffset: 8 * MiB, length: 8192 },
      { srcOffset: 64 * KiB, dstOffset: 8 * MiB + 4096, length: 8192 },
    ], /destinations overlap/],
    ['more ranges than the limit', () => Array.from({ length: 17 }, (_, i) => ({ srcOffset: i * 4096, dstOffset: 8 * MiB + i * 4096, length: 4096 })), /exceed the limit/],
    ['negative offset', () => [{ srcOffset: -4096, dstOffset: 8 * MiB, length: 4096 }], /non-negative/],
  ];
  for (const [name, ranges, message] of cases) {
    it(`${name}: -EINVAL`, async () => {
      const lab = labWith([{ copy_max_hw_bytes: MiB }], { maxCopyRanges: 16 });
      await seeded(lab, 'nullb0', 0, 16 * MiB);
      const before = await lab.read('nullb0', 0, 16 * MiB);
      const r = await lab.copy('nullb0', ranges(16 * MiB));
      expect(r.res).toBe(-Errno.EINVAL);
      expect(r.message).toMatch(message);
      expect(r.pieces).toHaveLength(0);
      expect(await lab.read('nullb0', 0, 16 * MiB)).toEqualBytes(before);
      expect(lab.device('nullb0').stats.ios.copy).toBe(0);
    });
  }

  it('a copy larger than the per-request byte limit: -EINVAL', async () => {
    const lab = labWith([{}], { maxCopyBytes: MiB });
    const r = await lab.copy('nullb0', [{ srcOffset: 0, dstOffset: 8 * MiB, length: 2 * MiB }]);
    expect(r.res).toBe(-Errno.EINVAL);
  });
});

describe('copy engine: property', () => {
  it('any valid set of ranges gives the same bytes as a plain reference copy, offloaded or emulated', async () => {
    const BLOCKS = 256; // 1 MiB of 4 KiB blocks per device
    const rangeArb = fc.record({ srcDev: fc.integer({ min: 0, max: 2 }), src: fc.integer({ min: 0, max: BLOCKS - 1 }), dst: fc.integer({ min: 0, max: BLOCKS - 1 }), len: fc.integer({ min: 0, max: 24 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(rangeArb, { maxLength: 12 }), fc.integer({ min: 0, max: 3 }), fc.boolean(), async (raw, maxBlocks, failOne) => {
        const lab = labWith(
          [
            { size: MiB, copy_max_hw_bytes: maxBlocks * 4096, copy_max_segments: 3, domain: 'd0' },
            { size: MiB, copy_max_hw_bytes: MiB, domain: 'd0' },
            { size: MiB, copy_max_hw_bytes: MiB, domain: 'd1' },
          ],
        );
        const ref = [0, 1, 2].map((i) => pattern(MiB, 100 + i));
        for (let i = 0; i < 3; i++) await lab.write(`nullb${i}`, 0, ref[i]!);
        if (failOne) lab.device('nullb0').faults.add(ReqOp.COPY, Errno.EIO);
        const ranges = raw.map((r) => ({ src: `nullb${r.srcDev}`, srcOffset: r.src * 4096, dstOffset: r.dst * 4096, length: r.len * 4096 }));
        const result = await lab.copy('nullb0', ranges);
        // Reference: a valid request copies each range from the original sources.
        const expected = new Uint8Array(ref[0]!);
        let valid = true;
        const dsts: [number, number][] = [];
        for (const r of raw) {
          if (r.len === 0) continue;
          if (r.src + r.len > BLOCKS || r.dst + r.len > BLOCKS) valid = false;
          dsts.push([r.dst, r.dst + r.len]);
        }
        for (const [i, a] of dsts.entries()) for (const [j, b] of dsts.entries()) if (i !== j && a[0] < b[1] && b[0] < a[1]) valid = false;
        for (const r of raw) {
          if (r.len === 0 || r.srcDev !== 0) continue;
          for (const d of dsts) if (r.src < d[1] && d[0] < r.src + r.len) valid = false;
        }
        const after = await lab.read('nullb0', 0, MiB);
        if (!valid) {
          expect(result.res).toBe(-Errno.EINVAL);
          expect(after).toEqualBytes(ref[0]!);
          return;
        }
        for (const r of raw) expected.set(ref[r.srcDev]!.subarray(r.src * 4096, (r.src + r.len) * 4096), r.dst * 4096);
        expect(result.res).toBe(raw.reduce((n, r) => n + r.len * 4096, 0));
        expect(after).toEqualBytes(expected);
        const emulatedBytes = result.pieces.filter((p) => p.path === 'emulated').reduce((n, p) => n + p.length, 0);
        expect(result.host_bytes).toBe(2 * emulatedBytes);
      }),
      { numRuns: 150, seed: 20261121 },
    );
  });
});
