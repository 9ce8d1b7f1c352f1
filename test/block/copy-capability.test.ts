import { describe, expect, it, vi } from 'vitest';
import { Lab } from '../../src/app/lab.js';
import { ReqOp } from '../../src/core/block/ops.js';
import { Errno } from '../../src/core/util/errno.js';
import { addNvmeController } from '../../devices/nvme/attach.js';
import { addScsiArray } from '../../devices/scsi/attach.js';
import { pattern, MiB } from '../helpers.js';

/** One lab with a nullblk source, an sd disk (each copy mode) and an NVMe namespace. */
function mixedLab(copyMode: 'xcopy' | 'token'): Lab {
  const lab = new Lab();
  lab.addNullBlk({ name: 'nullb0', size: 16 * MiB, lbs: 4096, backing: 'memory' });
  addScsiArray(lab, { name: 'arr0', copyMode, lus: [{ name: 'sda', size: 16 * MiB, lbs: 4096 }] });
  addNvmeController(lab, { name: 'nvme0', namespaces: [{ size: 16 * MiB, lbs: 4096, backing: 'memory' }] });
  return lab;
}

const LEN = 64 * 1024;

describe('copy capability enforced at submit (one rule for every driver)', () => {
  for (const mode of ['xcopy', 'token'] as const) {
    it(`a COPY bio from a nullblk source is -EXDEV on an sd disk (${mode}) and on an NVMe namespace, with nothing written and no exception`, async () => {
      const lab = mixedLab(mode);
      const src = pattern(LEN, 7);
      await lab.write('nullb0', 0, src);
      const warn = vi.spyOn(process, 'emitWarning');
      try {
        const results: Record<string, number> = {};
        for (const dst of ['sda', 'nvme0n1']) {
          results[dst] = await lab.submit(dst, { op: ReqOp.COPY, offset: 0, length: LEN, sources: [{ dev: lab.device('nullb0'), offset: 0, length: LEN }] });
          expect((await lab.read(dst, 0, LEN)).every((b) => b === 0)).toBe(true);
        }
        expect(results).toEqual({ sda: -Errno.EXDEV, nvme0n1: -Errno.EXDEV });
        // A driver that threw would be reported as a warning and -EIO by submitBioWait.
        expect(warn).not.toHaveBeenCalled();
      } finally {
        warn.mockRestore();
      }
    });

    it(`lab.copy from a nullblk source falls back the same way on sd (${mode}) and NVMe: emulated, data read back`, async () => {
      const lab = mixedLab(mode);
      const src = pattern(LEN, 9);
      await lab.write('nullb0', 4096, src);
      const paths: string[] = [];
      for (const dst of ['sda', 'nvme0n1']) {
        const r = await lab.copy(dst, [{ src: 'nullb0', srcOffset: 4096, dstOffset: 8192, length: LEN }]);
        expect(r.res).toBe(LEN);
        paths.push(`${r.path}:${r.reasons.length}`);
        expect(Buffer.from(await lab.read(dst, 8192, LEN)).equals(Buffer.from(src))).toBe(true);
      }
      expect(paths[0]).toBe(paths[1]);
      expect(paths[0]).toMatch(/^emulat/);
    });
  }

  it('a copy within one sd disk still offloads through the submit path', async () => {
    const lab = mixedLab('xcopy');
    const src = pattern(LEN, 3);
    await lab.write('sda', 0, src);
    const sda = lab.device('sda');
    expect(await lab.submit('sda', { op: ReqOp.COPY, offset: MiB, length: LEN, sources: [{ dev: sda, offset: 0, length: LEN }] })).toBe(LEN);
    expect(Buffer.from(await lab.read('sda', MiB, LEN)).equals(Buffer.from(src))).toBe(true);
  });

  it('a nullblk destination refuses an sd source with the same -EXDEV', async () => {
    const lab = mixedLab('xcopy');
    expect(await lab.submit('nullb0', { op: ReqOp.COPY, offset: 0, length: LEN, sources: [{ dev: lab.device('sda'), offset: 0, length: LEN }] })).toBe(-Errno.EXDEV);
  });
});
