/**
 * A file system's statistics in the lab's sysfs tree, as Linux file systems keep theirs under
 * /sys/fs/<type>/<device>/ (ext4's, xfs's): /sys/fs/copyfs/<dev>/…, all read-only:
 *   block_size, blocks, free_blocks, reserved_blocks (promised to dirty pages), shared_blocks,
 *   reflink (0/1), files; metadata (memory/device), generation (of the last commit on the
 *   device), held_blocks (freed, waiting for the next commit);
 *   page_cache/{pages, max_pages, dirty, hits, misses, holes, writebacks, invalidated, evicted};
 *   copies/{reflink,offload,splice}/{calls, bytes}: what copy_file_range and COPYCHUNK did.
 */
import type { Sysfs } from '../../core/sysfs/tree.js';
import type { CopyFs } from './fs.js';

/** The file system type's directory under /sys/fs. */
export const FS_SYSFS_TYPE = 'copyfs';

export function fsSysfsDir(fs: CopyFs): string {
  return `/sys/fs/${FS_SYSFS_TYPE}/${fs.dev.name}`;
}

/** Adds the file system's files (replacing those of an earlier file system on the same device). */
export function registerFsSysfs(sysfs: Sysfs, fs: CopyFs): void {
  const dir = fsSysfsDir(fs);
  sysfs.removeTree(dir);
  const ro = (path: string, value: () => number | string): void => sysfs.add(`${dir}/${path}`, { show: () => `${value()}\n` });
  ro('block_size', () => fs.blockSize);
  ro('blocks', () => fs.allocator.blocks);
  ro('free_blocks', () => fs.allocator.freeBlocks);
  ro('reserved_blocks', () => fs.allocator.reservedBlocks);
  ro('shared_blocks', () => fs.refcounts.sharedBlocks);
  ro('reflink', () => (fs.reflink ? 1 : 0));
  ro('files', () => fs.list().length);
  ro('metadata', () => (fs.layout ? 'device' : 'memory'));
  ro('generation', () => fs.generation);
  ro('held_blocks', () => fs.allocator.heldBlocks);
  const c = fs.cache;
  ro('page_cache/pages', () => c.size);
  ro('page_cache/max_pages', () => c.maxPages);
  ro('page_cache/dirty', () => c.dirtyPages);
  for (const k of ['hits', 'misses', 'holes', 'writebacks', 'invalidated', 'evicted'] as const) ro(`page_cache/${k}`, () => c.stats[k]);
  for (const path of ['reflink', 'offload', 'splice'] as const) {
    ro(`copies/${path}/calls`, () => fs.copies[path].calls);
    ro(`copies/${path}/bytes`, () => fs.copies[path].bytes);
  }
}
