/**
 * copylab's file system (docs/files.md): where file copies meet the block layer. One flat root
 * directory of regular files, each an extent list over FS_BLOCK-byte blocks of one lab block
 * device, written through a page cache with delayed allocation: a write dirties pages and
 * reserves blocks; writeback (fsync, sync, the dirty limit, reclaim) allocates extents and
 * writes the pages with WRITE bios. File data lives on the device; the metadata (inodes, the
 * directory, the allocator's bitmap) lives in the lab's memory, as tmpfs keeps it, and is gone
 * when the lab closes.
 */
import { ReqOp } from '../../core/block/ops.js';
import type { BlockDevice } from '../../core/block/device.js';
import type { Trace } from '../../core/block/trace.js';
import { Errno, ErrnoError } from '../../core/util/errno.js';
import type { Lab } from '../lab.js';
import { BlockAllocator } from './allocator.js';
import { ExtentList } from './extents.js';
import { FS_BLOCK, PageCache, type Page } from './page-cache.js';

/** Files per file system, open descriptors per file system, bytes of a name, bytes of a file. */
export const FS_LIMITS = { files: 65536, fds: 1024, nameBytes: 255, fileBytes: 2 ** 44 } as const;
/** Default page cache and dirty limit (bytes). */
export const FS_DEFAULT_CACHE_BYTES = 64 << 20;
/** Largest single writeback or read bio (bytes). */
const MAX_BIO_BYTES = 1 << 20;

export type InodeKind = 'file' | 'dir';

export interface Inode {
  readonly ino: number;
  readonly kind: InodeKind;
  size: number;
  readonly extents: ExtentList;
  /** Names linking it (0 once unlinked) and descriptors open on it. */
  links: number;
  opens: number;
  /** Copies running from or to it: blocks it gives up wait until they end (docs/files.md). */
  busy: number;
  /** Device runs given up while busy: freed when the last copy ends. */
  deferred: { dev: number; count: number }[];
  /** Dirty pages that have no block yet (each holds a reserved block). */
  readonly unmappedDirty: Set<number>;
  readonly dirty: Set<number>;
}

export interface OpenFlags {
  readonly read?: boolean;
  readonly write?: boolean;
  readonly create?: boolean;
  readonly exclusive?: boolean;
  readonly truncate?: boolean;
  readonly append?: boolean;
}

export interface Fd {
  readonly fs: CopyFs;
  readonly inode: Inode;
  readonly read: boolean;
  readonly write: boolean;
  readonly append: boolean;
  pos: number;
}

export interface FsOptions {
  readonly cacheBytes?: number;
  /** Dirty bytes past which writes wait for writeback (Linux's dirty limit). Default: half the cache. */
  readonly dirtyBytes?: number;
}

export class CopyFs {
  readonly blockSize = FS_BLOCK;
  readonly allocator: BlockAllocator;
  readonly cache: PageCache;
  private readonly dirtyLimit: number;
  private readonly inodes = new Map<number, Inode>();
  private readonly names = new Map<string, number>();
  private readonly fds = new Map<number, Fd>();
  private nextIno = 2;
  private nextFd = 3;
  readonly root: Inode;

  private constructor(readonly lab: Lab, readonly dev: BlockDevice, o: FsOptions) {
    const lbs = dev.limits.logical_block_size;
    if (FS_BLOCK % lbs !== 0) throw new ErrnoError(Errno.EINVAL, `${dev.name}: a ${lbs}-byte logical block does not divide the file system's ${FS_BLOCK}-byte block`);
    if (dev.limits.zoned !== 'none') throw new ErrnoError(Errno.EINVAL, `${dev.name} is zoned: this file system writes in place (use the GC lab for zoned devices)`);
    const blocks = Math.floor(dev.capacity / FS_BLOCK);
    if (blocks < 16) throw new ErrnoError(Errno.ENOSPC, `${dev.name}: too small for a file system (${dev.capacity} bytes)`);
    this.allocator = new BlockAllocator(blocks);
    const cacheBytes = o.cacheBytes ?? FS_DEFAULT_CACHE_BYTES;
    this.cache = new PageCache(Math.max(4, Math.floor(cacheBytes / FS_BLOCK)));
    this.dirtyLimit = Math.max(1, Math.floor((o.dirtyBytes ?? cacheBytes / 2) / FS_BLOCK));
    this.root = this.newInode('dir', 1);
    this.root.links = 1;
  }

  /** mkfs: a new, empty file system on `dev` (its old contents are not read). */
  static mkfs(lab: Lab, dev: string | BlockDevice, o: FsOptions = {}): CopyFs {
    return new CopyFs(lab, lab.device(dev), o);
  }

  private newInode(kind: InodeKind, ino = this.nextIno++): Inode {
    const inode: Inode = { ino, kind, size: 0, extents: new ExtentList(), links: 0, opens: 0, busy: 0, deferred: [], unmappedDirty: new Set(), dirty: new Set() };
    this.inodes.set(ino, inode);
    return inode;
  }

  // ── names and descriptors ──

  /** "/name" or "name" in the root directory; "/" is the root itself. */
  private nameOf(path: string): string {
    const name = path.startsWith('/') ? path.slice(1) : path;
    if (name === '' || name === '.') return '';
    if (name.includes('/') || name === '..') throw new ErrnoError(Errno.ENOENT, `${path}: this file system has one directory (no subdirectories)`);
    if (Buffer.byteLength(name) > FS_LIMITS.nameBytes) throw new ErrnoError(Errno.ENAMETOOLONG, `${path}: a name is at most ${FS_LIMITS.nameBytes} bytes`);
    return name;
  }

  lookup(path: string): Inode {
    const name = this.nameOf(path);
    if (name === '') return this.root;
    const ino = this.names.get(name);
    if (ino === undefined) throw new ErrnoError(Errno.ENOENT, `${path}: no such file`);
    return this.inodes.get(ino)!;
  }

  open(path: string, flags: OpenFlags = { read: true }): number {
    if (this.fds.size >= FS_LIMITS.fds) throw new ErrnoError(Errno.EMFILE, `at most ${FS_LIMITS.fds} descriptors are open per file system`);
    const name = this.nameOf(path);
    let inode: Inode;
    if (name === '') {
      if (flags.write) throw new ErrnoError(Errno.EISDIR, `${path}: is a directory`);
      inode = this.root;
    } else {
      const ino = this.names.get(name);
      if (ino !== undefined) {
        if (flags.create && flags.exclusive) throw new ErrnoError(Errno.EEXIST, `${path}: exists`);
        inode = this.inodes.get(ino)!;
      } else {
        if (!flags.create) throw new ErrnoError(Errno.ENOENT, `${path}: no such file`);
        if (this.names.size >= FS_LIMITS.files) throw new ErrnoError(Errno.ENOSPC, `at most ${FS_LIMITS.files} files per file system`);
        inode = this.newInode('file');
        inode.links = 1;
        this.names.set(name, inode.ino);
      }
    }
    const fd = this.nextFd++;
    this.fds.set(fd, { fs: this, inode, read: flags.read ?? !flags.write, write: flags.write ?? false, append: flags.append ?? false, pos: 0 });
    inode.opens++;
    if (flags.truncate && flags.write) this.truncateInode(inode, 0);
    return fd;
  }

  fd(fd: number): Fd {
    const f = this.fds.get(fd);
    if (!f) throw new ErrnoError(Errno.EBADF, `descriptor ${fd} is not open`);
    return f;
  }

  close(fd: number): void {
    const f = this.fd(fd);
    this.fds.delete(fd);
    f.inode.opens--;
    this.maybeFree(f.inode);
  }

  unlink(path: string): void {
    const name = this.nameOf(path);
    if (name === '') throw new ErrnoError(Errno.EISDIR, `${path}: is a directory`);
    const inode = this.lookup(path);
    this.names.delete(name);
    inode.links = 0;
    this.maybeFree(inode);
  }

  /** An inode with no name and no descriptor gives its blocks back (after any copy using them). */
  private maybeFree(inode: Inode): void {
    if (inode.links > 0 || inode.opens > 0 || inode.kind !== 'file') return;
    this.truncateInode(inode, 0);
    if (inode.busy === 0) this.inodes.delete(inode.ino);
  }

  list(): { name: string; size: number; blocks: number; extents: number }[] {
    return [...this.names.entries()].map(([name, ino]) => {
      const i = this.inodes.get(ino)!;
      return { name, size: i.size, blocks: i.extents.blocks, extents: i.extents.length };
    });
  }

  // ── data ──

  /** The page for (inode, index), read from the device (or zeros for a hole) on a miss; makes room first. */
  async page(inode: Inode, index: number, trace?: Trace, fill = true): Promise<Page> {
    return this.cached(inode, index) ?? this.pageIn(inode, index, trace, fill);
  }

  /** The cached page (a hit, counted), without waiting; undefined on a miss. */
  private cached(inode: Inode, index: number): Page | undefined {
    const hit = this.cache.get(inode.ino, index);
    if (hit) this.cache.stats.hits++;
    return hit;
  }

  private async pageIn(inode: Inode, index: number, trace: Trace | undefined, fill: boolean): Promise<Page> {
    await this.makeRoom(trace);
    const again = this.cache.get(inode.ino, index); // another caller may have read it meanwhile
    if (again) return again;
    const data = new Uint8Array(FS_BLOCK);
    const dev = inode.extents.lookup(index);
    if (dev < 0 || !fill) this.cache.stats.holes += dev < 0 ? 1 : 0;
    else {
      this.cache.stats.misses++;
      const res = await this.lab.submit(this.dev, { op: ReqOp.READ, offset: dev * FS_BLOCK, length: FS_BLOCK, data }, trace);
      if (res < 0) throw new ErrnoError(-res, `read of block ${dev} on ${this.dev.name}`);
      const raced = this.cache.get(inode.ino, index);
      if (raced) return raced;
    }
    return this.cache.insert(inode.ino, index, data);
  }

  private async makeRoom(trace?: Trace): Promise<void> {
    while (this.cache.full) {
      if (this.cache.evictClean()) continue;
      const p = this.cache.oldestDirty()!;
      await this.writeback(this.inodes.get(p.ino)!, p.index, p.index + 1, trace);
    }
  }

  private markDirty(inode: Inode, p: Page): void {
    if (!p.dirty && inode.extents.lookup(p.index) < 0 && !inode.unmappedDirty.has(p.index)) {
      this.allocator.reserve(1);
      inode.unmappedDirty.add(p.index);
    }
    this.cache.setDirty(p, true);
    inode.dirty.add(p.index);
  }

  /** pread: bytes read (short at the end of the file). */
  async readAt(inode: Inode, offset: number, out: Uint8Array, trace?: Trace): Promise<number> {
    if (inode.kind === 'dir') throw new ErrnoError(Errno.EISDIR, 'is a directory');
    const n = Math.max(0, Math.min(out.length, inode.size - offset));
    for (let done = 0; done < n; ) {
      const at = offset + done;
      const index = Math.floor(at / FS_BLOCK);
      const within = at - index * FS_BLOCK;
      const len = Math.min(FS_BLOCK - within, n - done);
      const p = this.cached(inode, index) ?? (await this.pageIn(inode, index, trace, true));
      out.set(p.data.subarray(within, within + len), done);
      done += len;
    }
    return n;
  }

  /** pwrite through the page cache: bytes written; ENOSPC when no block can be promised (bytes before it stay written). */
  async writeAt(inode: Inode, offset: number, data: Uint8Array, trace?: Trace): Promise<number> {
    if (inode.kind === 'dir') throw new ErrnoError(Errno.EISDIR, 'is a directory');
    if (offset + data.length > FS_LIMITS.fileBytes) throw new ErrnoError(Errno.EFBIG, `a file is at most ${FS_LIMITS.fileBytes} bytes`);
    let done = 0;
    try {
      while (done < data.length) {
        const at = offset + done;
        const index = Math.floor(at / FS_BLOCK);
        const within = at - index * FS_BLOCK;
        const len = Math.min(FS_BLOCK - within, data.length - done);
        // A whole page need not be read first; a partial one below the end of the file must.
        const whole = within === 0 && len === FS_BLOCK;
        const p = this.cached(inode, index) ?? (await this.pageIn(inode, index, trace, !whole));
        this.markDirty(inode, p);
        p.data.set(data.subarray(done, done + len), within);
        done += len;
        if (at + len > inode.size) inode.size = at + len;
        if (this.cache.dirtyPages > this.dirtyLimit) await this.writebackOldest(trace);
      }
    } catch (err) {
      if (done > 0 && err instanceof ErrnoError && err.errno === -Errno.ENOSPC) return done;
      throw err;
    }
    return done;
  }

  private async writebackOldest(trace?: Trace): Promise<void> {
    while (this.cache.dirtyPages > this.dirtyLimit) {
      const p = this.cache.oldestDirty();
      if (!p) return;
      await this.writeback(this.inodes.get(p.ino)!, 0, Infinity, trace);
    }
  }

  /**
   * Writes back the inode's dirty pages with index in [from, to): blocks allocated for those
   * that have none (consecutive pages get consecutive blocks where the allocator finds them),
   * then one WRITE bio per run of consecutive device blocks.
   */
  async writeback(inode: Inode, from: number, to: number, trace?: Trace): Promise<void> {
    const idx = [...inode.dirty].filter((i) => i >= from && i < to).sort((a, b) => a - b);
    if (idx.length === 0) return;
    // Blocks for pages without one, a run of consecutive pages at a time.
    for (let k = 0; k < idx.length; ) {
      if (!inode.unmappedDirty.has(idx[k]!)) {
        k++;
        continue;
      }
      let j = k + 1;
      while (j < idx.length && idx[j] === idx[j - 1]! + 1 && inode.unmappedDirty.has(idx[j]!)) j++;
      let fb = idx[k]!;
      for (const e of this.allocator.allocate(j - k, true)) {
        inode.extents.map(fb, e.start, e.count);
        for (let b = 0; b < e.count; b++) inode.unmappedDirty.delete(fb + b);
        fb += e.count;
      }
      k = j;
    }
    // One WRITE per run of pages on consecutive device blocks.
    for (let k = 0; k < idx.length; ) {
      const dev0 = inode.extents.lookup(idx[k]!);
      let j = k + 1;
      while (j < idx.length && (j - k) * FS_BLOCK < MAX_BIO_BYTES && idx[j] === idx[j - 1]! + 1 && inode.extents.lookup(idx[j]!) === dev0 + (j - k)) j++;
      const buf = new Uint8Array((j - k) * FS_BLOCK);
      const pages: Page[] = [];
      for (let m = k; m < j; m++) {
        const p = this.cache.get(inode.ino, idx[m]!)!;
        buf.set(p.data, (m - k) * FS_BLOCK);
        pages.push(p);
      }
      const res = await this.lab.submit(this.dev, { op: ReqOp.WRITE, offset: dev0 * FS_BLOCK, length: buf.length, data: buf }, trace);
      if (res < 0) throw new ErrnoError(-res, `writeback of ${inode.ino}:${idx[k]} to block ${dev0} on ${this.dev.name}`);
      for (const p of pages) {
        this.cache.setDirty(p, false);
        inode.dirty.delete(p.index);
      }
      this.cache.stats.writebacks += j - k;
      k = j;
    }
  }

  /** fsync(2): every dirty page of the inode on the device. */
  fsync(inode: Inode, trace?: Trace): Promise<void> {
    return this.writeback(inode, 0, Infinity, trace);
  }

  /** sync(2) for this file system. */
  async sync(trace?: Trace): Promise<void> {
    for (const inode of [...this.inodes.values()]) await this.writeback(inode, 0, Infinity, trace);
  }

  /** Drops the inode's cached pages with index in [from, to), dirty ones included (their data is being replaced). */
  invalidate(inode: Inode, from: number, to: number): void {
    for (const i of [...inode.dirty]) if (i >= from && i < to) inode.dirty.delete(i);
    for (const i of [...inode.unmappedDirty]) {
      if (i >= from && i < to) {
        inode.unmappedDirty.delete(i);
        this.allocator.unreserve(1);
      }
    }
    const last = Math.min(to, Math.ceil(inode.size / FS_BLOCK) + 1);
    for (let i = from; i < last; i++) this.cache.drop(inode.ino, i);
  }

  truncate(path: string, size: number): void {
    const inode = this.lookup(path);
    if (inode.kind === 'dir') throw new ErrnoError(Errno.EISDIR, `${path}: is a directory`);
    if (!Number.isSafeInteger(size) || size < 0) throw new ErrnoError(Errno.EINVAL, `${path}: size ${size}`);
    if (size > FS_LIMITS.fileBytes) throw new ErrnoError(Errno.EFBIG, `a file is at most ${FS_LIMITS.fileBytes} bytes`);
    this.truncateInode(inode, size);
  }

  /**
   * Sets the size; blocks past it are unmapped and freed, or, while a copy uses the file, freed
   * when the copy ends (docs/files.md: no block is reused under a running copy).
   */
  truncateInode(inode: Inode, size: number): void {
    const keep = Math.ceil(size / FS_BLOCK);
    this.invalidate(inode, keep, Infinity);
    // The tail of the last kept page reads as zeros from now on.
    if (size % FS_BLOCK !== 0) {
      const p = this.cache.get(inode.ino, keep - 1);
      if (p) p.data.fill(0, size % FS_BLOCK);
    }
    const runs = inode.extents.unmap(keep, Number.MAX_SAFE_INTEGER - keep);
    if (inode.busy > 0) inode.deferred.push(...runs);
    else for (const r of runs) this.allocator.release(r.dev, r.count);
    inode.size = size;
  }

  /** A copy starts using the inode's blocks. */
  pin(inode: Inode): void {
    inode.busy++;
  }

  /** A copy ended: blocks given up meanwhile are freed now. */
  unpin(inode: Inode): void {
    inode.busy--;
    if (inode.busy > 0) return;
    for (const r of inode.deferred) this.allocator.release(r.dev, r.count);
    inode.deferred.length = 0;
    if (inode.links === 0 && inode.opens === 0) this.inodes.delete(inode.ino);
  }

  stat(path: string): { ino: number; kind: InodeKind; size: number; blocks: number; extents: { file: number; dev: number; count: number }[] } {
    const i = this.lookup(path);
    return { ino: i.ino, kind: i.kind, size: i.size, blocks: i.extents.blocks, extents: i.extents.list.map((e) => ({ ...e })) };
  }
}
