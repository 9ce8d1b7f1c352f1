import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExtentList } from '../../src/app/fs/extents.js';
import { BlockAllocator } from '../../src/app/fs/allocator.js';
import { CopyFs } from '../../src/app/fs/fs.js';
import { eq, labsClosedAfterEach, pattern } from '../helpers.js';

const newLab = labsClosedAfterEach();

describe('the extent list (src/app/fs/extents.ts)', () => {
  it('agrees with a block-by-block map over random maps and unmaps, and keeps touching runs merged', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 8 })), { maxLength: 60 }), (ops) => {
        const x = new ExtentList();
        const ref = new Map<number, number>();
        let nextDev = 1000;
        for (const [isMap, fb, count] of ops) {
          if (isMap) {
            // Map only where all of [fb, fb + count) is a hole.
            let free = true;
            for (let i = 0; i < count; i++) if (ref.has(fb + i)) free = false;
            if (!free) continue;
            x.map(fb, nextDev, count);
            for (let i = 0; i < count; i++) ref.set(fb + i, nextDev + i);
            nextDev += count + (fb % 2); // sometimes contiguous with the last run, sometimes not
          } else {
            const freed = x.unmap(fb, count);
            const want = [...Array(count).keys()].filter((i) => ref.has(fb + i)).length;
            expect(freed.reduce((s, r) => s + r.count, 0)).toBe(want);
            for (let i = 0; i < count; i++) ref.delete(fb + i);
          }
          for (let b = 0; b < 70; b++) expect(x.lookup(b)).toBe(ref.get(b) ?? -1);
          for (let i = 1; i < x.list.length; i++) {
            const p = x.list[i - 1]!;
            const e = x.list[i]!;
            expect(p.file + p.count <= e.file).toBe(true);
            expect(p.file + p.count === e.file && p.dev + p.count === e.dev).toBe(false);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('the block allocator (src/app/fs/allocator.ts)', () => {
  it('hands out each block once, keeps promises, refuses past its space', () => {
    const a = new BlockAllocator(100);
    const got = a.allocate(60);
    expect(got.reduce((s, e) => s + e.count, 0)).toBe(60);
    a.reserve(30);
    expect(a.available).toBe(10);
    expect(() => a.allocate(11)).toThrow(/ENOSPC/);
    expect(() => a.reserve(11)).toThrow(/ENOSPC/);
    a.allocate(30, true); // from the reservation
    expect(a.reservedBlocks).toBe(0);
    expect(a.freeBlocks).toBe(10);
    a.release(got[0]!.start, got[0]!.count);
    expect(() => a.release(got[0]!.start, 1)).toThrow(/freed twice/);
  });
});

describe('the page cache under pressure', () => {
  it('a file 16 times the cache is written, written back and read again intact; memory stays within the cache', async () => {
    const lab = newLab();
    lab.addNullBlk({ name: 'nullb0', size: 64 << 20, lbs: 4096, backing: 'memory' });
    const fs = CopyFs.mkfs(lab, '/dev/nullb0', { cacheBytes: 1 << 20 });
    const data = pattern(16 << 20, 11);
    const fd = fs.open('/big', { read: true, write: true, create: true });
    const inode = fs.fd(fd).inode;
    for (let at = 0; at < data.length; at += 300_000) expect(await fs.writeAt(inode, at, data.subarray(at, Math.min(data.length, at + 300_000)))).toBeGreaterThan(0);
    expect(fs.cache.bytes).toBeLessThanOrEqual(1 << 20);
    expect(fs.cache.dirtyPages * 4096).toBeLessThanOrEqual(512 << 10);
    const back = new Uint8Array(data.length);
    expect(await fs.readAt(inode, 0, back)).toBe(data.length);
    expect(eq(back, data)).toBe(true);
    expect(fs.cache.stats.writebacks).toBeGreaterThan(0);
    expect(fs.cache.stats.evicted).toBeGreaterThan(0);
    // The device holds it too, once synced.
    await fs.sync();
    expect(fs.cache.dirtyPages).toBe(0);
    expect(fs.stat('/big').blocks).toBe(4096);
  });
});
