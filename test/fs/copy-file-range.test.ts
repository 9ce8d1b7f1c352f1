import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/app/lab.js';
import { CopyFs } from '../../src/app/fs/fs.js';
import { copyFileRange, type FileRef } from '../../src/app/fs/copy-file-range.js';
import { ReqOp } from '../../src/core/block/ops.js';
import { Errno } from '../../src/core/util/errno.js';
import { eq, labsClosedAfterEach, pattern } from '../helpers.js';
import { errnoOf, readFile } from './files.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const newLab = labsClosedAfterEach();

function setup(o: { size?: number; timing?: string; cacheBytes?: number } = {}): { lab: Lab; fs: CopyFs } {
  const lab = newLab();
  lab.addNullBlk({ name: 'nullb0', size: o.size ?? 64 * MiB, lbs: 4096, backing: 'memory', ...(o.timing ? { timing: o.timing } : {}) });
  return { lab, fs: CopyFs.mkfs(lab, '/dev/nullb0', { cacheBytes: o.cacheBytes ?? 8 * MiB }) };
}

async function writeFile(fs: CopyFs, path: string, data: Uint8Array, at = 0): Promise<FileRef> {
  const fd = fs.open(path, { read: true, write: true, create: true });
  expect(await fs.writeAt(fs.fd(fd).inode, at, data)).toBe(data.length);
  return { fs, fd };
}

describe('copy_file_range over the page cache (src/app/fs)', () => {
  it('a file written without fsync is flushed before the REQ_OP_COPY; the destination reads back the bytes, none through the host', async () => {
    const { fs } = setup();
    const data = pattern(3 * MiB, 7);
    const src = await writeFile(fs, '/vm.img', data);
    expect(fs.cache.dirtyPages).toBeGreaterThan(0); // nothing on the device yet
    const dst = { fs, fd: fs.open('/clone.img', { write: true, create: true }) };
    const r = await copyFileRange(src, 0, dst, 0, data.length);
    expect(r.bytes).toBe(data.length);
    expect(r.path).toBe('offload');
    expect(r.parts).toEqual([expect.objectContaining({ path: 'offload', block_path: 'offload', bytes: data.length })]);
    expect(r.host_bytes).toBe(0);
    // The trace: the source's writeback (WRITE) completes before the copy is queued.
    const firstCopy = r.trace.events.findIndex((e) => e.op === ReqOp.COPY && e.action === 'Q');
    const lastWrite = r.trace.events.map((e) => e.op === ReqOp.WRITE && e.action === 'C').lastIndexOf(true);
    expect(lastWrite).toBeGreaterThanOrEqual(0);
    expect(firstCopy).toBeGreaterThan(lastWrite);
    expect(eq(await readFile(fs, '/clone.img', 0, data.length), data)).toBe(true);
    expect(fs.stat('/clone.img').size).toBe(data.length);
  });

  it('drops the destination\'s cached pages: a read after the copy sees the copied data', async () => {
    const { fs } = setup();
    const old = await writeFile(fs, '/dst', pattern(256 * KiB, 1));
    await fs.fsync(fs.fd(old.fd).inode);
    expect(eq(await readFile(fs, '/dst', 0, 4096), pattern(4096, 1))).toBe(true); // cached now
    const fresh = pattern(256 * KiB, 2);
    const src = await writeFile(fs, '/src', fresh);
    const r = await copyFileRange(src, 0, old, 0, fresh.length);
    expect(r.bytes).toBe(fresh.length);
    expect(eq(await readFile(fs, '/dst', 0, fresh.length), fresh)).toBe(true);
  });

  it('unaligned offsets: the head and tail are spliced, the whole blocks between offloaded', async () => {
    const { fs } = setup();
    const data = pattern(1 * MiB, 3);
    const src = await writeFile(fs, '/a', data);
    const dst = { fs, fd: fs.open('/b', { write: true, create: true }) };
    const r = await copyFileRange(src, 100, dst, 100, 600 * KiB);
    expect(r.bytes).toBe(600 * KiB);
    expect(r.path).toBe('mixed');
    expect(r.parts.map((p) => p.path)).toEqual(['splice', 'offload', 'splice']);
    expect(eq(await readFile(fs, '/b', 100, 600 * KiB), data.subarray(100, 100 + 600 * KiB))).toBe(true);
    // Offsets that disagree within a block cannot offload: all spliced, with the reason.
    const c = { fs, fd: fs.open('/c', { write: true, create: true }) };
    const s = await copyFileRange(src, 0, c, 512, 64 * KiB);
    expect(s.path).toBe('splice');
    expect(s.parts[0]!.reason).toMatch(/differ within a block/);
    expect(s.host_bytes).toBe(2 * 64 * KiB);
    expect(eq(await readFile(fs, '/c', 512, 64 * KiB), data.subarray(0, 64 * KiB))).toBe(true);
  });

  it('offload: never gives the same bytes by splice; a null offset uses and advances the file position', async () => {
    const { fs } = setup();
    const data = pattern(512 * KiB, 4);
    const src = await writeFile(fs, '/a', data);
    const dst = { fs, fd: fs.open('/b', { write: true, create: true }) };
    const r = await copyFileRange(src, null, dst, null, 256 * KiB, 0, { offload: 'never' });
    expect(r.path).toBe('splice');
    expect(fs.fd(src.fd).pos).toBe(256 * KiB);
    expect(fs.fd(dst.fd).pos).toBe(256 * KiB);
    const again = await copyFileRange(src, null, dst, null, 1 * MiB); // short: the source ends
    expect(again.bytes).toBe(256 * KiB);
    expect(await copyFileRange(src, null, dst, null, 1 * MiB).then((x) => x.bytes)).toBe(0); // at the end
    expect(eq(await readFile(fs, '/b', 0, data.length), data)).toBe(true);
  });

  it('a hole in the source is a hole in the destination', async () => {
    const { fs } = setup();
    const src = await writeFile(fs, '/sparse', pattern(4096, 5), 1 * MiB); // 1 MiB hole, then a block
    const dst = await writeFile(fs, '/full', pattern(2 * MiB, 6));
    await fs.sync();
    const r = await copyFileRange(src, 0, dst, 0, 1 * MiB + 4096);
    expect(r.bytes).toBe(1 * MiB + 4096);
    const back = await readFile(fs, '/full', 0, 1 * MiB + 4096);
    expect(back.subarray(0, 1 * MiB).every((x) => x === 0)).toBe(true);
    expect(eq(back.subarray(1 * MiB), pattern(4096, 5))).toBe(true);
  });

  it('the errors of the Linux man page, each with its errno', async () => {
    const { fs } = setup();
    const src = await writeFile(fs, '/a', pattern(64 * KiB, 1));
    const dst = { fs, fd: fs.open('/b', { write: true, create: true }) };
    const ro = { fs, fd: fs.open('/a', { read: true }) };
    const wo = { fs, fd: fs.open('/b', { write: true }) };
    const app = { fs, fd: fs.open('/b', { write: true, append: true }) };
    const dir = { fs, fd: fs.open('/', { read: true }) };
    expect(await errnoOf(copyFileRange(src, 0, dst, 0, 4096, 1))).toBe(-Errno.EINVAL); // flags
    expect(await errnoOf(copyFileRange(wo, 0, dst, 0, 4096))).toBe(-Errno.EBADF); // not open for reading
    expect(await errnoOf(copyFileRange(src, 0, ro, 0, 4096))).toBe(-Errno.EBADF); // not open for writing
    expect(await errnoOf(copyFileRange(src, 0, app, 0, 4096))).toBe(-Errno.EBADF); // O_APPEND
    expect(await errnoOf(copyFileRange({ fs, fd: 999 }, 0, dst, 0, 4096))).toBe(-Errno.EBADF); // not a descriptor
    expect(await errnoOf(copyFileRange(dir, 0, dst, 0, 4096))).toBe(-Errno.EISDIR);
    expect(await errnoOf(copyFileRange(src, 0, src, 4096, 8192))).toBe(-Errno.EINVAL); // one file, overlapping
    expect((await copyFileRange(src, 0, src, 32 * KiB, 8192)).bytes).toBe(8192); // one file, apart: fine
    expect(await errnoOf(copyFileRange(src, 2 ** 52, dst, 0, 2 ** 52))).toBe(-Errno.EOVERFLOW); // past 2^53: no file offset holds it
    expect(await errnoOf(copyFileRange(src, 0, dst, 2 ** 44, 4096))).toBe(-Errno.EFBIG);
    expect(await errnoOf(copyFileRange(src, -1, dst, 0, 4096))).toBe(-Errno.EINVAL);
    const other = setup();
    const foreign = await writeFile(other.fs, '/x', pattern(4096, 1));
    expect(await errnoOf(copyFileRange(foreign, 0, dst, 0, 4096))).toBe(-Errno.EXDEV); // another lab
    // Opening errors of the file system itself.
    expect(await errnoOf(() => fs.open('/none'))).toBe(-Errno.ENOENT);
    expect(await errnoOf(() => fs.open('/a', { write: true, create: true, exclusive: true }))).toBe(-Errno.EEXIST);
    expect(await errnoOf(() => fs.open(`/${'n'.repeat(256)}`, { write: true, create: true }))).toBe(-Errno.ENAMETOOLONG);
    expect(await errnoOf(() => fs.open('/', { write: true }))).toBe(-Errno.EISDIR);
  });

  it('no space left half way: the bytes that fit are copied and returned, nothing else changes', async () => {
    const { fs } = setup({ size: 4 * MiB });
    const data = pattern(3 * MiB, 8); // 768 of the device's 1024 blocks
    const src = await writeFile(fs, '/a', data);
    await fs.sync();
    const dst = { fs, fd: fs.open('/b', { write: true, create: true }) };
    const r = await copyFileRange(src, 0, dst, 0, data.length);
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.bytes).toBeLessThan(data.length);
    expect(r.parts[0]!.reason).toMatch(/no space left/);
    expect(eq(await readFile(fs, '/b', 0, r.bytes), data.subarray(0, r.bytes))).toBe(true);
    expect(eq(await readFile(fs, '/a', 0, data.length), data)).toBe(true);
    // A full file system: nothing fits, ENOSPC.
    const dst2 = { fs, fd: fs.open('/c', { write: true, create: true }) };
    expect(await errnoOf(copyFileRange(src, 0, dst2, 0, data.length))).toBe(-Errno.ENOSPC);
  });

  it('a source truncated and its blocks wanted by another file during the copy: none is reused until the copy ends', async () => {
    const { lab, fs } = setup({ size: 16 * MiB, timing: 'femu' });
    const data = pattern(4 * MiB, 9);
    const src = await writeFile(fs, '/a', data);
    await fs.sync();
    const before = fs.stat('/a').extents;
    const dst = { fs, fd: fs.open('/b', { write: true, create: true }) };
    const t0 = lab.clock.now();
    const copy = copyFileRange(src, 0, dst, 0, data.length);
    // While it runs (modeled time passes in the copy): give up the source and fill the device.
    await lab.clock.sleep(1);
    expect(lab.clock.now()).toBeGreaterThan(t0);
    await fs.truncate('/a', 0);
    const filler = await writeFile(fs, '/c', pattern(6 * MiB, 10));
    await fs.fsync(fs.fd(filler.fd).inode);
    const used = new Set(fs.stat('/c').extents.flatMap((e) => Array.from({ length: e.count }, (_, i) => e.dev + i)));
    for (const e of before) for (let i = 0; i < e.count; i++) expect(used.has(e.dev + i)).toBe(false);
    const r = await copy;
    expect(r.bytes).toBe(data.length);
    expect(eq(await readFile(fs, '/b', 0, data.length), data)).toBe(true);
    // After the copy the source's blocks are free again.
    expect(fs.allocator.freeBlocks).toBe(fs.allocator.blocks - fs.stat('/b').blocks - fs.stat('/c').blocks);
  });
});
