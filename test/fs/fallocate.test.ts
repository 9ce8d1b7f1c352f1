import { describe, expect, it } from 'vitest';
import { CopyFs } from '../../src/app/fs/fs.js';
import { ReqOp } from '../../src/core/block/ops.js';
import { Errno } from '../../src/core/util/errno.js';
import { KiB, MiB, labsClosedAfterEach, pattern } from '../helpers.js';
import { errnoOf } from './files.js';

const newLab = labsClosedAfterEach();

function setup(discard = true, size = 16 * MiB): CopyFs {
  const lab = newLab();
  lab.addNullBlk({ name: 'nullb0', size, lbs: 4096, backing: 'memory', discard });
  return CopyFs.mkfs(lab, '/dev/nullb0', { cacheBytes: 2 * MiB });
}

describe('fallocate and O_DIRECT reads (src/app/fs/fs.ts)', () => {
  it('fallocate gives the holes blocks zeroed on the device by WRITE_ZEROES, keeps the data it has, grows the size', async () => {
    for (const discard of [true, false]) {
      const fs = setup(discard);
      // Old bytes on the device where the file's new blocks will go: they must read as zeros.
      await fs.lab.write('/dev/nullb0', 0, pattern(4 * MiB, 1));
      const fd = fs.open('/img', { read: true, write: true, create: true });
      const inode = fs.fd(fd).inode;
      const data = pattern(64 * KiB, 2);
      expect(await fs.writeAt(inode, 1 * MiB, data)).toBe(data.length);
      const trace = fs.lab.newTrace();
      await fs.fallocate(inode, 0, 3 * MiB, trace);
      expect(inode.size).toBe(3 * MiB);
      expect(fs.stat('/img').blocks).toBe(768);
      // WRITE_ZEROES where the device has it; WRITEs of zeros where it has not.
      expect(trace.events.some((e) => e.op === ReqOp.WRITE_ZEROES && e.action === 'C' && e.res === 0)).toBe(discard);
      expect(trace.events.filter((e) => e.op === ReqOp.WRITE && e.action === 'D').length > 1).toBe(!discard);
      fs.invalidate(inode, 0, Infinity);
      const back = new Uint8Array(3 * MiB);
      expect(await fs.readAt(inode, 0, back)).toBe(3 * MiB);
      const want = new Uint8Array(3 * MiB);
      want.set(data, 1 * MiB);
      expect(back).toEqualBytes(want);
      expect(fs.fsck()).toEqual([]);
    }
  });

  it('fallocate refuses what the man page refuses and allocates nothing when the space is not there', async () => {
    const fs = setup(true, 1 * MiB); // 256 blocks
    const inode = fs.fd(fs.open('/img', { read: true, write: true, create: true })).inode;
    expect(await errnoOf(fs.fallocate(inode, 0, 0))).toBe(-Errno.EINVAL);
    expect(await errnoOf(fs.fallocate(inode, -4096, 4096))).toBe(-Errno.EINVAL);
    expect(await errnoOf(fs.fallocate(inode, 0, 2 ** 45))).toBe(-Errno.EFBIG);
    expect(await errnoOf(fs.fallocate(inode, 0, 2 * MiB))).toBe(-Errno.ENOSPC);
    expect([inode.size, fs.stat('/img').blocks, fs.allocator.freeBlocks]).toEqual([0, 0, 256]);
    expect(await errnoOf(fs.fallocate(fs.root, 0, 4096))).toBe(-Errno.EISDIR);
  });

  it('an O_DIRECT read writes dirty pages back first, reads holes as zeros and nothing past the end; it wants block boundaries', async () => {
    const fs = setup();
    const inode = fs.fd(fs.open('/f', { read: true, write: true, create: true })).inode;
    const data = pattern(100 * KiB + 10, 3);
    expect(await fs.writeAt(inode, 64 * KiB, data)).toBe(data.length);
    const out = new Uint8Array(256 * KiB).fill(0xee);
    expect(await fs.readDirect(inode, 0, out)).toBe(64 * KiB + data.length);
    expect(fs.cache.dirtyPages).toBe(0);
    const want = new Uint8Array(256 * KiB);
    want.set(data, 64 * KiB);
    expect(out).toEqualBytes(want);
    expect(await errnoOf(fs.readDirect(inode, 100, new Uint8Array(4096)))).toBe(-Errno.EINVAL);
    expect(await errnoOf(fs.readDirect(inode, 0, new Uint8Array(1000)))).toBe(-Errno.EINVAL);
  });
});
