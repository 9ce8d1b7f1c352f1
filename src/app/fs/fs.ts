/**
 * copylab's file system (docs/files.md): where file copies meet the block layer. One flat root
 * directory of regular files, each an extent list over FS_BLOCK-byte blocks of one lab block
 * device, written through a page cache with delayed allocation: a write dirties pages and
 * reserves blocks; writeback (fsync, sync, the dirty limit, reclaim) allocates extents and
 * writes the pages with WRITE bios. With `reflink`, files may share blocks (a clone maps the
 * source's blocks into the destination and counts them in the refcount table); writeback gives a
 * page whose block is shared a block of its own first (copy-on-write). File data lives on the
 * device; the metadata (inodes, the directory, the allocator's bitmap, the refcounts) lives in
 * the lab's memory, as tmpfs keeps it, and is gone when the lab closes, or, made with
 * `metadata: 'device'` (CopyFs.format, CopyFs.mount), on the device too: committed at fsync and
 * sync as a checkpoint behind a superblock flip (ondisk.ts), so a crash leaves the last commit,
 * and a copy interrupted by one leaves each destination block old or new.
 */
import { ReqOp } from '../../core/block/ops.js';
import type { BlockDevice } from '../../core/block/device.js';
import type { Trace } from '../../core/block/trace.js';
import { Errno, ErrnoError } from '../../core/util/errno.js';
import { ASSERTS, invariant } from '../../core/util/invariants.js';
import type { Lab } from '../lab.js';
import { BlockAllocator } from './allocator.js';
import { ExtentList, FS_MAX_EXTENTS, type FileExtent } from './extents.js';
import { CK, decodeCheckpoint, decodeSuperblock, deriveAllocation, encodeCheckpoint, encodeSuperblock, layoutFor, type DiskInode, type Layout, type Superblock } from './ondisk.js';
import { FS_BLOCK, PageCache, type Page } from './page-cache.js';
import { RefcountTable } from './refcount.js';
import { registerFsSysfs } from './sysfs.js';

/** Files per file system, open descriptors per file system, bytes of a name, bytes of a file. */
export const FS_LIMITS = { files: 65536, fds: 1024, nameBytes: 255, fileBytes: 2 ** 44 } as const;
/**
 * File descriptors of a lab's file systems share one number space per lab, from FS_FIRST_FD on
 * (above the lab's device descriptors), so a descriptor names one open file of the lab: a ring's
 * COPY_FILE_RANGE SQE carries nothing else.
 */
export const FS_FIRST_FD = 1 << 16;
const FS_LAST_FD = 2 ** 31 - 1;
const fileTables = new WeakMap<Lab, { next: number; readonly owner: Map<number, CopyFs> }>();

function fileTable(lab: Lab): { next: number; readonly owner: Map<number, CopyFs> } {
  let t = fileTables.get(lab);
  if (!t) fileTables.set(lab, (t = { next: FS_FIRST_FD, owner: new Map() }));
  return t;
}

/** The file system an open file descriptor of the lab belongs to, or undefined. */
export function fsOfFd(lab: Lab, fd: number): CopyFs | undefined {
  return fileTables.get(lab)?.owner.get(fd);
}

/** Default page cache and dirty limit (bytes). */
export const FS_DEFAULT_CACHE_BYTES = 64 << 20;
/** Largest single writeback or read bio (bytes); a read miss reads ahead up to it within the read. */
const MAX_BIO_BYTES = 1 << 20;
/** WRITE bios writeback keeps in flight (Linux's writeback plugs and queues many; one at a time would be a strawman). */
const WRITEBACK_QD = 16;
/** Pages written back at once when the cache must make room and holds only dirty pages. */
const WRITEBACK_CLUSTER = MAX_BIO_BYTES / FS_BLOCK;

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
  /** Dirty pages on a shared block (each holds a reserved block for its copy-on-write). */
  readonly cowReserved: Set<number>;
  readonly dirty: Set<number>;
  /** Byte ranges copies are writing: readers and writers of them wait (docs/files.md). */
  readonly locks: RangeLock[];
  /**
   * Metadata on the device: updates under way that map blocks whose data is not on the device
   * yet (writeback, fallocate, an offload), and the inode as it was before the first of them,
   * which a commit writes meanwhile (so no commit maps a block before its data is there).
   */
  unstable: number;
  stable: { readonly size: number; readonly extents: readonly FileExtent[] } | null;
  readonly stableWaiters: (() => void)[];
}

/** A byte range of a file a copy is writing, until `done` resolves. */
export interface RangeLock {
  readonly from: number;
  readonly to: number;
  readonly done: Promise<void>;
}

/** Bytes copied by each path, and the calls that used it (the sysfs `copies` files). */
export interface CopyPathStats {
  calls: number;
  bytes: number;
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
  /** Files may share blocks (copy_file_range and `cp --reflink` clone), as mkfs.xfs -m reflink=1. Default false. */
  readonly reflink?: boolean;
  /**
   * Where the metadata lives: `memory` (default; gone with the lab) or `device` (committed at
   * fsync and sync, read back by CopyFs.mount; CopyFs.format makes such a file system).
   */
  readonly metadata?: 'memory' | 'device';
}

export class CopyFs {
  readonly blockSize = FS_BLOCK;
  readonly allocator: BlockAllocator;
  readonly cache: PageCache;
  /** Whether files may share blocks (mkfs option). */
  readonly reflink: boolean;
  /** How many files map each shared block. */
  readonly refcounts = new RefcountTable();
  /** Copies by path: what copy_file_range and COPYCHUNK did (sysfs copies/). */
  readonly copies: Record<'reflink' | 'offload' | 'splice', CopyPathStats> = { reflink: { calls: 0, bytes: 0 }, offload: { calls: 0, bytes: 0 }, splice: { calls: 0, bytes: 0 } };
  private readonly dirtyLimit: number;
  private readonly inodes = new Map<number, Inode>();
  private readonly names = new Map<string, number>();
  private readonly fds = new Map<number, Fd>();
  private nextIno = 2;
  readonly root: Inode;
  /** With metadata on the device: where the superblocks, checkpoint areas and data are; else null. */
  readonly layout: Layout | null;
  /** The generation of the last commit on the device (0: none). */
  generation = 0;
  /** Commits written since this file system was made or mounted. */
  commits = 0;
  private commitChain: Promise<void> = Promise.resolve();

  private constructor(readonly lab: Lab, readonly dev: BlockDevice, o: FsOptions, layout?: Layout) {
    const lbs = dev.limits.logical_block_size;
    if (FS_BLOCK % lbs !== 0) throw new ErrnoError(Errno.EINVAL, `${dev.name}: a ${lbs}-byte logical block does not divide the file system's ${FS_BLOCK}-byte block`);
    if (dev.limits.zoned !== 'none') throw new ErrnoError(Errno.EINVAL, `${dev.name} is zoned: this file system writes in place (use the GC lab for zoned devices)`);
    const blocks = Math.floor(dev.capacity / FS_BLOCK);
    if (blocks < 16) throw new ErrnoError(Errno.ENOSPC, `${dev.name}: too small for a file system (${dev.capacity} bytes)`);
    this.allocator = new BlockAllocator(blocks);
    if (o.metadata === 'device') {
      this.layout = layout ?? layoutFor(blocks);
      if (this.layout.dataStart + 16 > blocks) throw new ErrnoError(Errno.ENOSPC, `${dev.name}: too small for a file system with its metadata on the device (${dev.capacity} bytes)`);
      this.allocator.markUsed(0, this.layout.dataStart);
      this.allocator.holdFreed = true;
    } else if (o.metadata !== undefined && o.metadata !== 'memory') {
      throw new ErrnoError(Errno.EINVAL, `metadata is 'memory' or 'device', not ${String(o.metadata)}`);
    } else this.layout = null;
    const cacheBytes = o.cacheBytes ?? FS_DEFAULT_CACHE_BYTES;
    this.cache = new PageCache(Math.max(4, Math.floor(cacheBytes / FS_BLOCK)));
    this.dirtyLimit = Math.max(1, Math.floor((o.dirtyBytes ?? cacheBytes / 2) / FS_BLOCK));
    this.reflink = o.reflink ?? false;
    this.root = this.newInode('dir', 1);
    this.root.links = 1;
    registerFsSysfs(lab.sysfs, this);
  }

  /**
   * mkfs: a new, empty file system on `dev` (its old contents are not read). With
   * `metadata: 'device'` use format(), which writes the first commit.
   */
  static mkfs(lab: Lab, dev: string | BlockDevice, o: FsOptions = {}): CopyFs {
    if (o.metadata === 'device') throw new ErrnoError(Errno.EINVAL, 'a file system with its metadata on the device is made by CopyFs.format (it writes)');
    return new CopyFs(lab, lab.device(dev), o);
  }

  /**
   * mkfs with the metadata on the device: both superblock slots zeroed (an older file system's
   * superblocks can no longer be found), then the first commit (generation 1).
   */
  static async format(lab: Lab, dev: string | BlockDevice, o: Omit<FsOptions, 'metadata'> = {}, trace?: Trace): Promise<CopyFs> {
    const fs = new CopyFs(lab, lab.device(dev), { ...o, metadata: 'device' });
    await fs.writeBlocks(0, new Uint8Array(2 * FS_BLOCK), trace);
    await fs.flush(trace);
    await fs.commit(trace);
    return fs;
  }

  /**
   * mount: the file system whose metadata is on `dev`, as its last commit left it. The newest
   * superblock that checks names a checkpoint; every field and count is checked before anything
   * is allocated, the bitmap and refcounts must be what the extents imply, and fsck must find
   * nothing: EINVAL when the device holds no such file system, EUCLEAN when it does not check.
   * `o` gives the page cache's size (the rest is the device's).
   */
  static async mount(lab: Lab, dev: string | BlockDevice, o: Pick<FsOptions, 'cacheBytes' | 'dirtyBytes'> = {}, trace?: Trace): Promise<CopyFs> {
    const d = lab.device(dev);
    const devBlocks = Math.floor(d.capacity / FS_BLOCK);
    if (FS_BLOCK % d.limits.logical_block_size !== 0 || devBlocks < 2) throw new ErrnoError(Errno.EINVAL, `${d.name}: no copyfs here (too small or a block that does not divide ${FS_BLOCK})`);
    const slots = await readBlocks(lab, d, 0, 2, trace);
    const found: Superblock[] = [];
    const why: string[] = [];
    for (const k of [0, 1]) {
      const r = decodeSuperblock(slots.subarray(k * FS_BLOCK, (k + 1) * FS_BLOCK), devBlocks);
      if ('sb' in r) {
        if ((r.sb.generation & 1) !== k) why.push(`slot ${k}: generation ${r.sb.generation} in the wrong slot`);
        else found.push(r.sb);
      } else if (r.magic) why.push(`slot ${k}: ${r.why}`);
    }
    if (found.length === 0) {
      if (why.length === 0) throw new ErrnoError(Errno.EINVAL, `${d.name}: no copyfs superblock (wrong fs type or not made with metadata on the device)`);
      throw new ErrnoError(Errno.EUCLEAN, `${d.name}: no superblock checks: ${why.join('; ')} (structure needs cleaning)`);
    }
    // The newest superblock wins; the older one's checkpoint is the commit before it.
    const sb = found.sort((a, b) => b.generation - a.generation)[0]!;
    const { layout } = sb;
    const ckBlocks = Math.ceil(sb.ckBytes / FS_BLOCK);
    const raw = await readBlocks(lab, d, layout.areaStart[sb.area], ckBlocks, trace);
    const ck = decodeCheckpoint(d.name, raw, sb, FS_LIMITS);
    const derived = deriveAllocation(layout, ck.inodes);
    for (let k = 0; k < ck.bitmap.length; k++) {
      if (ck.bitmap[k] !== derived.bitmap[k]) {
        const bit = [0, 1, 2, 3, 4, 5, 6, 7].find((x) => ((ck.bitmap[k]! ^ derived.bitmap[k]!) >> x) & 1)!;
        const b = k * 8 + bit;
        throw new ErrnoError(Errno.EUCLEAN, `${d.name}: block ${b} is ${(ck.bitmap[k]! >> bit) & 1 ? 'used' : 'free'} in the bitmap and mapped ${derived.refs[b]} times (structure needs cleaning)`);
      }
    }
    const same = ck.refcounts.length === derived.refcounts.length && ck.refcounts.every((r, k) => r.start === derived.refcounts[k]!.start && r.count === derived.refcounts[k]!.count && r.refs === derived.refcounts[k]!.refs);
    if (!same) throw new ErrnoError(Errno.EUCLEAN, `${d.name}: the refcount records are not what the extents map (structure needs cleaning)`);
    if (!sb.reflink && derived.refcounts.length > 0) throw new ErrnoError(Errno.EUCLEAN, `${d.name}: block ${derived.refcounts[0]!.start} is mapped ${derived.refcounts[0]!.refs} times on a file system made without reflink (structure needs cleaning)`);
    const fs = new CopyFs(lab, d, { ...o, reflink: sb.reflink, metadata: 'device' }, layout);
    fs.load(sb.generation, ck.nextIno, ck.inodes, derived.refcounts);
    const problems = fs.fsck(1);
    if (problems.length) throw new ErrnoError(Errno.EUCLEAN, `${d.name}: ${problems[0]} (structure needs cleaning)`);
    return fs;
  }

  /** A mount's state, checked by the caller: inodes with their names and extents, the refcounts. */
  private load(generation: number, nextIno: number, inodes: readonly DiskInode[], refcounts: Parameters<RefcountTable['load']>[0]): void {
    this.generation = generation;
    this.nextIno = nextIno;
    for (const d of inodes) {
      const inode = this.newInode('file', d.ino);
      inode.links = 1;
      inode.size = d.size;
      for (const e of d.extents) {
        inode.extents.map(e.file, e.dev, e.count);
        this.allocator.markUsed(e.dev, e.count);
      }
      this.names.set(d.name, d.ino);
    }
    this.refcounts.load(refcounts);
  }

  private newInode(kind: InodeKind, ino = this.nextIno++): Inode {
    const inode: Inode = { ino, kind, size: 0, extents: new ExtentList(), links: 0, opens: 0, busy: 0, deferred: [], unmappedDirty: new Set(), cowReserved: new Set(), dirty: new Set(), locks: [], unstable: 0, stable: null, stableWaiters: [] };
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
    const table = fileTable(this.lab);
    while (table.owner.has(table.next)) table.next = table.next >= FS_LAST_FD ? FS_FIRST_FD : table.next + 1;
    const fd = table.next;
    table.next = fd >= FS_LAST_FD ? FS_FIRST_FD : fd + 1;
    table.owner.set(fd, this);
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

  /** The open descriptor, or null. */
  fdOrNull(fd: number): Fd | null {
    return this.fds.get(fd) ?? null;
  }

  close(fd: number): void {
    const f = this.fd(fd);
    this.fds.delete(fd);
    fileTables.get(this.lab)?.owner.delete(fd);
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

  /**
   * Runs `use` on the page for (inode, index), read from the device (or zeros for a hole) on a
   * miss. `use` runs synchronously on the page it gets: a page's buffer is reused once it leaves
   * the cache, so nobody keeps it across an await.
   */
  async withPage<T>(inode: Inode, index: number, trace: Trace | undefined, fill: boolean, use: (p: Page) => T, ahead = 1): Promise<T> {
    const hit = this.cached(inode, index);
    return hit ? use(hit) : this.pageIn(inode, index, trace, fill, ahead, use);
  }

  /** The cached page (a hit, counted), without waiting; undefined on a miss. */
  private cached(inode: Inode, index: number): Page | undefined {
    const hit = this.cache.get(inode.ino, index);
    if (hit) this.cache.stats.hits++;
    return hit;
  }

  /**
   * Reads page `index` (and up to `ahead` - 1 following pages on consecutive blocks that are not
   * cached: readahead, one READ bio) into the cache; zeros for a hole or with `fill` false.
   * Bytes past the end of the file read as zeros (a block may hold old bytes there).
   */
  private async pageIn<T>(inode: Inode, index: number, trace: Trace | undefined, fill: boolean, ahead: number, use: (p: Page) => T): Promise<T> {
    // The run to read: consecutive blocks from this page on, not cached, within the read and a quarter of the cache.
    const first = inode.extents.runAt(index, Math.min(ahead, MAX_BIO_BYTES / FS_BLOCK, Math.floor(this.cache.maxPages / 4)));
    let want = 1;
    if (fill) while (want < first.count && !this.cache.get(inode.ino, index + want)) want++;
    await this.makeRoom(want, trace);
    const again = this.cache.get(inode.ino, index); // another caller may have read it meanwhile
    if (again) return use(again);
    const dev = inode.extents.lookup(index);
    if (dev < 0 || !fill) {
      if (dev < 0) this.cache.stats.holes++;
      return use(this.cache.insert(inode.ino, index, this.cache.buffer(true)));
    }
    const run = inode.extents.runAt(index, want);
    let n = 1;
    while (n < run.count && !this.cache.get(inode.ino, index + n)) n++;
    this.cache.stats.misses += n;
    const buf = new Uint8Array(n * FS_BLOCK);
    const res = await this.lab.submit(this.dev, { op: ReqOp.READ, offset: dev * FS_BLOCK, length: buf.length, data: buf }, trace);
    if (res < 0) throw new ErrnoError(-res, `read of block ${dev} on ${this.dev.name}`);
    const fresh = (i: number, k: number): Page => {
      const data = this.cache.buffer(false);
      data.set(buf.subarray(k * FS_BLOCK, (k + 1) * FS_BLOCK));
      return this.cache.insert(inode.ino, i, this.zeroPastEof(inode, i, data));
    };
    let page0: Page | undefined;
    for (let k = 0; k < n; k++) {
      const i = index + k;
      // A page another caller read or wrote meanwhile is newer than this read; a page remapped meanwhile is not this block.
      const raced = this.cache.get(inode.ino, i);
      const page = raced ?? (inode.extents.lookup(i) === dev + k && !this.cache.full ? fresh(i, k) : undefined);
      if (k === 0) page0 = page ?? fresh(i, 0);
    }
    return use(page0!);
  }

  /** The bytes of page `index` past the end of the file are zeros from here on. */
  private zeroPastEof(inode: Inode, index: number, data: Uint8Array): Uint8Array {
    const within = inode.size - index * FS_BLOCK;
    if (within < FS_BLOCK) data.fill(0, Math.max(0, within));
    return data;
  }

  /** Room for `pages` more pages: clean pages dropped, dirty ones written back a cluster at a time. */
  private async makeRoom(pages = 1, trace?: Trace): Promise<void> {
    while (this.cache.size + pages > this.cache.maxPages) {
      if (this.cache.evictClean()) continue;
      const p = this.cache.oldestDirty();
      if (!p) return;
      await this.writeback(this.inodes.get(p.ino)!, p.index, p.index + WRITEBACK_CLUSTER, trace);
    }
  }

  /** Dirties a page: a block promised for it when it has none, or when its block is shared (its copy-on-write). */
  private markDirty(inode: Inode, p: Page): void {
    if (!p.dirty) {
      const dev = inode.extents.lookup(p.index);
      if (dev < 0) {
        if (!inode.unmappedDirty.has(p.index)) {
          this.allocator.reserve(1);
          inode.unmappedDirty.add(p.index);
        }
      } else if (this.refcounts.refsAt(dev) > 1 && !inode.cowReserved.has(p.index)) {
        this.allocator.reserve(1);
        inode.cowReserved.add(p.index);
      }
    }
    this.cache.setDirty(p, true);
    p.gen++;
    inode.dirty.add(p.index);
  }

  // ── copies in progress: range locks ──

  /**
   * A copy is writing [from, to) of the inode: readers and writers of those bytes (readAt,
   * writeAt) wait until `release` (docs/files.md, the destination during a copy).
   */
  lockRange(inode: Inode, from: number, to: number): () => void {
    let release!: () => void;
    const lock: RangeLock = { from, to, done: new Promise<void>((r) => (release = r)) };
    inode.locks.push(lock);
    return () => {
      const i = inode.locks.indexOf(lock);
      if (i >= 0) inode.locks.splice(i, 1);
      release();
    };
  }

  /** Resolves when no copy is writing any byte of [from, to). */
  async rangeIdle(inode: Inode, from: number, to: number): Promise<void> {
    for (;;) {
      const busy = inode.locks.find((l) => l.from < to && from < l.to);
      if (!busy) return;
      await busy.done;
    }
  }

  /** pread: bytes read (short at the end of the file); waits while a copy writes the range. */
  async readAt(inode: Inode, offset: number, out: Uint8Array, trace?: Trace): Promise<number> {
    if (inode.locks.length) await this.rangeIdle(inode, offset, offset + out.length);
    return this.readRange(inode, offset, out, trace);
  }

  /** pwrite through the page cache (see writeRange); waits while a copy writes the range. */
  async writeAt(inode: Inode, offset: number, data: Uint8Array, trace?: Trace): Promise<number> {
    if (inode.locks.length) await this.rangeIdle(inode, offset, offset + data.length);
    return this.writeRange(inode, offset, data, trace);
  }

  /** pread without waiting for copies (a copy's own reads). */
  async readRange(inode: Inode, offset: number, out: Uint8Array, trace?: Trace): Promise<number> {
    if (inode.kind === 'dir') throw new ErrnoError(Errno.EISDIR, 'is a directory');
    const n = Math.max(0, Math.min(out.length, inode.size - offset));
    for (let done = 0; done < n; ) {
      const at = offset + done;
      const index = Math.floor(at / FS_BLOCK);
      const within = at - index * FS_BLOCK;
      const len = Math.min(FS_BLOCK - within, n - done);
      const ahead = Math.ceil((n - done + within) / FS_BLOCK);
      await this.withPage(inode, index, trace, true, (p) => out.set(p.data.subarray(within, within + len), done), ahead);
      done += len;
    }
    return n;
  }

  /**
   * pwrite through the page cache without waiting for copies (a copy's own writes): bytes
   * written; ENOSPC when no block can be promised (bytes before it stay written).
   */
  async writeRange(inode: Inode, offset: number, data: Uint8Array, trace?: Trace): Promise<number> {
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
        const hit = this.cache.get(inode.ino, index) !== undefined;
        await this.withPage(inode, index, trace, !whole, (p) => {
          try {
            this.markDirty(inode, p);
          } catch (err) {
            // A page made for this write and never read must not stay: it holds no data of the file.
            if (!hit && whole && !p.dirty) this.cache.drop(inode.ino, index);
            throw err;
          }
          p.data.set(data.subarray(done, done + len), within);
        });
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
   * Writes back the inode's dirty pages with index in [from, to): blocks placed first (placeDirty),
   * then one WRITE bio per run of consecutive device blocks.
   */
  async writeback(inode: Inode, from: number, to: number, trace?: Trace): Promise<void> {
    if (inode.dirty.size === 0) return;
    let idx: number[];
    if (to - from < inode.dirty.size) {
      idx = [];
      for (let i = from; i < to; i++) if (inode.dirty.has(i)) idx.push(i);
    } else idx = [...inode.dirty].filter((i) => i >= from && i < to).sort((a, b) => a - b);
    if (idx.length === 0) return;
    this.beginUpdate(inode);
    try {
      await this.writePages(inode, idx, trace);
    } finally {
      this.endUpdate(inode);
    }
  }

  private async writePages(inode: Inode, idx: readonly number[], trace?: Trace): Promise<void> {
    this.placeDirty(inode, idx);
    // One WRITE per run of pages on consecutive device blocks, WRITEBACK_QD of them in flight.
    const writes: { dev0: number; buf: Uint8Array; pages: Page[]; gens: number[] }[] = [];
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
      writes.push({ dev0, buf, pages, gens: pages.map((p) => p.gen) });
      k = j;
    }
    let next = 0;
    let failure: ErrnoError | undefined;
    const worker = async (): Promise<void> => {
      while (next < writes.length && !failure) {
        const w = writes[next++]!;
        const res = await this.lab.submit(this.dev, { op: ReqOp.WRITE, offset: w.dev0 * FS_BLOCK, length: w.buf.length, data: w.buf }, trace);
        if (res < 0) {
          failure ??= new ErrnoError(-res, `writeback of ${inode.ino}:${w.pages[0]!.index} to block ${w.dev0} on ${this.dev.name}`);
          continue;
        }
        for (const [m, p] of w.pages.entries()) {
          // A page written again while its bio was in flight stays dirty: its new bytes are not on the device.
          if (p.dirty && p.gen === w.gens[m] && this.cache.get(inode.ino, p.index) === p) {
            this.cache.setDirty(p, false);
            inode.dirty.delete(p.index);
          }
        }
        this.cache.stats.writebacks += w.pages.length;
      }
    };
    await Promise.all(Array.from({ length: Math.min(WRITEBACK_QD, writes.length) }, worker));
    if (failure) throw failure;
  }

  /**
   * Gives each dirty page (sorted indexes) the block it is written to: a new one for a page with
   * none (delayed allocation) or on a shared block (copy-on-write: the old block loses a
   * reference); its own block otherwise. Consecutive pages get consecutive blocks where the
   * allocator finds them. Takes the blocks promised when the pages were dirtied.
   */
  private placeDirty(inode: Inode, idx: readonly number[]): void {
    const needsBlock = (i: number): boolean => {
      const dev = inode.extents.lookup(i);
      return dev < 0 || this.refcounts.refsAt(dev) > 1;
    };
    for (let k = 0; k < idx.length; ) {
      const first = idx[k]!;
      if (!needsBlock(first)) {
        if (inode.cowReserved.delete(first)) this.allocator.unreserve(1); // no longer shared
        k++;
        continue;
      }
      let j = k + 1;
      while (j < idx.length && idx[j] === idx[j - 1]! + 1 && needsBlock(idx[j]!)) j++;
      let promised = 0;
      for (let m = k; m < j; m++) if (inode.unmappedDirty.has(idx[m]!) || inode.cowReserved.has(idx[m]!)) promised++;
      const got = this.allocator.allocate(j - k, promised);
      const old = inode.extents.unmap(first, j - k);
      let fb = first;
      for (const e of got) {
        inode.extents.map(fb, e.start, e.count);
        fb += e.count;
      }
      for (let m = k; m < j; m++) {
        inode.unmappedDirty.delete(idx[m]!);
        inode.cowReserved.delete(idx[m]!);
      }
      this.releaseRuns(inode, old);
      k = j;
    }
  }

  /**
   * fsync(2): every dirty page of the inode on the device, then a cache FLUSH (as
   * blkdev_issue_flush after writeback). With metadata on the device, then a commit, after any
   * update of the inode under way (an offload into it) has its data on the device.
   */
  async fsync(inode: Inode, trace?: Trace): Promise<void> {
    await this.writeback(inode, 0, Infinity, trace);
    await this.flush(trace);
    if (!this.layout) return;
    while (inode.unstable > 0) await new Promise<void>((r) => inode.stableWaiters.push(r));
    await this.commit(trace);
  }

  /** sync(2) for this file system: every dirty page, then a cache FLUSH; with metadata on the device, a commit. */
  async sync(trace?: Trace): Promise<void> {
    for (const inode of [...this.inodes.values()]) await this.writeback(inode, 0, Infinity, trace);
    await this.flush(trace);
    await this.commit(trace);
  }

  // ── metadata on the device (ondisk.ts) ──

  /** An update that maps blocks before their data is on the device starts: commits write the inode as it was. */
  beginUpdate(inode: Inode): void {
    if (!this.layout) return;
    if (inode.unstable++ === 0) inode.stable = { size: inode.size, extents: inode.extents.list.map((e) => ({ ...e })) };
  }

  /** Such an update ended (its data is on the device, or it failed). */
  endUpdate(inode: Inode): void {
    if (!this.layout) return;
    if (--inode.unstable > 0) return;
    inode.stable = null;
    for (const w of inode.stableWaiters.splice(0)) w();
  }

  /**
   * Writes the metadata to the device (a no-op with metadata in memory): the checkpoint of
   * generation g + 1 into area (g + 1) & 1, FLUSH, the superblock into slot (g + 1) & 1, FLUSH.
   * Each linked file is written as it is, or, while an update of it is under way, as it was
   * before (so every block a commit maps holds its data); the bitmap and refcounts are derived
   * from what is written. Blocks freed before it that it does not map are free once it is on
   * the device. One commit at a time; ENOSPC when the metadata does not fit its area.
   */
  commit(trace?: Trace): Promise<void> {
    if (!this.layout) return Promise.resolve();
    const run = this.commitChain.then(() => this.commitNow(this.layout!, trace));
    this.commitChain = run.catch(() => undefined);
    return run;
  }

  private async commitNow(layout: Layout, trace?: Trace): Promise<void> {
    const generation = this.generation + 1;
    const inodes: DiskInode[] = [];
    for (const [name, ino] of this.names) {
      const i = this.inodes.get(ino)!;
      const s = i.stable ?? { size: i.size, extents: i.extents.list };
      // Blocks past the end of the file are not the file's (an offload maps them before it sets the size).
      const end = Math.ceil(s.size / FS_BLOCK);
      const extents: FileExtent[] = [];
      for (const e of s.extents) if (e.file < end) extents.push({ file: e.file, dev: e.dev, count: Math.min(e.count, end - e.file) });
      inodes.push({ ino, name, size: s.size, extents });
    }
    const { refs, refcounts, bitmap } = deriveAllocation(layout, inodes);
    // Every block the commit maps must stay out of the allocator's hands until a later commit drops it.
    if (ASSERTS) for (let b = layout.dataStart; b < layout.blocks; b++) if (refs[b]! > 0) invariant(this.allocator.isUsed(b), () => `commit ${generation} maps block ${b}, which the allocator has free`);
    const area = (generation & 1) as 0 | 1;
    const ck = encodeCheckpoint({ generation, nextIno: this.nextIno, inodes, refcounts, bitmap }, layout.blocks, layout.areaBlocks * FS_BLOCK);
    if (!ck) throw new ErrnoError(Errno.ENOSPC, `${this.dev.name}: the metadata does not fit its ${layout.areaBlocks * FS_BLOCK}-byte checkpoint area`);
    await this.writeBlocks(layout.areaStart[area], ck, trace);
    await this.flush(trace);
    const ckCrc = new DataView(ck.buffer).getUint32(CK.crc, true);
    await this.writeBlocks(area, encodeSuperblock({ generation, reflink: this.reflink, layout, area, ckBytes: ck.length, ckCrc }), trace);
    await this.flush(trace);
    this.generation = generation;
    this.commits++;
    this.allocator.settle((b) => refs[b]! > 0);
  }

  /** Writes `data` (padded to whole blocks) from block `first` on, 1 MiB per WRITE. */
  private async writeBlocks(first: number, data: Uint8Array, trace?: Trace): Promise<void> {
    const bytes = Math.ceil(data.length / FS_BLOCK) * FS_BLOCK;
    const buf = bytes === data.length ? data : new Uint8Array(bytes);
    if (buf !== data) buf.set(data);
    for (let at = 0; at < bytes; at += MAX_BIO_BYTES) {
      const n = Math.min(MAX_BIO_BYTES, bytes - at);
      const res = await this.lab.submit(this.dev, { op: ReqOp.WRITE, offset: first * FS_BLOCK + at, length: n, data: buf.subarray(at, at + n) }, trace);
      if (res < 0) throw new ErrnoError(-res, `metadata write to block ${first + at / FS_BLOCK} on ${this.dev.name}`);
    }
  }

  /** The device's volatile write cache to its media (REQ_OP_FLUSH); a device without one has nothing to do. */
  private async flush(trace?: Trace): Promise<void> {
    const res = await this.lab.submit(this.dev, { op: ReqOp.FLUSH, offset: 0, length: 0 }, trace);
    if (res < 0 && res !== -Errno.ENOTSUP) throw new ErrnoError(-res, `cache flush of ${this.dev.name}`);
  }

  /**
   * fallocate(2), mode 0: a block for every hole of [offset, offset + len), zeroed on the device
   * (WRITE_ZEROES, as blkdev_issue_zeroout; WRITEs of zeros where the device has no WRITE_ZEROES:
   * this file system has no unwritten extents), and the size grown to offset + len. Dirty pages
   * in the range are written back first. ENOSPC, with nothing allocated, when the holes need more
   * blocks than are free; EINVAL for a length of 0 or a negative offset (the man page's).
   */
  async fallocate(inode: Inode, offset: number, len: number, trace?: Trace): Promise<void> {
    if (inode.kind === 'dir') throw new ErrnoError(Errno.EISDIR, 'is a directory');
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(len) || offset < 0 || len <= 0) throw new ErrnoError(Errno.EINVAL, `fallocate: offset ${offset}, length ${len}`);
    if (offset + len > FS_LIMITS.fileBytes) throw new ErrnoError(Errno.EFBIG, `a file is at most ${FS_LIMITS.fileBytes} bytes`);
    if (inode.locks.length) await this.rangeIdle(inode, offset, offset + len);
    const first = Math.floor(offset / FS_BLOCK);
    const end = Math.ceil((offset + len) / FS_BLOCK);
    await this.writeback(inode, first, end, trace);
    const holes: { file: number; count: number }[] = [];
    let need = 0;
    for (let b = first; b < end; ) {
      const h = inode.extents.holeAt(b, end - b);
      if (h > 0) {
        holes.push({ file: b, count: h });
        need += h;
        b += h;
      } else b += inode.extents.runAt(b, end - b).count;
    }
    if (need > this.allocator.available) throw new ErrnoError(Errno.ENOSPC, `fallocate: ${need} blocks wanted, ${this.allocator.available} free`);
    if (inode.extents.length + need > FS_MAX_EXTENTS) throw new ErrnoError(Errno.EFBIG, `a file maps at most ${FS_MAX_EXTENTS} extents`);
    const runs: { dev: number; count: number }[] = [];
    this.beginUpdate(inode);
    try {
      for (const h of holes) {
        let fb = h.file;
        for (const e of this.allocator.allocate(h.count)) {
          inode.extents.map(fb, e.start, e.count);
          runs.push({ dev: e.start, count: e.count });
          fb += e.count;
        }
      }
      for (const r of runs) await this.zeroBlocks(r.dev, r.count, trace);
      if (offset + len > inode.size) inode.size = offset + len;
    } finally {
      this.endUpdate(inode);
    }
  }

  /** Zeroes device blocks: WRITE_ZEROES, or WRITEs of a zero buffer where the device has none. */
  private async zeroBlocks(dev: number, count: number, trace?: Trace): Promise<void> {
    const res = await this.lab.submit(this.dev, { op: ReqOp.WRITE_ZEROES, offset: dev * FS_BLOCK, length: count * FS_BLOCK }, trace);
    if (res >= 0) return;
    if (res !== -Errno.ENOTSUP) throw new ErrnoError(-res, `zeroing blocks ${dev}+${count} on ${this.dev.name}`);
    const zeros = new Uint8Array(Math.min(count * FS_BLOCK, MAX_BIO_BYTES));
    for (let at = 0; at < count * FS_BLOCK; at += zeros.length) {
      const n = Math.min(zeros.length, count * FS_BLOCK - at);
      const w = await this.lab.submit(this.dev, { op: ReqOp.WRITE, offset: dev * FS_BLOCK + at, length: n, data: zeros.subarray(0, n) }, trace);
      if (w < 0) throw new ErrnoError(-w, `zeroing blocks ${dev}+${count} on ${this.dev.name}`);
    }
  }

  /**
   * A read with O_DIRECT: the device's blocks straight into `out`, no page cache (dirty pages in
   * the range written back first, as Linux's direct I/O does); holes read as zeros. Offset and
   * length on block boundaries (EINVAL otherwise, as O_DIRECT's alignment rule). Bytes read.
   */
  async readDirect(inode: Inode, offset: number, out: Uint8Array, trace?: Trace): Promise<number> {
    if (inode.kind === 'dir') throw new ErrnoError(Errno.EISDIR, 'is a directory');
    if (offset % FS_BLOCK !== 0 || out.length % FS_BLOCK !== 0) throw new ErrnoError(Errno.EINVAL, `O_DIRECT: offset ${offset} and length ${out.length} must be multiples of ${FS_BLOCK}`);
    if (inode.locks.length) await this.rangeIdle(inode, offset, offset + out.length);
    const n = Math.max(0, Math.min(out.length, inode.size - offset));
    const first = offset / FS_BLOCK;
    const count = Math.ceil(n / FS_BLOCK);
    await this.writeback(inode, first, first + count, trace);
    for (let k = 0; k < count; ) {
      const r = inode.extents.runAt(first + k, Math.min(count - k, MAX_BIO_BYTES / FS_BLOCK));
      if (r.count === 0) {
        const h = inode.extents.holeAt(first + k, count - k);
        out.fill(0, k * FS_BLOCK, Math.min(n, (k + h) * FS_BLOCK));
        k += h;
        continue;
      }
      const res = await this.lab.submit(this.dev, { op: ReqOp.READ, offset: r.dev * FS_BLOCK, length: r.count * FS_BLOCK, data: out.subarray(k * FS_BLOCK, (k + r.count) * FS_BLOCK) }, trace);
      if (res < 0) throw new ErrnoError(-res, `direct read of blocks ${r.dev}+${r.count} on ${this.dev.name}`);
      k += r.count;
    }
    if (n < out.length) out.fill(0, n);
    return n;
  }

  /** Drops the inode's cached pages with index in [from, to), dirty ones included (their data is being replaced). */
  invalidate(inode: Inode, from: number, to: number): void {
    for (const i of [...inode.dirty]) if (i >= from && i < to) inode.dirty.delete(i);
    for (const set of [inode.unmappedDirty, inode.cowReserved]) {
      for (const i of [...set]) {
        if (i >= from && i < to) {
          set.delete(i);
          this.allocator.unreserve(1);
        }
      }
    }
    const last = Math.min(to, Math.ceil(inode.size / FS_BLOCK) + 1);
    for (let i = from; i < last; i++) this.cache.drop(inode.ino, i);
  }

  /**
   * truncate(2). Shrinking to a size inside a block zeroes the rest of that block first (read,
   * zeroed, dirtied, as block_truncate_page does), so the file never shows old bytes there
   * when it grows again or is copied; that write may need a block (copy-on-write): ENOSPC.
   */
  async truncate(path: string, size: number, trace?: Trace): Promise<void> {
    const inode = this.lookup(path);
    if (inode.kind === 'dir') throw new ErrnoError(Errno.EISDIR, `${path}: is a directory`);
    if (!Number.isSafeInteger(size) || size < 0) throw new ErrnoError(Errno.EINVAL, `${path}: size ${size}`);
    if (size > FS_LIMITS.fileBytes) throw new ErrnoError(Errno.EFBIG, `a file is at most ${FS_LIMITS.fileBytes} bytes`);
    // A copy writing bytes past the new size finishes first (truncate writes, so it waits as writers do).
    if (inode.locks.length) await this.rangeIdle(inode, size, Infinity);
    const index = Math.floor(size / FS_BLOCK);
    if (size < inode.size && size % FS_BLOCK !== 0 && (inode.extents.lookup(index) >= 0 || this.cache.get(inode.ino, index))) {
      await this.withPage(inode, index, trace, true, (p) => {
        this.markDirty(inode, p);
        p.data.fill(0, size % FS_BLOCK);
      });
    }
    this.truncateInode(inode, size);
  }

  /**
   * Sets the size; blocks past it are unmapped and given up, or, while a copy uses the file,
   * given up when the copy ends (docs/files.md: no block is reused under a running copy).
   */
  truncateInode(inode: Inode, size: number): void {
    const keep = Math.ceil(size / FS_BLOCK);
    this.invalidate(inode, keep, Infinity);
    // The tail of the last kept page reads as zeros from now on.
    if (size % FS_BLOCK !== 0) {
      const p = this.cache.get(inode.ino, keep - 1);
      if (p) p.data.fill(0, size % FS_BLOCK);
    }
    this.releaseRuns(inode, inode.extents.unmap(keep, Number.MAX_SAFE_INTEGER - keep));
    inode.size = size;
  }

  /**
   * Device runs the inode no longer maps: each block loses a reference and is freed with its
   * last; while a copy uses the inode, that happens when the copy ends.
   */
  releaseRuns(inode: Inode, runs: readonly { dev: number; count: number }[]): void {
    if (inode.busy > 0) inode.deferred.push(...runs);
    else this.dropRuns(runs);
  }

  private dropRuns(runs: readonly { dev: number; count: number }[]): void {
    for (const r of runs) for (const f of this.refcounts.drop(r.dev, r.count)) this.allocator.release(f.start, f.count);
  }

  /**
   * The metadata step of a clone (FICLONERANGE, reflink): file blocks [db, db + count) of dst
   * become the blocks src maps at [sb, sb + count), shared (holes stay holes), and the blocks dst
   * mapped there lose a reference. The caller has written src's dirty pages in range back and
   * dropped dst's cached pages. Checks its limits before changing anything.
   */
  cloneRange(src: Inode, sb: number, dst: Inode, db: number, count: number): void {
    if (!this.reflink) throw new ErrnoError(Errno.ENOTSUP, `${this.dev.name}: this file system was made without reflink`);
    const runs: { file: number; dev: number; count: number }[] = [];
    for (let k = 0; k < count; ) {
      const r = src.extents.runAt(sb + k, count - k);
      if (r.count === 0) {
        k += src.extents.holeAt(sb + k, count - k);
        continue;
      }
      runs.push({ file: db + k, dev: r.dev, count: r.count });
      k += r.count;
    }
    if (!this.refcounts.roomFor(runs.length)) throw new ErrnoError(Errno.ENOSPC, 'the refcount table is full');
    if (dst.extents.length + runs.length > FS_MAX_EXTENTS) throw new ErrnoError(Errno.EFBIG, `a file maps at most ${FS_MAX_EXTENTS} extents`);
    this.releaseRuns(dst, dst.extents.unmap(db, count));
    for (const r of runs) {
      this.refcounts.share(r.dev, r.count);
      dst.extents.map(r.file, r.dev, r.count);
    }
  }

  /** A copy starts using the inode's blocks. */
  pin(inode: Inode): void {
    inode.busy++;
  }

  /** A copy ended: blocks given up meanwhile lose their reference now. */
  unpin(inode: Inode): void {
    inode.busy--;
    if (inode.busy > 0) return;
    this.dropRuns(inode.deferred);
    inode.deferred.length = 0;
    if (inode.links === 0 && inode.opens === 0) this.inodes.delete(inode.ino);
  }

  stat(path: string): { ino: number; kind: InodeKind; size: number; blocks: number; extents: { file: number; dev: number; count: number }[] } {
    const i = this.lookup(path);
    return { ino: i.ino, kind: i.kind, size: i.size, blocks: i.extents.blocks, extents: i.extents.list.map((e) => ({ ...e })) };
  }

  /**
   * Checks the metadata against itself (fsck): every block some file maps (or a running copy
   * holds) is allocated, counted in the refcount table as often as it is mapped, and no other
   * block is allocated; the reservation covers the dirty pages that hold one. Returns the
   * problems found (at most `max`), none on a consistent file system.
   */
  fsck(max = 20): string[] {
    const problems: string[] = [];
    const refs = new Uint32Array(this.allocator.blocks);
    // Metadata blocks and blocks freed since the last commit (held until the next) are used and unmapped.
    const meta = this.layout?.dataStart ?? 0;
    const held = new Uint8Array(this.allocator.blocks);
    for (const r of this.allocator.heldRuns) held.fill(1, r.start, r.start + r.count);
    let promised = 0;
    for (const inode of this.inodes.values()) {
      for (const e of inode.extents.list) for (let b = e.dev; b < e.dev + e.count; b++) refs[b]!++;
      for (const r of inode.deferred) for (let b = r.dev; b < r.dev + r.count; b++) refs[b]!++;
      promised += inode.unmappedDirty.size + inode.cowReserved.size;
    }
    let used = 0;
    for (let b = 0; b < refs.length && problems.length < max; b++) {
      const n = refs[b]!;
      if (this.allocator.isUsed(b)) used++;
      if (b < meta || held[b]) {
        if (n > 0 || !this.allocator.isUsed(b)) problems.push(`block ${b} is ${b < meta ? 'metadata' : 'freed and held for the next commit'} and ${n > 0 ? `mapped ${n} times` : 'free'}`);
      } else if (n === 0 && this.allocator.isUsed(b)) problems.push(`block ${b} is allocated and no file maps it`);
      else if (n > 0 && !this.allocator.isUsed(b)) problems.push(`block ${b} is mapped ${n} times and free`);
      else if (n > 0 && this.refcounts.refsAt(b) !== n) problems.push(`block ${b} is mapped ${n} times, its refcount says ${this.refcounts.refsAt(b)}`);
    }
    if (problems.length === 0 && used !== this.allocator.blocks - this.allocator.freeBlocks) problems.push(`${used} blocks allocated, the free count says ${this.allocator.blocks - this.allocator.freeBlocks}`);
    if (problems.length === 0 && promised !== this.allocator.reservedBlocks) problems.push(`${promised} blocks promised to dirty pages, the reservation holds ${this.allocator.reservedBlocks}`);
    return problems;
  }
}


async function readBlocks(lab: Lab, dev: BlockDevice, first: number, count: number, trace?: Trace): Promise<Uint8Array> {
  const buf = new Uint8Array(count * FS_BLOCK);
  for (let at = 0; at < buf.length; at += MAX_BIO_BYTES) {
    const n = Math.min(MAX_BIO_BYTES, buf.length - at);
    const res = await lab.submit(dev, { op: ReqOp.READ, offset: first * FS_BLOCK + at, length: n, data: buf.subarray(at, at + n) }, trace);
    if (res < 0) throw new ErrnoError(-res, `metadata read of block ${first + at / FS_BLOCK} on ${dev.name}`);
  }
  return buf;
}
