/**
 * The hard cases of a file copy (docs/files.md, "The hard cases"), each on a timed device where
 * an asynchronous copy takes modeled time, so something else can happen while it runs.
 */
import { describe, expect, it } from 'vitest';
import { CopyFs } from '../../src/app/fs/fs.js';
import type { FileRef } from '../../src/app/fs/copy-file-range.js';
import { copyFileRangeAsync } from '../../src/app/fs/async-copy.js';
import { Errno, ErrnoError } from '../../src/core/util/errno.js';
import { MiB, labsClosedAfterEach, pattern } from '../helpers.js';
import { deviceBlocks, readFile, writeFile as write } from './files.js';

const writeFile = (fs: CopyFs, path: string, data: Uint8Array, sync = true): Promise<FileRef> => write(fs, path, data, { sync });

const newLab = labsClosedAfterEach();

function setup(size = 64 * MiB): CopyFs {
  const lab = newLab();
  // 1 MiB per copy command: a 16 MiB copy is 16 pieces, each taking modeled time.
  lab.addNullBlk({ name: 'nullb0', size, lbs: 4096, backing: 'memory', timing: 'femu', copy_max_hw_bytes: MiB });
  return CopyFs.mkfs(lab, '/dev/nullb0', { cacheBytes: 8 * MiB });
}

/** Every device block a file maps. */
const blocksOf = (fs: CopyFs, path: string): Set<number> => new Set(deviceBlocks(fs, path));
const readAll = (fs: CopyFs, path: string): Promise<Uint8Array> => readFile(fs, path);

describe('the hard cases of a copy in progress', () => {
  it('the source unlinked and its blocks wanted during an async copy: none is reused until the copy ends; every destination block reads back', async () => {
    const fs = setup(40 * MiB); // the source's 16 MiB, the copy's 16 MiB, 8 MiB for another file
    const data = pattern(16 * MiB, 1);
    const src = await writeFile(fs, '/vm.img', data);
    const srcBlocks = blocksOf(fs, '/vm.img');
    const op = copyFileRangeAsync(src, 0, { fs, fd: fs.open('/clone.img', { write: true, create: true }) }, 0, data.length);
    await fs.lab.clock.sleep(1_000_000);
    expect(op.state).toBe('running');
    // The source goes entirely: closed and unlinked.
    fs.close(src.fd);
    fs.unlink('/vm.img');
    expect(() => fs.lookup('/vm.img')).toThrow(/ENOENT/);
    // Another file takes every block there is while the copy runs.
    const filler = await writeFile(fs, '/filler', pattern(fs.allocator.available * 4096, 2));
    for (const b of blocksOf(fs, '/filler')) expect(srcBlocks.has(b)).toBe(false);
    expect(fs.allocator.available).toBe(0);
    const r = await op.wait();
    expect(r.bytes).toBe(data.length);
    expect(await readAll(fs, '/clone.img')).toEqualBytes(data);
    // The copy over, the source's blocks are free again.
    expect(fs.allocator.available).toBe(srcBlocks.size);
    expect(fs.fsck()).toEqual([]);
    fs.close(filler.fd);
  });

  it('a reader of the destination range waits until the copy ends, then sees the copied bytes; a writer waits too; outside the range nobody waits', async () => {
    const fs = setup();
    const data = pattern(16 * MiB, 3);
    const old = pattern(20 * MiB, 4);
    const src = await writeFile(fs, '/src', data);
    const dst = await writeFile(fs, '/dst', old);
    const events: string[] = [];
    const op = copyFileRangeAsync(src, 0, dst, 0, data.length);
    void op.wait().then(() => events.push('copy done'));
    await fs.lab.clock.sleep(1_000_000);
    expect(op.state).toBe('running');
    const inside = new Uint8Array(64 * 1024);
    const read = fs.readAt(fs.lookup('/dst'), 8 * MiB, inside).then(() => events.push('read in range'));
    const write = fs.writeAt(fs.lookup('/dst'), 15 * MiB, pattern(4096, 5)).then(() => events.push('write in range'));
    const outside = new Uint8Array(4096);
    await fs.readAt(fs.lookup('/dst'), 18 * MiB, outside);
    events.push('read outside');
    expect(outside).toEqualBytes(old.subarray(18 * MiB, 18 * MiB + 4096));
    await Promise.all([read, write]);
    expect(events[0]).toBe('read outside');
    expect(events.indexOf('copy done')).toBeLessThan(events.indexOf('read in range'));
    expect(events.indexOf('copy done')).toBeLessThan(events.indexOf('write in range'));
    expect(inside).toEqualBytes(data.subarray(8 * MiB, 8 * MiB + 64 * 1024)); // new data, never old
    const want = old.slice();
    want.set(data, 0);
    want.set(pattern(4096, 5), 15 * MiB);
    expect(await readAll(fs, '/dst')).toEqualBytes(want);
  });

  it('a file created at the destination\'s name mid-copy is a new file: the copy goes on into the old one, whose blocks are freed when it ends', async () => {
    const fs = setup();
    const data = pattern(16 * MiB, 6);
    const src = await writeFile(fs, '/vm.img', data);
    const dst = { fs, fd: fs.open('/clone.img', { write: true, create: true }) };
    const op = copyFileRangeAsync(src, 0, dst, 0, data.length);
    await fs.lab.clock.sleep(1_000_000);
    // While the name exists, an exclusive create fails; once unlinked, the name is free for a new file.
    expect(() => fs.open('/clone.img', { write: true, create: true, exclusive: true })).toThrow(ErrnoError);
    fs.unlink('/clone.img');
    const fresh = pattern(1 * MiB, 7);
    const other = await writeFile(fs, '/clone.img', fresh);
    expect(fs.lookup('/clone.img').ino).not.toBe(fs.fd(dst.fd).inode.ino);
    const r = await op.wait();
    expect(r.bytes).toBe(data.length);
    // The copy landed in the unlinked file, still open by its descriptor; the new file is untouched.
    const back = new Uint8Array(data.length);
    await fs.readAt(fs.fd(dst.fd).inode, 0, back);
    expect(back).toEqualBytes(data);
    expect(await readAll(fs, '/clone.img')).toEqualBytes(fresh);
    // Closing the last descriptor frees the old file's blocks.
    const free = fs.allocator.freeBlocks;
    fs.close(dst.fd);
    expect(fs.allocator.freeBlocks).toBe(free + 4096);
    expect(fs.fsck()).toEqual([]);
    fs.close(other.fd);
  });

  it('no space half way: the copy returns the bytes done, they are the source\'s, the rest of the file is as before, the metadata is consistent (offload and splice)', async () => {
    for (const offload of ['auto', 'never'] as const) {
      const fs = setup(12 * MiB);
      const data = pattern(8 * MiB, 8);
      const src = await writeFile(fs, '/src', data);
      const dst = { fs, fd: fs.open('/dst', { read: true, write: true, create: true }) };
      const op = copyFileRangeAsync(src, 0, dst, 0, data.length, 0, { offload });
      const r = await op.wait();
      expect(r.bytes, offload).toBeGreaterThan(0);
      expect(r.bytes, offload).toBeLessThan(data.length);
      expect(r.errno, offload).toBe(-Errno.ENOSPC);
      expect(op.state).toBe('done'); // a short copy, as copy_file_range returns it
      expect(fs.lookup('/dst').size).toBe(r.bytes);
      await fs.sync();
      expect(await readAll(fs, '/dst')).toEqualBytes(data.subarray(0, r.bytes));
      expect(await readAll(fs, '/src')).toEqualBytes(data);
      expect(fs.fsck()).toEqual([]);
    }
  });

  it('truncating the destination while a copy writes there waits for the copy, as writers do', async () => {
    const fs = setup();
    const data = pattern(16 * MiB, 9);
    const src = await writeFile(fs, '/src', data);
    const dst = { fs, fd: fs.open('/dst', { read: true, write: true, create: true }) };
    const op = copyFileRangeAsync(src, 0, dst, 0, data.length);
    await fs.lab.clock.sleep(1_000_000);
    await fs.truncate('/dst', 4 * MiB);
    expect(op.state).toBe('done');
    expect(await readAll(fs, '/dst')).toEqualBytes(data.subarray(0, 4 * MiB));
    expect(fs.fsck()).toEqual([]);
  });
});
