/** What the file system's tests share: files written and read back, errnos caught, blocks listed. */
import { expect } from 'vitest';
import type { CopyFs } from '../../src/app/fs/fs.js';
import type { FileRef } from '../../src/app/fs/copy-file-range.js';
import { ErrnoError } from '../../src/core/util/errno.js';

/** Opens `path` for reading and writing, created if missing. */
export const openRw = (fs: CopyFs, path: string): FileRef => ({ fs, fd: fs.open(path, { read: true, write: true, create: true }) });

/** Writes `data` at `at` of `path` (created) through the page cache, fsynced with `sync`; the open file. */
export async function writeFile(fs: CopyFs, path: string, data: Uint8Array, o: { at?: number; sync?: boolean } = {}): Promise<FileRef> {
  const f = openRw(fs, path);
  const inode = fs.fd(f.fd).inode;
  expect(await fs.writeAt(inode, o.at ?? 0, data)).toBe(data.length);
  if (o.sync) await fs.fsync(inode);
  return f;
}

/** `length` bytes of `path` from `offset` (default: the whole file), short at its end. */
export async function readFile(fs: CopyFs, path: string, offset = 0, length = fs.lookup(path).size - offset): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  const n = await fs.readAt(fs.lookup(path), offset, out);
  return out.subarray(0, n);
}

/** The errno (negative) a promise or call fails with; fails the test when it succeeds. */
export async function errnoOf(p: Promise<unknown> | (() => unknown)): Promise<number> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof ErrnoError) return err.errno;
    throw err;
  }
  throw new Error('no error');
}

/** The device blocks a file maps, in file order. */
export const deviceBlocks = (fs: CopyFs, path: string): number[] => fs.stat(path).extents.flatMap((e) => Array.from({ length: e.count }, (_, i) => e.dev + i));
