import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CopyFs } from '../../src/app/fs/fs.js';
import { copyFileRange } from '../../src/app/fs/copy-file-range.js';
import { RefcountTable } from '../../src/app/fs/refcount.js';
import { ReqOp } from '../../src/core/block/ops.js';
import { Errno } from '../../src/core/util/errno.js';
import { deviceBlocks, errnoOf, openRw, readFile, writeFile } from './files.js';
import { KiB, MiB, labsClosedAfterEach, pattern } from '../helpers.js';

const newLab = labsClosedAfterEach();

function setup(o: { reflink?: boolean; size?: number } = {}): CopyFs {
  const lab = newLab();
  lab.addNullBlk({ name: 'nullb0', size: o.size ?? 32 * MiB, lbs: 4096, backing: 'memory' });
  return CopyFs.mkfs(lab, '/dev/nullb0', { cacheBytes: 4 * MiB, reflink: o.reflink ?? true });
}

const openOut = openRw;
const blocksOfFile = deviceBlocks;

describe('the refcount table (src/app/fs/refcount.ts)', () => {
  it('agrees with a count per block over random shares and drops, frees a block with its last reference, keeps records merged', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 10 })), { maxLength: 60 }), (ops) => {
        const t = new RefcountTable();
        const refs = new Map<number, number>(); // blocks in use and their references (1 = allocated, unshared)
        for (const [share, start, count] of ops) {
          let ok = true;
          for (let b = start; b < start + count; b++) if (!refs.has(b)) ok = false;
          if (share) {
            // Sharing is only of allocated blocks; make them allocated first.
            for (let b = start; b < start + count; b++) if (!refs.has(b)) refs.set(b, 1);
            t.share(start, count);
            for (let b = start; b < start + count; b++) refs.set(b, refs.get(b)! + 1);
          } else if (ok) {
            const freed = t.drop(start, count);
            const expectFreed: number[] = [];
            for (let b = start; b < start + count; b++) {
              const n = refs.get(b)! - 1;
              if (n === 0) {
                refs.delete(b);
                expectFreed.push(b);
              } else refs.set(b, n);
            }
            expect(freed.flatMap((r) => Array.from({ length: r.count }, (_, i) => r.start + i))).toEqual(expectFreed);
          }
          for (let b = 0; b < 55; b++) if (refs.has(b)) expect(t.refsAt(b)).toBe(refs.get(b));
          const recs = t.records;
          for (let i = 0; i < recs.length; i++) {
            expect(recs[i]!.refs).toBeGreaterThanOrEqual(2);
            if (i > 0) {
              const p = recs[i - 1]!;
              expect(p.start + p.count <= recs[i]!.start).toBe(true);
              expect(p.start + p.count === recs[i]!.start && p.refs === recs[i]!.refs).toBe(false);
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('reflink: copy_file_range shares extents, copy-on-write', () => {
  it('clones by sharing the source\'s blocks: no REQ_OP_COPY, no host bytes, the clone reads back; the trace says reflink', async () => {
    const fs = setup();
    const data = pattern(2 * MiB, 1);
    const src = await writeFile(fs, '/vm.img', data); // dirty, not synced: the clone writes it back first
    const free0 = fs.allocator.freeBlocks;
    const r = await copyFileRange(src, 0, openOut(fs, '/clone.img'), 0, data.length);
    expect(r.bytes).toBe(data.length);
    expect(r.path).toBe('reflink');
    expect(r.host_bytes).toBe(0);
    expect(r.parts).toEqual([expect.objectContaining({ path: 'reflink', bytes: data.length, reason: 'extents shared, copy-on-write' })]);
    expect(r.trace.events.some((e) => e.op === ReqOp.COPY && e.action === 'Q')).toBe(false);
    expect(r.trace.events.find((e) => e.action === 'M')?.info).toMatch(/reflink/);
    expect(r.trace.events.some((e) => e.op === ReqOp.WRITE && e.action === 'C')).toBe(true); // the source's writeback
    expect(blocksOfFile(fs, '/clone.img')).toEqual(blocksOfFile(fs, '/vm.img'));
    expect(fs.allocator.freeBlocks).toBe(free0 - 512); // the source's 512 blocks, allocated once
    expect(fs.refcounts.sharedBlocks).toBe(512);
    expect(await readFile(fs, '/clone.img')).toEqualBytes(data);
    expect(fs.fsck()).toEqual([]);
    expect(fs.copies.reflink).toEqual({ calls: 1, bytes: data.length });
  });

  it('a write to a shared block gets a block of its own at writeback; the other file keeps its bytes; freeing drops references', async () => {
    const fs = setup();
    const data = pattern(1 * MiB, 2);
    const src = await writeFile(fs, '/a', data);
    const first = openOut(fs, '/b');
    await copyFileRange(src, 0, first, 0, data.length);
    fs.close(first.fd);
    const shared = blocksOfFile(fs, '/a');
    // Overwrite 8 KiB in the middle of the clone, and a partial block.
    const patch = pattern(8 * KiB + 100, 3);
    const out = openOut(fs, '/b');
    const b = fs.fd(out.fd).inode;
    expect(await fs.writeAt(b, 256 * KiB + 50, patch)).toBe(patch.length);
    expect(fs.allocator.reservedBlocks).toBe(3); // three pages on shared blocks: a block promised to each
    await fs.fsync(b);
    const after = blocksOfFile(fs, '/b');
    const moved = after.filter((x, i) => x !== shared[i]);
    expect(moved.length).toBe(3);
    for (const m of moved) expect(shared).not.toContain(m);
    expect(fs.refcounts.sharedBlocks).toBe(256 - 3);
    const want = data.slice();
    want.set(patch, 256 * KiB + 50);
    fs.cache.stats.hits = 0;
    expect(await readFile(fs, '/b')).toEqualBytes(want);
    expect(await readFile(fs, '/a')).toEqualBytes(data);
    expect(fs.fsck()).toEqual([]);
    // The source goes: its unshared blocks are freed, the clone's stay.
    const free1 = fs.allocator.freeBlocks;
    fs.close(src.fd);
    fs.unlink('/a');
    expect(fs.allocator.freeBlocks).toBe(free1 + 3); // the three blocks only /a mapped now
    expect(fs.refcounts.sharedBlocks).toBe(0);
    expect(await readFile(fs, '/b')).toEqualBytes(want);
    fs.close(out.fd);
    fs.unlink('/b');
    expect(fs.allocator.freeBlocks).toBe(fs.allocator.blocks);
    expect(fs.fsck()).toEqual([]);
  });

  it('an offload into a destination that shares blocks writes new blocks: the file it shares with keeps its bytes', async () => {
    const fs = setup();
    const a = pattern(512 * KiB, 4);
    const srcA = await writeFile(fs, '/a', a);
    const b = openOut(fs, '/b');
    await copyFileRange(srcA, 0, b, 0, a.length); // /b shares /a's blocks
    const c = pattern(512 * KiB, 5);
    const srcC = await writeFile(fs, '/c', c);
    const r = await copyFileRange(srcC, 0, b, 0, c.length, 0, { reflink: 'never' });
    expect(r.path).toBe('offload');
    expect(r.parts[0]!.reason).toMatch(/^reflink not wanted; whole blocks by REQ_OP_COPY/);
    expect(await readFile(fs, '/b')).toEqualBytes(c);
    expect(await readFile(fs, '/a')).toEqualBytes(a);
    expect(fs.refcounts.sharedBlocks).toBe(0);
    expect(fs.fsck()).toEqual([]);
  });

  it('paths in order: reflink, then offload, then splice; each part says why', async () => {
    const fs = setup();
    const data = pattern(1 * MiB, 6);
    const src = await writeFile(fs, '/a', data);
    // An unaligned head and a tail short of the end: spliced around a cloned body.
    const r = await copyFileRange(src, 1000, openOut(fs, '/b'), 1000, 600 * KiB);
    expect(r.parts.map((p) => [p.path, p.reason])).toEqual([
      ['splice', 'not a whole block'],
      ['reflink', 'extents shared, copy-on-write'],
      ['splice', 'not a whole block'],
    ]);
    expect(await readFile(fs, '/b', 1000, 600 * KiB)).toEqualBytes(data.subarray(1000, 1000 + 600 * KiB));
    const noClone = await copyFileRange(src, 0, openOut(fs, '/c'), 0, data.length, 0, { reflink: 'never' });
    expect(noClone.path).toBe('offload');
    const neither = await copyFileRange(src, 0, openOut(fs, '/d'), 0, data.length, 0, { reflink: 'never', offload: 'never' });
    expect(neither.path).toBe('splice');
    expect(neither.parts[0]!.reason).toBe('reflink not wanted; offload not wanted');
    const plain = setup({ reflink: false });
    const p = await writeFile(plain, '/a', data);
    const off = await copyFileRange(p, 0, openOut(plain, '/b'), 0, data.length);
    expect(off.path).toBe('offload');
    expect(off.parts[0]!.reason).toMatch(/^file system made without reflink; whole blocks by REQ_OP_COPY/);
    for (const f of ['/b', '/c', '/d']) expect(await readFile(fs, f, f === '/b' ? 1000 : 0, f === '/b' ? 600 * KiB : data.length)).toEqualBytes(f === '/b' ? data.subarray(1000, 1000 + 600 * KiB) : data);
    expect(await readFile(plain, '/b')).toEqualBytes(data);
  });

  it('reflink always: EOPNOTSUPP without reflink, EXDEV across file systems, EINVAL off block boundaries; nothing written', async () => {
    const fs = setup();
    const data = pattern(64 * KiB, 7);
    const src = await writeFile(fs, '/a', data);
    const dst = openOut(fs, '/b');
    expect(await errnoOf(copyFileRange(src, 512, dst, 512, 8 * KiB, 0, { reflink: 'always' }))).toBe(-Errno.EINVAL);
    expect(await errnoOf(copyFileRange(src, 0, dst, 0, 5000, 0, { reflink: 'always' }))).toBe(-Errno.EINVAL); // not whole blocks, not the end
    const other = CopyFs.mkfs(fs.lab, (fs.lab.addNullBlk({ name: 'nullb1', size: 16 * MiB, lbs: 4096, backing: 'memory' }), '/dev/nullb1'), { reflink: true });
    expect(await errnoOf(copyFileRange(src, 0, openOut(other, '/x'), 0, data.length, 0, { reflink: 'always' }))).toBe(-Errno.EXDEV);
    const plain = setup({ reflink: false });
    const p = await writeFile(plain, '/a', data);
    expect(await errnoOf(copyFileRange(p, 0, openOut(plain, '/b'), 0, data.length, 0, { reflink: 'always' }))).toBe(-Errno.ENOTSUP);
    expect(fs.lookup('/b').size).toBe(0);
    expect(other.lookup('/x').size).toBe(0);
    expect(plain.lookup('/b').size).toBe(0);
  });

  it('a file whose size is not whole blocks clones whole (its last block shared); bytes past its end read as zeros after it grows', async () => {
    const fs = setup();
    const data = pattern(10_000, 8);
    const src = await writeFile(fs, '/a', data);
    const dst = openOut(fs, '/b');
    const r = await copyFileRange(src, 0, dst, 0, data.length, 0, { reflink: 'always' });
    expect(r.path).toBe('reflink');
    expect(fs.lookup('/b').size).toBe(10_000);
    expect(await readFile(fs, '/b')).toEqualBytes(data);
    // /a shrinks and grows again: the old bytes past its new end must not come back.
    await fs.truncate('/a', 5000);
    await fs.sync();
    fs.invalidate(fs.lookup('/a'), 0, Infinity); // clean: as if the pages had been evicted
    const tail = pattern(100, 9);
    expect(await fs.writeAt(fs.lookup('/a'), 9000, tail)).toBe(100);
    const back = await readFile(fs, '/a');
    expect(back.subarray(0, 5000)).toEqualBytes(data.subarray(0, 5000));
    expect(back.subarray(5000, 9000).every((x) => x === 0)).toBe(true);
    expect(back.subarray(9000)).toEqualBytes(tail);
    await fs.sync();
    expect(await readFile(fs, '/b')).toEqualBytes(data); // the clone's shared block was not written
    expect(fs.fsck()).toEqual([]);
  });

  it('no space for a copy-on-write: the write to a shared block is ENOSPC and nothing changes', async () => {
    const fs = setup({ size: 1 * MiB }); // 256 blocks
    const data = pattern(128 * KiB, 10);
    const src = await writeFile(fs, '/a', data);
    await copyFileRange(src, 0, openOut(fs, '/b'), 0, data.length);
    const fill = await writeFile(fs, '/fill', pattern(fs.allocator.available * 4096, 11));
    await fs.fsync(fs.fd(fill.fd).inode);
    expect(fs.allocator.available).toBe(0);
    expect(await errnoOf(fs.writeAt(fs.lookup('/b'), 0, pattern(4096, 12)))).toBe(-Errno.ENOSPC);
    expect(await readFile(fs, '/b')).toEqualBytes(data);
    expect(fs.fsck()).toEqual([]);
  });
});
