import { describe, expect, it } from 'vitest';
import { Errno } from '../../src/core/util/errno.js';
import { dmLab, create, fill, expectCopied, MiB } from './helpers.js';
import { KiB } from '../helpers.js';

const LIN = '0 16384 linear /dev/nullb0 0';
const cap = (dm: string) => `/sys/block/${dm}/queue/copy_max_bytes`;

describe('copy_max_bytes on a dm device caps the pieces below it', () => {
  it('131072 written on dm-0: a 1 MiB copy splits into 8 offloaded pieces (16 on a raid1, 8 per leg)', async () => {
    const lab = dmLab(3, { copy_max_hw_bytes: 8 * MiB });
    create(lab, 'lin', LIN);
    create(lab, 'm', '0 16384 raid raid1 1 0 2 - /dev/nullb1 - /dev/nullb2');
    for (const dm of ['/dev/mapper/lin', '/dev/mapper/m']) await fill(lab, dm, 0, MiB, 1);
    const before = await lab.copy('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: 2 * MiB, length: MiB }]);
    expect(before.pieces).toHaveLength(1);
    for (const dm of ['dm-0', 'dm-1']) {
      expect(lab.writeSysfs(cap(dm), '131072')).toMatchObject({ res: 6, value: '131072' });
    }
    const r = await lab.copy('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: 4 * MiB, length: MiB }]);
    expect(r).toMatchObject({ res: MiB, path: 'offload', host_bytes: 0 });
    expect(r.pieces.map((p) => p.length)).toEqual(Array(8).fill(128 * KiB));
    const m = await lab.copy('/dev/mapper/m', [{ srcOffset: 0, dstOffset: 4 * MiB, length: MiB }]);
    expect(m).toMatchObject({ path: 'offload', offloaded_bytes: 2 * MiB });
    expect(m.pieces).toHaveLength(16);
    for (const strategy of ['token', 'paired'] as const) {
      const t = await lab.copy('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: 6 * MiB, length: MiB }], { strategy });
      expect(t.pieces, strategy).toHaveLength(8);
      expect(t.path, strategy).toBe('offload');
    }
    await expectCopied(lab, '/dev/mapper/lin', 4 * MiB, MiB, 1, 0);
    for (const leg of ['nullb1', 'nullb2']) await expectCopied(lab, leg, 4 * MiB, MiB, 1, 0);
  });

  it('never above what the devices below allow: a larger value reads back as the stacked copy_max_hw_bytes and pieces keep the bottom limit', async () => {
    const lab = dmLab(1, { copy_max_hw_bytes: 256 * KiB });
    create(lab, 'lin', LIN);
    await fill(lab, '/dev/mapper/lin', 0, MiB, 2);
    expect(lab.readSysfs('/sys/block/dm-0/queue/copy_max_hw_bytes').value).toBe(String(256 * KiB));
    expect(lab.writeSysfs(cap('dm-0'), String(4 * MiB))).toMatchObject({ value: String(256 * KiB) });
    const r = await lab.copy('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: 2 * MiB, length: MiB }]);
    expect(r.pieces.map((p) => p.length)).toEqual(Array(4).fill(256 * KiB));
  });

  it('a cap on a dm device in the middle of a stack applies to copies through the top; 0 there disables offload through it, named', async () => {
    const lab = dmLab(1, { copy_max_hw_bytes: 8 * MiB });
    create(lab, 'low', LIN);
    create(lab, 'top', '0 16384 linear /dev/mapper/low 0');
    await fill(lab, '/dev/mapper/top', 0, MiB, 3);
    expect(lab.writeSysfs(cap('dm-0'), String(256 * KiB)).res).toBeGreaterThan(0);
    const r = await lab.copy('/dev/mapper/top', [{ srcOffset: 0, dstOffset: 2 * MiB, length: MiB }]);
    expect(r).toMatchObject({ path: 'offload' });
    expect(r.pieces).toHaveLength(4);
    expect(lab.writeSysfs(cap('dm-0'), '0').res).toBeGreaterThanOrEqual(0);
    for (const strategy of ['vectored', 'token'] as const) {
      const off = lab.copy('/dev/mapper/top', [{ srcOffset: 0, dstOffset: (strategy === 'token' ? 5 : 4) * MiB, length: MiB }], { strategy });
      const z = await off;
      expect(z.path, strategy).toBe('emulated');
      expect(z.reasons, strategy).toEqual(['dm-0 has copy offload disabled (copy_max_bytes = 0)']);
    }
    await expectCopied(lab, '/dev/mapper/top', 4 * MiB, MiB, 3, 0);
  });

  it('refusals: not a multiple of the block size, not a number; the cap survives a reload and resume', async () => {
    const lab = dmLab(2, { lbs: 4096, copy_max_hw_bytes: 8 * MiB });
    create(lab, 'lin', LIN);
    expect(lab.writeSysfs(cap('dm-0'), '1000')).toMatchObject({ res: -Errno.EINVAL, message: expect.stringMatching(/not a multiple of logical_block_size \(4096\)/) });
    expect(lab.writeSysfs(cap('dm-0'), 'lots').res).toBe(-Errno.EINVAL);
    expect(lab.writeSysfs(cap('dm-0'), '131072').res).toBeGreaterThan(0);
    expect(lab.dm.reload('lin', '0 16384 linear /dev/nullb1 0').res).toBe(0);
    await lab.dm.suspend('lin');
    lab.dm.resume('lin');
    expect(lab.readSysfs(cap('dm-0')).value).toBe('131072');
    await fill(lab, '/dev/mapper/lin', 0, MiB, 4);
    const r = await lab.copy('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: 2 * MiB, length: MiB }]);
    expect(r.pieces).toHaveLength(8);
  });
});
