import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/app/lab.js';
import { NullBlkDevice } from '../../devices/nullblk/nullblk.js';
import { SparseBacking, SPARSE_CHUNK } from '../../devices/backing/sparse.js';
import { ReqOp } from '../../src/core/block/ops.js';
import { Errno } from '../../src/core/util/errno.js';
import { pattern, MiB } from '../helpers.js';

const TiB = 1024 ** 4;

describe('nullblk', () => {
  it('a 1 TiB sparse device costs memory only for what was written', async () => {
    const lab = new Lab();
    const dev = lab.addNullBlk({ name: 'big', size: TiB, lbs: 4096, backing: 'sparse' });
    const offsets = [0, 3 * 1024 ** 3, TiB / 2 + 4096, TiB - MiB];
    for (const off of offsets) await lab.write('big', off, pattern(MiB, 1, off));
    const backing = dev.backing as SparseBacking;
    // Each 1 MiB write covers 16 or 17 chunks of 64 KiB (17 when it straddles chunk boundaries).
    expect(backing.allocatedBytes).toBeLessThanOrEqual(offsets.length * (MiB + SPARSE_CHUNK));
    expect(backing.allocatedBytes).toBeGreaterThanOrEqual(offsets.length * MiB);
    for (const off of offsets) expect(await lab.read('big', off, MiB)).toEqualBytes(pattern(MiB, 1, off));
    expect((await lab.read('big', TiB / 4, MiB)).every((b) => b === 0)).toBe(true);
    // Offloaded copy between distant offsets inside the device.
    const r = await lab.copy('big', [{ srcOffset: TiB - MiB, dstOffset: 7 * 1024 ** 3, length: MiB }]);
    expect(r.path).toBe('offload');
    expect(await lab.read('big', 7 * 1024 ** 3, MiB)).toEqualBytes(pattern(MiB, 1, TiB - MiB));
  });

  it('copying a hole keeps the destination sparse and reading zeros', async () => {
    const lab = new Lab();
    const dev = lab.addNullBlk({ name: 's', size: 64 * MiB, lbs: 4096, backing: 'sparse' });
    await lab.write('s', 32 * MiB, pattern(MiB, 2));
    const before = (dev.backing as SparseBacking).allocatedChunks;
    const r = await lab.copy('s', [{ srcOffset: 0, dstOffset: 32 * MiB, length: MiB }]);
    expect(r.res).toBe(MiB);
    expect((dev.backing as SparseBacking).allocatedChunks).toBe(before - MiB / SPARSE_CHUNK);
    expect((await lab.read('s', 32 * MiB, MiB)).every((b) => b === 0)).toBe(true);
  });

  it('sparse backing refuses writes past its memory limit with -ENOSPC and writes nothing', async () => {
    const lab = new Lab();
    lab.addNullBlk({ name: 's', size: 64 * MiB, lbs: 4096, backing: 'sparse', memory_limit: 4 * SPARSE_CHUNK });
    expect(await lab.submit('s', { op: ReqOp.WRITE, offset: 0, length: 3 * SPARSE_CHUNK, data: pattern(3 * SPARSE_CHUNK, 1) })).toBe(3 * SPARSE_CHUNK);
    expect(await lab.submit('s', { op: ReqOp.WRITE, offset: 8 * MiB, length: 2 * SPARSE_CHUNK, data: pattern(2 * SPARSE_CHUNK, 1) })).toBe(-Errno.ENOSPC);
    expect((await lab.read('s', 8 * MiB, 2 * SPARSE_CHUNK)).every((b) => b === 0)).toBe(true);
  });

  it('refuses bad options with a message', () => {
    const bad: [Partial<ConstructorParameters<typeof NullBlkDevice>[0]>, RegExp][] = [
      [{ lbs: 1024 as 512 }, /lbs must be 512 or 4096/],
      [{ size: 1000 }, /size must be a positive multiple/],
      [{ size: 0 }, /size must be a positive multiple/],
      [{ copy_max_hw_bytes: 1000 }, /copy_max_hw_bytes/],
      [{ copy_max_hw_bytes: 1024 * MiB }, /BLK_COPY_MAX_BYTES/],
      [{ copy_max_segments: 0 }, /copy_max_segments/],
      [{ name: 'bad name' }, /name/],
      [{ backing: 'disk' as 'memory' }, /backing/],
      [{ size: 8 * 1024 ** 3, backing: 'memory' }, /memory backing size/],
      [{ max_hw_sectors_kb: 2 }, /max_hw_sectors_kb/],
    ];
    for (const [opts, msg] of bad) {
      expect(() => new NullBlkDevice({ name: 'n', size: MiB, lbs: 4096, ...opts })).toThrow(msg);
    }
  });

  it('a lab refuses a second device of the same name', () => {
    const lab = new Lab();
    lab.addNullBlk({ name: 'n', size: MiB });
    expect(() => lab.addNullBlk({ name: 'n', size: MiB })).toThrow(/already exists/);
    expect(() => lab.device('/dev/none')).toThrow(/ENOENT/);
  });

  it('the device refuses a copy bio whose source is outside its domain with -EXDEV', async () => {
    const lab = new Lab();
    const a = lab.addNullBlk({ name: 'a', size: MiB, domain: 'x', copy_max_hw_bytes: MiB });
    lab.addNullBlk({ name: 'b', size: MiB, domain: 'y', copy_max_hw_bytes: MiB });
    const res = await lab.submit('b', { op: ReqOp.COPY, offset: 0, length: 4096, sources: [{ dev: a, offset: 0, length: 4096 }] });
    expect(res).toBe(-Errno.EXDEV);
  });
});
