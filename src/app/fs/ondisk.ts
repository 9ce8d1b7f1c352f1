/**
 * The on-disk format of copylab's file system when its metadata lives on the device
 * (`metadata: 'device'`, docs/files.md "Metadata on the device"): two superblock slots and two
 * checkpoint areas; a commit writes the whole metadata (inodes with their names and extents, the
 * refcount records, the allocation bitmap) into the area the newest superblock does not point
 * at, flushes, then writes the next superblock (generation + 1) into the other slot and flushes
 * again. A crash at any point leaves one superblock that checks and points at a whole
 * checkpoint: the last commit's or the one before it (copy-on-write metadata, a superblock flip).
 *
 * Every field is little-endian at a named offset; superblock and checkpoint carry CRC32C. A
 * decode checks every field and count against its limits before it allocates anything, and
 * answers one line: EINVAL when no slot holds a copyfs superblock, EUCLEAN ("structure needs
 * cleaning") for anything else that does not check.
 */
import { Errno, ErrnoError } from '../../core/util/errno.js';
import { crc32c } from '../iscsi/crc32c.js';
import { FS_MAX_EXTENTS, type FileExtent } from './extents.js';
import { FS_BLOCK } from './page-cache.js';
import { FS_MAX_REFCOUNT_RECORDS, type RefcountRecord } from './refcount.js';

/** "CPFS" and "CPCK" read as little-endian u32s. */
export const SB_MAGIC = 0x53465043;
export const CK_MAGIC = 0x4b435043;
export const FORMAT_VERSION = 1;

/** Superblock fields (bytes into block 0 or 1; the rest of the block is zero). */
export const SB = {
  magic: 0, // u32 SB_MAGIC
  version: 4, // u32 FORMAT_VERSION
  generation: 8, // u64 commits since mkfs (1 at mkfs)
  blockSize: 16, // u32 4096
  flags: 20, // u32 bit 0: reflink
  blocks: 24, // u64 file-system blocks of the device
  areaBlocks: 32, // u32 blocks of each checkpoint area
  area: 36, // u32 0 or 1: the area holding this generation's checkpoint (generation & 1)
  ckBytes: 40, // u32 bytes of that checkpoint
  ckCrc: 44, // u32 its CRC32C (as its header says)
  crc: 60, // u32 CRC32C of bytes 0..59
  size: 64,
} as const;

/** Checkpoint header fields (bytes into the area); records follow at CK.size. */
export const CK = {
  magic: 0, // u32 CK_MAGIC
  version: 4, // u32
  generation: 8, // u64 the superblock's
  bytes: 16, // u32 the checkpoint's length, header included
  crc: 20, // u32 CRC32C of the checkpoint with these 4 bytes left out
  inodes: 24, // u32 inode records
  refcounts: 28, // u32 refcount records
  bitmapBytes: 32, // u32 ceil(blocks / 8)
  nextIno: 36, // u32 the next inode number
  blocks: 40, // u64 the superblock's
  size: 64,
} as const;

/** An inode record: INO fields, then the name (padded to 8 bytes), then its extents. */
export const INO = { ino: 0, nameLen: 4, flags: 6, size: 8, extents: 16, size_: 24 } as const;
/** An extent: first file block u32, block count u32, first device block u64. */
export const EXT = { file: 0, count: 4, dev: 8, size: 16 } as const;
/** A refcount record: first block u64, block count u32, files mapping each block u32 (2 or more). */
export const REF = { start: 0, count: 8, refs: 12, size: 16 } as const;

const FLAG_REFLINK = 1;
const MAX_INO = 2 ** 31 - 1;
/** File blocks of the largest file (FS_LIMITS.fileBytes / FS_BLOCK). */
const MAX_FILE_BLOCKS = 2 ** 32;

/** Where things are: superblock slots in blocks 0 and 1, checkpoint areas A and B, then data. */
export interface Layout {
  readonly blocks: number;
  readonly areaBlocks: number;
  /** First block of area 0 and of area 1. */
  readonly areaStart: readonly [number, number];
  /** First block files may use. */
  readonly dataStart: number;
}

/** Smallest and largest checkpoint area, blocks (256 KiB and 64 MiB): mount reads no more than the largest. */
export const AREA_MIN_BLOCKS = 64;
export const AREA_MAX_BLOCKS = 16384;

/** Checkpoint areas of 1/64 of the device each, within AREA_MIN_BLOCKS..AREA_MAX_BLOCKS. */
export function layoutFor(blocks: number, areaBlocks = Math.min(AREA_MAX_BLOCKS, Math.max(AREA_MIN_BLOCKS, Math.ceil(blocks / 64)))): Layout {
  return { blocks, areaBlocks, areaStart: [2, 2 + areaBlocks], dataStart: 2 + 2 * areaBlocks };
}

export interface DiskInode {
  readonly ino: number;
  readonly name: string;
  readonly size: number;
  readonly extents: readonly FileExtent[];
}

export interface Superblock {
  readonly generation: number;
  readonly reflink: boolean;
  readonly layout: Layout;
  readonly area: 0 | 1;
  readonly ckBytes: number;
  readonly ckCrc: number;
}

export interface Checkpoint {
  readonly generation: number;
  readonly nextIno: number;
  readonly inodes: readonly DiskInode[];
  readonly refcounts: readonly RefcountRecord[];
  readonly bitmap: Uint8Array;
}

const unclean = (dev: string, why: string): never => {
  throw new ErrnoError(Errno.EUCLEAN, `${dev}: ${why} (structure needs cleaning)`);
};

const u64 = (v: DataView, at: number): number => {
  const n = v.getBigUint64(at, true);
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(n);
};

export function encodeSuperblock(sb: Superblock): Uint8Array {
  const out = new Uint8Array(FS_BLOCK);
  const v = new DataView(out.buffer);
  v.setUint32(SB.magic, SB_MAGIC, true);
  v.setUint32(SB.version, FORMAT_VERSION, true);
  v.setBigUint64(SB.generation, BigInt(sb.generation), true);
  v.setUint32(SB.blockSize, FS_BLOCK, true);
  v.setUint32(SB.flags, sb.reflink ? FLAG_REFLINK : 0, true);
  v.setBigUint64(SB.blocks, BigInt(sb.layout.blocks), true);
  v.setUint32(SB.areaBlocks, sb.layout.areaBlocks, true);
  v.setUint32(SB.area, sb.area, true);
  v.setUint32(SB.ckBytes, sb.ckBytes, true);
  v.setUint32(SB.ckCrc, sb.ckCrc, true);
  v.setUint32(SB.crc, crc32c(out.subarray(0, SB.crc)), true);
  return out;
}

/**
 * A superblock slot: the superblock, or why not (`magic: false` when the slot holds no copyfs
 * superblock at all). `devBlocks` is the device's size in file-system blocks.
 */
export function decodeSuperblock(buf: Uint8Array, devBlocks: number): { sb: Superblock } | { magic: boolean; why: string } {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < SB.size || v.getUint32(SB.magic, true) !== SB_MAGIC) return { magic: false, why: 'no copyfs superblock' };
  if (v.getUint32(SB.crc, true) !== crc32c(buf.subarray(0, SB.crc))) return { magic: true, why: 'superblock checksum mismatch' };
  const version = v.getUint32(SB.version, true);
  if (version !== FORMAT_VERSION) return { magic: true, why: `superblock version ${version}, this is ${FORMAT_VERSION}` };
  const bs = v.getUint32(SB.blockSize, true);
  if (bs !== FS_BLOCK) return { magic: true, why: `block size ${bs}, this is ${FS_BLOCK}` };
  const flags = v.getUint32(SB.flags, true);
  if ((flags & ~FLAG_REFLINK) !== 0) return { magic: true, why: `unknown flags 0x${flags.toString(16)}` };
  const generation = u64(v, SB.generation);
  if (generation < 1 || !Number.isSafeInteger(generation)) return { magic: true, why: `generation ${generation}` };
  const blocks = u64(v, SB.blocks);
  if (blocks !== devBlocks) return { magic: true, why: `made on ${blocks} blocks, the device has ${devBlocks}` };
  const areaBlocks = v.getUint32(SB.areaBlocks, true);
  const layout = layoutFor(blocks, areaBlocks);
  // Bounded before the area is read: a damaged superblock must not make mount read gigabytes.
  if (areaBlocks > AREA_MAX_BLOCKS) return { magic: true, why: `checkpoint areas of ${areaBlocks} blocks, at most ${AREA_MAX_BLOCKS}` };
  if (areaBlocks < 1 || layout.dataStart + 1 > blocks) return { magic: true, why: `checkpoint areas of ${areaBlocks} blocks do not fit ${blocks} blocks` };
  const area = v.getUint32(SB.area, true);
  if (area !== (generation & 1)) return { magic: true, why: `area ${area} for generation ${generation}` };
  const ckBytes = v.getUint32(SB.ckBytes, true);
  if (ckBytes < CK.size || ckBytes > areaBlocks * FS_BLOCK) return { magic: true, why: `checkpoint of ${ckBytes} bytes in an area of ${areaBlocks * FS_BLOCK}` };
  for (let at = 48; at < SB.crc; at++) if (buf[at] !== 0) return { magic: true, why: `reserved superblock byte ${at} is ${buf[at]}` };
  return { sb: { generation, reflink: (flags & FLAG_REFLINK) !== 0, layout, area: area as 0 | 1, ckBytes, ckCrc: v.getUint32(SB.ckCrc, true) } };
}

const pad8 = (n: number): number => (n + 7) & ~7;

/** The checkpoint's bytes; null when they would not fit `maxBytes` (the area). */
export function encodeCheckpoint(ck: Checkpoint, blocks: number, maxBytes: number): Uint8Array | null {
  const names = ck.inodes.map((i) => Buffer.from(i.name, 'utf8'));
  let bytes = CK.size + ck.refcounts.length * REF.size + ck.bitmap.length;
  ck.inodes.forEach((i, k) => (bytes += INO.size_ + pad8(names[k]!.length) + i.extents.length * EXT.size));
  if (bytes > maxBytes) return null;
  const out = new Uint8Array(bytes);
  const v = new DataView(out.buffer);
  v.setUint32(CK.magic, CK_MAGIC, true);
  v.setUint32(CK.version, FORMAT_VERSION, true);
  v.setBigUint64(CK.generation, BigInt(ck.generation), true);
  v.setUint32(CK.bytes, bytes, true);
  v.setUint32(CK.inodes, ck.inodes.length, true);
  v.setUint32(CK.refcounts, ck.refcounts.length, true);
  v.setUint32(CK.bitmapBytes, ck.bitmap.length, true);
  v.setUint32(CK.nextIno, ck.nextIno, true);
  v.setBigUint64(CK.blocks, BigInt(blocks), true);
  let at = CK.size;
  ck.inodes.forEach((i, k) => {
    const name = names[k]!;
    v.setUint32(at + INO.ino, i.ino, true);
    v.setUint16(at + INO.nameLen, name.length, true);
    v.setBigUint64(at + INO.size, BigInt(i.size), true);
    v.setUint32(at + INO.extents, i.extents.length, true);
    out.set(name, at + INO.size_);
    at += INO.size_ + pad8(name.length);
    for (const e of i.extents) {
      v.setUint32(at + EXT.file, e.file, true);
      v.setUint32(at + EXT.count, e.count, true);
      v.setBigUint64(at + EXT.dev, BigInt(e.dev), true);
      at += EXT.size;
    }
  });
  for (const r of ck.refcounts) {
    v.setBigUint64(at + REF.start, BigInt(r.start), true);
    v.setUint32(at + REF.count, r.count, true);
    v.setUint32(at + REF.refs, r.refs, true);
    at += REF.size;
  }
  out.set(ck.bitmap, at);
  v.setUint32(CK.crc, checkpointCrc(out), true);
  return out;
}

function checkpointCrc(buf: Uint8Array): number {
  return crc32c(buf.subarray(0, CK.crc), buf.subarray(CK.crc + 4));
}

export interface FileLimits {
  readonly files: number;
  readonly nameBytes: number;
  readonly fileBytes: number;
}

/**
 * Reads a checkpoint back, checking each count against its limit and the bytes left before it
 * allocates, and each field against the layout: EUCLEAN naming the first thing that is wrong.
 * The bitmap and refcount records are returned as stored; the caller compares them with the
 * extents.
 */
export function decodeCheckpoint(dev: string, buf: Uint8Array, sb: Superblock, limits: FileLimits): Checkpoint {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const { layout } = sb;
  if (buf.length < CK.size || v.getUint32(CK.magic, true) !== CK_MAGIC) unclean(dev, `no checkpoint at area ${sb.area}`);
  const bytes = v.getUint32(CK.bytes, true);
  if (bytes !== sb.ckBytes || bytes > buf.length) unclean(dev, `checkpoint of ${bytes} bytes, the superblock says ${sb.ckBytes}`);
  const crc = v.getUint32(CK.crc, true);
  if (crc !== sb.ckCrc || crc !== checkpointCrc(buf.subarray(0, bytes))) unclean(dev, 'checkpoint checksum mismatch');
  if (v.getUint32(CK.version, true) !== FORMAT_VERSION) unclean(dev, `checkpoint version ${v.getUint32(CK.version, true)}`);
  if (u64(v, CK.generation) !== sb.generation) unclean(dev, `checkpoint of generation ${u64(v, CK.generation)} under superblock generation ${sb.generation}`);
  if (u64(v, CK.blocks) !== layout.blocks) unclean(dev, `checkpoint made for ${u64(v, CK.blocks)} blocks`);
  for (let at = 48; at < CK.size; at++) if (buf[at] !== 0) unclean(dev, `reserved checkpoint byte ${at} is ${buf[at]}`);
  const nInodes = v.getUint32(CK.inodes, true);
  const nRefs = v.getUint32(CK.refcounts, true);
  const bitmapBytes = v.getUint32(CK.bitmapBytes, true);
  const nextIno = v.getUint32(CK.nextIno, true);
  if (nInodes > limits.files) unclean(dev, `${nInodes} inodes, at most ${limits.files}`);
  if (nRefs > FS_MAX_REFCOUNT_RECORDS) unclean(dev, `${nRefs} refcount records, at most ${FS_MAX_REFCOUNT_RECORDS}`);
  if (bitmapBytes !== Math.ceil(layout.blocks / 8)) unclean(dev, `a bitmap of ${bitmapBytes} bytes for ${layout.blocks} blocks`);
  if (nextIno < 2 || nextIno > MAX_INO) unclean(dev, `next inode ${nextIno}`);
  // The fixed-size parts must fit before any record is read.
  if (CK.size + nInodes * INO.size_ + nRefs * REF.size + bitmapBytes > bytes) unclean(dev, `${nInodes} inodes, ${nRefs} refcount records and the bitmap do not fit ${bytes} bytes`);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const inodes: DiskInode[] = [];
  const inos = new Set<number>();
  const names = new Set<string>();
  let at = CK.size;
  const tail = nRefs * REF.size + bitmapBytes;
  for (let k = 0; k < nInodes; k++) {
    if (at + INO.size_ + tail > bytes) unclean(dev, `inode record ${k} runs past the checkpoint`);
    const ino = v.getUint32(at + INO.ino, true);
    const nameLen = v.getUint16(at + INO.nameLen, true);
    const flags = v.getUint16(at + INO.flags, true);
    const size = u64(v, at + INO.size);
    const nExt = v.getUint32(at + INO.extents, true);
    const zero = v.getUint32(at + INO.extents + 4, true);
    if (ino < 2 || ino >= nextIno || inos.has(ino)) unclean(dev, `inode record ${k}: inode number ${ino}`);
    if (flags !== 0 || zero !== 0) unclean(dev, `inode ${ino}: reserved fields not zero`);
    if (nameLen < 1 || nameLen > limits.nameBytes) unclean(dev, `inode ${ino}: a name of ${nameLen} bytes`);
    if (size > limits.fileBytes) unclean(dev, `inode ${ino}: size ${size} past ${limits.fileBytes}`);
    if (nExt > FS_MAX_EXTENTS || nExt > Math.ceil(size / FS_BLOCK)) unclean(dev, `inode ${ino}: ${nExt} extents for ${size} bytes`);
    const recBytes = INO.size_ + pad8(nameLen) + nExt * EXT.size;
    if (at + recBytes + tail > bytes) unclean(dev, `inode ${ino}: its ${nExt} extents run past the checkpoint`);
    let name = '';
    try {
      name = decoder.decode(buf.subarray(at + INO.size_, at + INO.size_ + nameLen));
    } catch {
      unclean(dev, `inode ${ino}: its name is not UTF-8`);
    }
    if (name.includes('/') || name.includes('\0') || name === '.' || name === '..' || names.has(name)) unclean(dev, `inode ${ino}: name ${JSON.stringify(name)}`);
    const extents: FileExtent[] = [];
    let e = at + INO.size_ + pad8(nameLen);
    let prevEnd = 0;
    const fileBlocks = Math.ceil(size / FS_BLOCK);
    for (let x = 0; x < nExt; x++, e += EXT.size) {
      const file = v.getUint32(e + EXT.file, true);
      const count = v.getUint32(e + EXT.count, true);
      const devBlock = u64(v, e + EXT.dev);
      if (count < 1 || file < prevEnd || file + count > Math.min(fileBlocks, MAX_FILE_BLOCKS)) unclean(dev, `inode ${ino}: extent ${x} at file block ${file}+${count}`);
      if (devBlock < layout.dataStart || devBlock + count > layout.blocks) unclean(dev, `inode ${ino}: extent ${x} at device block ${devBlock}+${count}, outside ${layout.dataStart}..${layout.blocks}`);
      extents.push({ file, dev: devBlock, count });
      prevEnd = file + count;
    }
    inos.add(ino);
    names.add(name);
    inodes.push({ ino, name, size, extents });
    at += recBytes;
  }
  const refcounts: RefcountRecord[] = [];
  let prevEnd = 0;
  for (let k = 0; k < nRefs; k++, at += REF.size) {
    const start = u64(v, at + REF.start);
    const count = v.getUint32(at + REF.count, true);
    const refs = v.getUint32(at + REF.refs, true);
    if (count < 1 || start < Math.max(prevEnd, layout.dataStart) || start + count > layout.blocks || refs < 2) unclean(dev, `refcount record ${k}: blocks ${start}+${count} mapped ${refs} times`);
    refcounts.push({ start, count, refs });
    prevEnd = start + count;
  }
  if (at + bitmapBytes !== bytes) unclean(dev, `${bytes - at - bitmapBytes} bytes left over after the records`);
  const bitmap = buf.slice(at, at + bitmapBytes);
  if (layout.blocks % 8 !== 0 && bitmap[bitmapBytes - 1]! >> (layout.blocks % 8) !== 0) unclean(dev, 'bitmap bits set past the last block');
  return { generation: sb.generation, nextIno, inodes, refcounts, bitmap };
}

/**
 * The refcount records and bitmap that `inodes` imply (metadata blocks used): what a commit
 * writes and what a mount compares with what it read. `refs` counts the files mapping each block.
 */
export function deriveAllocation(layout: Layout, inodes: readonly DiskInode[]): { refs: Uint32Array; refcounts: RefcountRecord[]; bitmap: Uint8Array } {
  const refs = new Uint32Array(layout.blocks);
  for (const i of inodes) for (const e of i.extents) for (let b = e.dev; b < e.dev + e.count; b++) refs[b]!++;
  const bitmap = new Uint8Array(Math.ceil(layout.blocks / 8));
  for (let b = 0; b < layout.blocks; b++) if (b < layout.dataStart || refs[b]! > 0) bitmap[b >> 3]! |= 1 << (b & 7);
  const refcounts: RefcountRecord[] = [];
  for (let b = layout.dataStart; b < layout.blocks; ) {
    const n = refs[b]!;
    let e = b + 1;
    while (e < layout.blocks && refs[e] === n) e++;
    if (n >= 2) refcounts.push({ start: b, count: e - b, refs: n });
    b = e;
  }
  return { refs, refcounts, bitmap };
}
