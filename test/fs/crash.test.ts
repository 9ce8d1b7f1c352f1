/**
 * Metadata on the device and crash consistency (docs/files.md, "Metadata on the device"): a file
 * system made with its metadata on the device mounts back as its last commit left it; a damaged
 * image is refused with one line (EUCLEAN or EINVAL), never a crash; and a copy cut short by a
 * power cut at any bio leaves, after a remount, every destination block with its old bytes or
 * the new ones, the other files as committed, and a file system that checks clean.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Lab } from '../../src/app/lab.js';
import { CopyFs } from '../../src/app/fs/fs.js';
import { copyFileRange } from '../../src/app/fs/copy-file-range.js';
import { runScenario } from '../../src/app/scenario/run.js';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { AREA_MAX_BLOCKS, CK, EXT, INO, REF, SB, decodeSuperblock, encodeSuperblock, layoutFor } from '../../src/app/fs/ondisk.js';
import { crc32c } from '../../src/app/iscsi/crc32c.js';
import { Errno, ErrnoError } from '../../src/core/util/errno.js';
import type { BlockDevice } from '../../src/core/block/device.js';
import { ReqOp } from '../../src/core/block/ops.js';
import type { NullBlkDevice } from '../../devices/nullblk/nullblk.js';
import { KiB, MiB, eq, pattern } from '../helpers.js';
import { errnoOf, openRw, readFile, writeFile } from './files.js';

const BLOCK = 4096;
const DEV_BYTES = 8 * MiB;

/** A lab with one nullblk (untimed unless asked) whose copies and writes are cut into 16 KiB commands, so a copy is many bios. */
function newLab(timing?: 'femu'): { lab: Lab; dev: NullBlkDevice } {
  const lab = new Lab();
  const dev = lab.addNullBlk({ name: 'nullb0', size: DEV_BYTES, lbs: 4096, backing: 'memory', copy_max_hw_bytes: 16 * KiB, max_hw_sectors_kb: 16, ...(timing ? { timing } : {}) });
  return { lab, dev };
}

const mount = (lab: Lab): Promise<CopyFs> => CopyFs.mount(lab, '/dev/nullb0');

describe('metadata on the device', () => {
  it('a file system mounts back as its last commit left it: names, sizes, extents, shared blocks; fsck clean', async () => {
    const { lab } = newLab();
    const fs = await CopyFs.format(lab, '/dev/nullb0', { reflink: true });
    const a = pattern(300 * KiB + 123, 1);
    const fa = await writeFile(fs, '/a.img', a, { sync: true });
    await writeFile(fs, '/b', pattern(64 * KiB, 2), { sync: true });
    const clone = { fs, fd: fs.open('/clone.img', { write: true, create: true }) };
    expect((await copyFileRange(fa, 0, clone, 0, a.length)).path).toBe('reflink');
    await fs.fsync(fs.fd(clone.fd).inode);
    // Not committed: written after the last fsync, and a file created since.
    await writeFile(fs, '/late', pattern(8 * KiB, 3));
    const before = fs.list().filter((f) => f.name !== 'late');
    const back = await mount(lab);
    expect(back.list().sort((x, y) => x.name.localeCompare(y.name))).toEqual(before.sort((x, y) => x.name.localeCompare(y.name)));
    expect(back.stat('/clone.img').extents).toEqual(fs.stat('/clone.img').extents);
    expect(back.reflink).toBe(true);
    expect(back.refcounts.sharedBlocks).toBe(Math.ceil(a.length / BLOCK));
    expect(await readFile(back, '/a.img')).toEqualBytes(a);
    expect(await readFile(back, '/clone.img')).toEqualBytes(a);
    expect(await readFile(back, '/b')).toEqualBytes(pattern(64 * KiB, 2));
    expect(() => back.lookup('/late')).toThrow(/ENOENT/);
    expect(back.fsck()).toEqual([]);
    // The mounted file system goes on: a write, an unlink, a commit, and again.
    await back.writeAt(back.lookup('/b'), 4 * KiB, pattern(4 * KiB, 9));
    back.unlink('/a.img');
    await back.sync();
    const again = await mount(lab);
    expect(again.generation).toBe(back.generation);
    expect(again.list().map((f) => f.name).sort()).toEqual(['b', 'clone.img']);
    expect((await readFile(again, '/b')).subarray(4 * KiB, 8 * KiB)).toEqualBytes(pattern(4 * KiB, 9));
    expect(await readFile(again, '/clone.img')).toEqualBytes(a);
    expect(again.fsck()).toEqual([]);
    await lab.close();
  });

  it('blocks freed since the last commit are not reused before the next: the commit on the device still maps them', async () => {
    const { lab } = newLab();
    const fs = await CopyFs.format(lab, '/dev/nullb0');
    const old = pattern(256 * KiB, 4);
    await writeFile(fs, '/old', old, { sync: true });
    const oldBlocks = new Set(fs.stat('/old').extents.flatMap((e) => Array.from({ length: e.count }, (_, i) => e.dev + i)));
    await fs.truncate('/old', 0);
    expect(fs.allocator.heldBlocks).toBe(oldBlocks.size);
    // Every available block taken and written: none of them is one of /old's.
    await writeFile(fs, '/fill', pattern(fs.allocator.available * BLOCK, 5));
    await fs.writeback(fs.lookup('/fill'), 0, Infinity);
    for (const e of fs.stat('/fill').extents) for (let b = e.dev; b < e.dev + e.count; b++) expect(oldBlocks.has(b)).toBe(false);
    expect(fs.fsck()).toEqual([]);
    // A crash now: the commit on the device still has /old whole.
    const crashed = await mount(lab);
    expect(await readFile(crashed, '/old')).toEqualBytes(old);
    // After a commit without them, they are free again (on the first file system).
    await fs.sync();
    expect(fs.allocator.heldBlocks).toBe(0);
    expect(fs.fsck()).toEqual([]);
    await lab.close();
  });

  it('mkfs and mount refuse what they cannot do, with errnos', async () => {
    const { lab } = newLab();
    expect(await errnoOf(CopyFs.mount(lab, '/dev/nullb0'))).toBe(-Errno.EINVAL); // nothing there
    expect(await errnoOf(() => CopyFs.mkfs(lab, '/dev/nullb0', { metadata: 'device' }))).toBe(-Errno.EINVAL);
    const tiny = lab.addNullBlk({ name: 'nullb1', size: 256 * KiB, lbs: 4096, backing: 'memory' });
    expect(await errnoOf(CopyFs.format(lab, tiny))).toBe(-Errno.ENOSPC);
    // A file system made in memory leaves nothing to mount.
    CopyFs.mkfs(lab, '/dev/nullb0');
    expect(await errnoOf(CopyFs.mount(lab, '/dev/nullb0'))).toBe(-Errno.EINVAL);
    await lab.close();
  });
});

// ── damaged images ──

/** An image with three files (one with many extents), committed twice. */
async function image(): Promise<{ lab: Lab; dev: BlockDevice; fs: CopyFs }> {
  const { lab, dev } = newLab();
  const fs = await CopyFs.format(lab, dev, { reflink: true });
  const a = await writeFile(fs, '/a', pattern(64 * KiB, 1), { sync: true });
  const f = await writeFile(fs, '/frag', pattern(4 * KiB, 2));
  for (let k = 1; k < 12; k++) {
    await fs.writeAt(fs.fd(f.fd).inode, 2 * k * 4 * KiB, pattern(4 * KiB, 2 + k));
    await writeFile(fs, `/gap${k}`, pattern(4 * KiB, 40 + k), { sync: true });
  }
  await fs.sync();
  const c = { fs, fd: fs.open('/c', { write: true, create: true }) };
  await copyFileRange(a, 0, c, 0, 64 * KiB);
  await fs.sync();
  return { lab, dev, fs };
}

/** The active superblock's slot and its checkpoint's place, and a way to change bytes and seal the image again (checksums recomputed). */
async function active(lab: Lab, fs: CopyFs): Promise<{ slot: number; ckAt: number; ckBytes: number; edit(at: number, f: (v: DataView) => void, seal?: boolean): Promise<void> }> {
  const slot = fs.generation & 1;
  const sb = await lab.read('/dev/nullb0', slot * BLOCK, BLOCK);
  const sv = new DataView(sb.buffer);
  const ckBytes = sv.getUint32(SB.ckBytes, true);
  const ckAt = fs.layout!.areaStart[slot as 0 | 1] * BLOCK;
  return {
    slot,
    ckAt,
    ckBytes,
    async edit(at, f, seal = true) {
      // `at` is a byte of the device; a byte in the checkpoint re-seals the checkpoint and the superblock.
      const ck = await lab.read('/dev/nullb0', ckAt, Math.ceil(ckBytes / BLOCK) * BLOCK);
      const s = await lab.read('/dev/nullb0', slot * BLOCK, BLOCK);
      const inCk = at >= ckAt && at < ckAt + ck.length;
      const buf = inCk ? ck : s;
      f(new DataView(buf.buffer, inCk ? at - ckAt : at - slot * BLOCK));
      if (seal) {
        const cv = new DataView(ck.buffer);
        const crc = crc32c(ck.subarray(0, CK.crc), ck.subarray(CK.crc + 4, ckBytes));
        cv.setUint32(CK.crc, crc, true);
        const v = new DataView(s.buffer);
        v.setUint32(SB.ckCrc, crc, true);
        v.setUint32(SB.crc, crc32c(s.subarray(0, SB.crc)), true);
      }
      await lab.write('/dev/nullb0', ckAt, ck);
      await lab.write('/dev/nullb0', slot * BLOCK, s);
    },
  };
}

/** The mount's refusal: an ErrnoError of one line, EUCLEAN or EINVAL. */
async function refusal(lab: Lab): Promise<ErrnoError | null> {
  try {
    const fs = await mount(lab);
    expect(fs.fsck()).toEqual([]);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ErrnoError);
    const e = err as ErrnoError;
    expect([-Errno.EUCLEAN, -Errno.EINVAL]).toContain(e.errno);
    expect(e.message).not.toContain('\n');
    return e;
  }
}

describe('a damaged image is refused with one line, never a crash', () => {
  const firstRecord = CK.size;
  const cases: { what: string; at: (c: { ckAt: number }) => number; set: (v: DataView) => void; seal?: boolean; errno: number; says: RegExp }[] = [
    { what: 'the inode count past the limit', at: (c) => c.ckAt + CK.inodes, set: (v) => v.setUint32(0, 0xffffffff, true), errno: Errno.EUCLEAN, says: /inodes, at most 65536/ },
    { what: 'the inode count past the bytes', at: (c) => c.ckAt + CK.inodes, set: (v) => v.setUint32(0, 60000, true), errno: Errno.EUCLEAN, says: /do not fit/ },
    { what: 'the refcount count past the limit', at: (c) => c.ckAt + CK.refcounts, set: (v) => v.setUint32(0, 0x7fffffff, true), errno: Errno.EUCLEAN, says: /refcount records, at most/ },
    { what: 'an extent count past the bytes', at: (c) => c.ckAt + firstRecord + INO.extents, set: (v) => v.setUint32(0, 0xfffffff, true), errno: Errno.EUCLEAN, says: /extents/ },
    { what: 'a name length of 0', at: (c) => c.ckAt + firstRecord + INO.nameLen, set: (v) => v.setUint16(0, 0, true), errno: Errno.EUCLEAN, says: /a name of 0 bytes/ },
    { what: 'a size past the largest file', at: (c) => c.ckAt + firstRecord + INO.size, set: (v) => v.setBigUint64(0, 2n ** 60n, true), errno: Errno.EUCLEAN, says: /size/ },
    { what: 'a name with a slash', at: (c) => c.ckAt + firstRecord + INO.size_, set: (v) => v.setUint8(0, 0x2f), errno: Errno.EUCLEAN, says: /name "\/"/ },
    { what: 'an extent outside the device', at: (c) => c.ckAt + firstRecord + INO.size_ + 8 + EXT.dev, set: (v) => v.setBigUint64(0, 2n ** 40n, true), errno: Errno.EUCLEAN, says: /outside/ },
    { what: 'an extent on the metadata', at: (c) => c.ckAt + firstRecord + INO.size_ + 8 + EXT.dev, set: (v) => v.setBigUint64(0, 1n, true), errno: Errno.EUCLEAN, says: /outside/ },
    { what: 'the checkpoint generation', at: (c) => c.ckAt + CK.generation, set: (v) => v.setUint32(0, 1, true), errno: Errno.EUCLEAN, says: /generation/ },
    { what: 'a reserved header byte', at: (c) => c.ckAt + 50, set: (v) => v.setUint8(0, 1), errno: Errno.EUCLEAN, says: /reserved checkpoint byte 50/ },
    { what: 'a checkpoint byte without its checksum', at: (c) => c.ckAt + CK.size + 1, set: (v) => v.setUint8(0, v.getUint8(0) ^ 0x40), seal: false, errno: Errno.EUCLEAN, says: /checkpoint checksum mismatch/ },
  ];
  for (const c of cases) {
    it(`${c.what}: ${Object.keys(Errno).find((k) => Errno[k as keyof typeof Errno] === c.errno)}`, async () => {
      const { lab, fs } = await image();
      const a = await active(lab, fs);
      await a.edit(c.at(a), c.set, c.seal ?? true);
      const e = await refusal(lab);
      expect(e?.errno).toBe(-c.errno);
      expect(e?.message).toMatch(c.says);
      await lab.close();
    });
  }

  it('a bitmap bit or a refcount that disagrees with the extents: EUCLEAN naming the block', async () => {
    const { lab, fs } = await image();
    const a = await active(lab, fs);
    const bitmapAt = a.ckAt + a.ckBytes - Math.ceil(fs.allocator.blocks / 8);
    const free = fs.layout!.blocks - 1; // the last block: free in this image
    await a.edit(bitmapAt + (free >> 3), (v) => v.setUint8(0, v.getUint8(0) | (1 << (free & 7))));
    expect((await refusal(lab))?.message).toMatch(new RegExp(`block ${free} is used in the bitmap and mapped 0 times`));
    await lab.close();
    const b = await image();
    const ab = await active(b.lab, b.fs);
    const refAt = ab.ckAt + ab.ckBytes - Math.ceil(b.fs.allocator.blocks / 8) - REF.size;
    await ab.edit(refAt + REF.refs, (v) => v.setUint32(0, 3, true));
    expect((await refusal(b.lab))?.message).toMatch(/refcount records are not what the extents map/);
    await b.lab.close();
  });

  it('a torn newest superblock: the mount takes the commit before it', async () => {
    const { lab, fs } = await image();
    const a = await active(lab, fs);
    await a.edit(a.slot * BLOCK + SB.generation, (v) => v.setUint8(0, v.getUint8(0) ^ 1), false);
    const back = await mount(lab);
    expect(back.generation).toBe(fs.generation - 1);
    expect(back.fsck()).toEqual([]);
    // Both slots bad: EUCLEAN with both reasons.
    const other = await lab.read('/dev/nullb0', (1 - a.slot) * BLOCK, BLOCK);
    other[SB.crc] = other[SB.crc]! ^ 0xff;
    await lab.write('/dev/nullb0', (1 - a.slot) * BLOCK, other);
    const e = await refusal(lab);
    expect(e?.errno).toBe(-Errno.EUCLEAN);
    expect(e?.message).toMatch(/slot 0: .*slot 1: /);
    await lab.close();
  });

  it('random damage to a sealed checkpoint or a superblock: mounted clean or refused with one line (property)', async () => {
    const { lab, fs } = await image();
    const a = await active(lab, fs);
    const pristineCk = await lab.read('/dev/nullb0', a.ckAt, Math.ceil(a.ckBytes / BLOCK) * BLOCK);
    const pristineSb = await lab.read('/dev/nullb0', 0, 2 * BLOCK);
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: a.ckBytes + 2 * SB.size - 1 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 4 }), fc.boolean(), async (pos, value, width, seal) => {
        await lab.write('/dev/nullb0', a.ckAt, pristineCk);
        await lab.write('/dev/nullb0', 0, pristineSb);
        // A position in the checkpoint, or in one of the two superblocks' fields.
        const at = pos < a.ckBytes ? a.ckAt + pos : a.slot * BLOCK + ((pos - a.ckBytes) % SB.size);
        const n = Math.min(width, (pos < a.ckBytes ? a.ckBytes - pos : SB.size - ((pos - a.ckBytes) % SB.size)));
        await a.edit(at, (v) => {
          for (let k = 0; k < n; k++) v.setUint8(k, (value >>> (8 * k)) & 0xff);
        }, seal && pos < a.ckBytes);
        if ((await refusal(lab)) !== null) refused++;
      }),
      { numRuns: 300, seed: 23 },
    );
    expect(refused).toBeGreaterThan(100);
    await lab.close();
  });
});

// ── crashes mid-copy ──

type CopyWay = 'reflink' | 'offload' | 'splice';

interface CrashCase {
  readonly way: CopyWay;
  /** The destination exists with old bytes (committed, with holes) before the copy, or is new. */
  readonly overwrite: boolean;
  /** Commits run while the copy does: one as each write or copy bio goes down, and syncs. */
  readonly syncDuring: boolean;
  readonly srcOffset: number;
  readonly dstOffset: number;
  readonly length: number;
}

const SRC_BYTES = 192 * KiB;
const OLD_BYTES = 160 * KiB;
const STALE = pattern(DEV_BYTES, 99);
const SRC = pattern(SRC_BYTES, 11);
const OTHER = pattern(40 * KiB, 12);

/** The old destination: every other 16 KiB a hole (an offload gives those blocks of its own). */
function oldBytes(c: CrashCase): Uint8Array {
  const old = c.overwrite ? pattern(OLD_BYTES, 13) : new Uint8Array(0);
  for (let at = 16 * KiB; at < old.length; at += 32 * KiB) old.fill(0, at, at + 16 * KiB);
  return old;
}

const quiet = (p: Promise<unknown>): Promise<unknown> =>
  p.catch((err: unknown) => {
    if (!(err instanceof ErrnoError)) throw err;
  });

/**
 * On a device holding stale bytes everywhere (a used disk: a block mapped before its data is
 * written shows them), commits a source, an unrelated file and (overwrite) an old destination;
 * then `arm()` runs and the copy goes: copy_file_range, then fsync of the destination, with
 * commits alongside (syncDuring). I/O errors end it quietly (the power may be cut).
 */
async function runCopy(lab: Lab, dev: BlockDevice, c: CrashCase, arm: () => void): Promise<void> {
  await lab.write(dev, 0, STALE);
  const fs = await CopyFs.format(lab, dev, { cacheBytes: 512 * KiB, dirtyBytes: 48 * KiB, reflink: c.way === 'reflink' });
  const old = oldBytes(c);
  const fin = await writeFile(fs, '/src.img', SRC, { sync: true });
  await writeFile(fs, '/other', OTHER, { sync: true });
  if (c.overwrite) {
    const f = openRw(fs, '/dst.img');
    const inode = fs.fd(f.fd).inode;
    for (let at = 0; at < old.length; at += 32 * KiB) await fs.writeAt(inode, at, old.subarray(at, at + 16 * KiB));
    await fs.truncate('/dst.img', old.length);
    await fs.fsync(inode);
  }
  arm();
  const out = { fs, fd: fs.open('/dst.img', { write: true, create: true }) };
  let copying = true;
  const work = (async () => {
    try {
      await copyFileRange(fin, c.srcOffset, out, c.dstOffset, c.length, 0, { offload: c.way === 'splice' ? 'never' : 'auto', reflink: c.way === 'reflink' ? 'auto' : 'never' });
    } finally {
      copying = false;
    }
    await fs.fsync(fs.fd(out.fd).inode);
  })();
  const commits: Promise<unknown>[] = [];
  if (c.syncDuring) {
    const queue = dev.queueBio.bind(dev);
    let committing = false;
    (dev as { queueBio: BlockDevice['queueBio'] }).queueBio = (bio) => {
      if (copying && !committing && (bio.op === ReqOp.WRITE || bio.op === ReqOp.COPY)) {
        committing = true;
        commits.push(quiet(fs.commit().finally(() => (committing = false))));
      }
      queue(bio);
    };
    commits.push(quiet((async () => {
      while (copying) await fs.sync();
    })()));
  }
  await quiet(work);
  await Promise.all(commits);
}

/**
 * Mounts what the device `name` holds after a crash and checks it: fsck clean, nothing shared,
 * the source and the other file as committed, and each destination block its old bytes (zeros
 * past the old end, or no file at all) or the new ones. Whether the destination is the new one whole.
 */
async function checkCrashed(lab: Lab, name: string, c: CrashCase, where: string): Promise<boolean> {
  const back = await CopyFs.mount(lab, name);
  expect(back.fsck()).toEqual([]);
  if (c.way !== 'reflink') expect(back.refcounts.sharedBlocks).toBe(0);
  expect(await readFile(back, '/src.img')).toEqualBytes(SRC);
  expect(await readFile(back, '/other')).toEqualBytes(OTHER);
  const old = oldBytes(c);
  const n = Math.min(c.length, SRC_BYTES - c.srcOffset);
  const expectNew = new Uint8Array(Math.max(old.length, c.dstOffset + n));
  expectNew.set(old);
  expectNew.set(SRC.subarray(c.srcOffset, c.srcOffset + n), c.dstOffset);
  let have: Uint8Array = new Uint8Array(0);
  try {
    have = await readFile(back, '/dst.img');
  } catch (err) {
    expect(c.overwrite).toBe(false); // only a new destination may be missing
    expect(err).toBeInstanceOf(ErrnoError);
  }
  expect(have.length).toBeLessThanOrEqual(expectNew.length);
  expect(have.length).toBeGreaterThanOrEqual(old.length);
  for (let at = 0; at < expectNew.length; at += BLOCK) {
    const end = Math.min(expectNew.length, at + BLOCK);
    const got = new Uint8Array(end - at);
    got.set(have.subarray(at, end));
    const oldBlock = new Uint8Array(end - at);
    oldBlock.set(old.subarray(at, end));
    if (!eq(got, oldBlock) && !eq(got, expectNew.subarray(at, end))) {
      throw new Error(`${c.way}${c.overwrite ? ' over an old file' : ''}${c.syncDuring ? ' with commits alongside' : ''}, ${where}: destination bytes ${at}..${end} are neither old nor new`);
    }
  }
  return have.length === expectNew.length && eq(have, expectNew);
}

/** The device stops after `cut` bios (they fail with EIO from then on, as the file system sees it); then a remount. */
async function cutAt(c: CrashCase, cut: number): Promise<{ bios: number; dstNew: boolean }> {
  const { lab, dev } = newLab();
  try {
    await runCopy(lab, dev, c, () => dev.faults.stopAfter(cut, Errno.EIO));
    const bios = cut - dev.faults.stopCountdown!;
    dev.faults.clear(); // the power is back; what the old file system held in memory is gone
    return { bios, dstNew: await checkCrashed(lab, '/dev/nullb0', c, `the device stopped after ${cut} bios`) };
  } finally {
    await lab.close();
  }
}

/** A write the device completed: the bytes it left at `offset` (as dm-log-writes logs them, in completion order). */
interface LoggedWrite {
  readonly offset: number;
  readonly data: Uint8Array;
}

/**
 * Runs the copy once on a timed device, logging every write, write-zeroes and copy in the order
 * they complete, with the bytes each left on the medium (read as it executes, before any later
 * bio can change them); returns the medium before the copy and the log. A crash after the k-th
 * completion leaves the medium before plus the first k logged writes: the ones still in flight
 * are lost, whenever they were issued.
 */
async function logCopy(c: CrashCase): Promise<{ base: Uint8Array; log: LoggedWrite[] }> {
  const { lab, dev } = newLab('femu');
  try {
    const log: LoggedWrite[] = [];
    let base: Uint8Array = new Uint8Array(0);
    await runCopy(lab, dev, c, () => {
      base = new Uint8Array(DEV_BYTES);
      dev.backing.read(0, base);
      const queue = dev.queueBio.bind(dev);
      (dev as { queueBio: BlockDevice['queueBio'] }).queueBio = (bio) => {
        if (bio.op !== ReqOp.WRITE && bio.op !== ReqOp.WRITE_ZEROES && bio.op !== ReqOp.COPY) return queue(bio);
        let entry: LoggedWrite | null = null;
        queue({
          ...bio,
          endIo: (res) => {
            if (res >= 0 && entry) log.push(entry);
            bio.endIo(res);
          },
        });
        const data = new Uint8Array(bio.length);
        dev.backing.read(bio.offset, data);
        entry = { offset: bio.offset, data };
      };
    });
    return { base, log };
  } finally {
    await lab.close();
  }
}

describe('a crash at any point of a copy: every destination block old or new, fsck clean', () => {
  const whole: CrashCase[] = [];
  for (const way of ['reflink', 'offload', 'splice'] as const) for (const overwrite of [false, true]) for (const syncDuring of [false, true]) whole.push({ way, overwrite, syncDuring, srcOffset: 0, dstOffset: 0, length: 128 * KiB });
  for (const c of whole) {
    const name = `${c.way}, ${c.overwrite ? 'over an old file with holes' : 'into a new file'}${c.syncDuring ? ', commits alongside' : ''}`;
    it(`${name}: the device stopped at every bio`, async () => {
      const full = await cutAt(c, 1e9);
      expect(full.dstNew).toBe(true); // uncut, the copy is whole after the remount
      expect(full.bios).toBeGreaterThan(c.way === 'reflink' ? 1 : 8); // a clone is a commit's bios alone
      let lost = 0;
      for (let cut = 0; cut < full.bios; cut++) if (!(await cutAt(c, cut)).dstNew) lost++;
      expect(lost).toBeGreaterThan(0); // some cuts do lose the copy: the test can tell
    });

    it(`${name}: the power lost after every completion, writes in flight lost`, async () => {
      const { base, log } = await logCopy(c);
      expect(log.length).toBeGreaterThan(c.way === 'reflink' ? 1 : 8);
      const lab = new Lab();
      const img = lab.addNullBlk({ name: 'nullb1', size: DEV_BYTES, lbs: 4096, backing: 'memory' });
      try {
        let whole = 0;
        for (let k = 0; k <= log.length; k++) {
          const medium = base.slice();
          for (const w of log.slice(0, k)) medium.set(w.data, w.offset);
          img.backing.write(0, medium);
          if (await checkCrashed(lab, '/dev/nullb1', c, `the power lost after ${k} of ${log.length} completions`)) whole++;
        }
        expect(whole).toBeGreaterThan(0); // the whole log: the copy is there
        expect(whole).toBeLessThan(log.length + 1); // and the start: it is not
      } finally {
        await lab.close();
      }
    });
  }

  it('at random offsets, lengths and stops (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          way: fc.constantFrom<CopyWay>('reflink', 'offload', 'splice'),
          overwrite: fc.boolean(),
          syncDuring: fc.boolean(),
          srcOffset: fc.integer({ min: 0, max: 64 * KiB }),
          dstOffset: fc.integer({ min: 0, max: 96 * KiB }),
          length: fc.integer({ min: 1, max: 128 * KiB }),
        }),
        fc.integer({ min: 0, max: 80 }),
        async (c, cut) => {
          await cutAt(c, cut);
        },
      ),
      { numRuns: 60, seed: 2023 },
    );
  });
});


// ── a device that completes out of order ──

/**
 * Holds back the bios `pick` chooses (neither executed nor completed) while the rest go through:
 * a device that completes out of order, whose held writes a crash then loses. Returns them.
 */
function holdBios(dev: NullBlkDevice, pick: (op: number) => boolean): { held: number } {
  const queue = dev.queueBio.bind(dev);
  const h = { held: 0 };
  (dev as { queueBio: BlockDevice['queueBio'] }).queueBio = (bio) => {
    if (pick(bio.op)) h.held++;
    else queue(bio);
  };
  return h;
}

/** A tick for the bios to be issued (the untimed device completes at once). */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('a commit while data is in flight maps none of its blocks', () => {
  it('writeback (delayed allocation): a commit while its WRITEs are held has the file without those blocks', async () => {
    const { lab, dev } = newLab();
    await lab.write(dev, 0, STALE);
    const fs = await CopyFs.format(lab, dev);
    const f = await writeFile(fs, '/new', pattern(64 * KiB, 3));
    const h = holdBios(dev, (op) => op === ReqOp.WRITE);
    void quiet(fs.writeback(fs.fd(f.fd).inode, 0, Infinity));
    await settle();
    expect(h.held).toBeGreaterThan(0);
    (dev as { queueBio: BlockDevice['queueBio'] }).queueBio = ownQueue(dev); // the commit's own writes go through
    await fs.commit();
    const back = await mount(lab);
    expect(back.stat('/new').blocks).toBe(0);
    expect(await readFile(back, '/new')).toEqualBytes(new Uint8Array(64 * KiB));
    expect(back.fsck()).toEqual([]);
    await lab.close();
  });

  it('copy-on-write: a commit while the WRITE of the new block is held keeps the shared block', async () => {
    const { lab, dev } = newLab();
    await lab.write(dev, 0, STALE);
    const fs = await CopyFs.format(lab, dev, { reflink: true });
    const a = await writeFile(fs, '/a', pattern(64 * KiB, 4), { sync: true });
    const b = openRw(fs, '/b');
    await copyFileRange(a, 0, b, 0, 64 * KiB);
    await fs.sync();
    await fs.writeAt(fs.fd(b.fd).inode, 16 * KiB, pattern(4 * KiB, 5));
    const h = holdBios(dev, (op) => op === ReqOp.WRITE);
    void quiet(fs.writeback(fs.fd(b.fd).inode, 0, Infinity));
    await settle();
    expect(h.held).toBe(1);
    (dev as { queueBio: BlockDevice['queueBio'] }).queueBio = ownQueue(dev);
    await fs.commit();
    const back = await mount(lab);
    expect(await readFile(back, '/b')).toEqualBytes(pattern(64 * KiB, 4));
    expect(back.refcounts.sharedBlocks).toBe(16);
    expect(back.fsck()).toEqual([]);
    await lab.close();
  });

  it('offload into holes: a commit while the COPY is held has the destination as it was', async () => {
    const { lab, dev } = newLab();
    await lab.write(dev, 0, STALE);
    const fs = await CopyFs.format(lab, dev);
    const src = await writeFile(fs, '/src', pattern(64 * KiB, 6), { sync: true });
    const dst = await writeFile(fs, '/dst', pattern(4 * KiB, 7));
    await fs.truncate('/dst', 64 * KiB);
    await fs.sync();
    const h = holdBios(dev, (op) => op === ReqOp.COPY);
    void quiet(copyFileRange(src, 0, dst, 0, 64 * KiB));
    await settle();
    expect(h.held).toBeGreaterThan(0);
    (dev as { queueBio: BlockDevice['queueBio'] }).queueBio = ownQueue(dev);
    await fs.commit();
    const back = await mount(lab);
    const want = new Uint8Array(64 * KiB);
    want.set(pattern(4 * KiB, 7));
    expect(await readFile(back, '/dst')).toEqualBytes(want);
    expect(back.fsck()).toEqual([]);
    await lab.close();
  });

  it('fallocate: a commit while the WRITE_ZEROES is held has the file without the new blocks', async () => {
    const { lab, dev } = newLab();
    await lab.write(dev, 0, STALE);
    const fs = await CopyFs.format(lab, dev);
    const f = openRw(fs, '/img');
    await fs.fsync(fs.fd(f.fd).inode);
    const h = holdBios(dev, (op) => op === ReqOp.WRITE_ZEROES || op === ReqOp.WRITE);
    void quiet(fs.fallocate(fs.fd(f.fd).inode, 0, 256 * KiB));
    await settle();
    expect(h.held).toBeGreaterThan(0);
    (dev as { queueBio: BlockDevice['queueBio'] }).queueBio = ownQueue(dev);
    await fs.commit();
    const back = await mount(lab);
    expect(back.stat('/img').blocks).toBe(0);
    expect(await readFile(back, '/img')).toEqualBytes(new Uint8Array(0));
    expect(back.fsck()).toEqual([]);
    await lab.close();
  });
});

/** The device's own queueBio (the class's), past any hold installed on the instance. */
const ownQueue = (dev: NullBlkDevice): BlockDevice['queueBio'] => Object.getPrototypeOf(dev).queueBio.bind(dev);


describe('the mkfs and mount steps', () => {
  const scenario = (files: number): string => `devices:
  - { kind: nullblk, name: nullb0, size: 32MiB, lbs: 4096, backing: memory }
  - { kind: nullblk, name: nullb1, size: 32MiB, lbs: 4096, backing: memory }
steps:
  - mkfs: { dev: /dev/nullb0, metadata: device }
  - file: { dev: /dev/nullb0, op: write, path: /vm.img, length: 1MiB, seed: 7 }
  - file: { dev: /dev/nullb0, op: fsync, path: /vm.img }
  - copy_file_range: { dev: /dev/nullb0, src: /vm.img, dst: /clone.img, length: 1MiB, expect: { path: offload } }
  - mount: { dev: /dev/nullb0, expect: { files: ${files} } }
  - file: { dev: /dev/nullb0, op: verify, path: /vm.img, length: 1MiB, seed: 7 }
  - file: { dev: /dev/nullb0, op: verify, path: /clone.img, length: 1MiB, seed: 7, expect: { errno: ENOENT } }
  - mount: { dev: /dev/nullb1, expect: { errno: EINVAL } }
`;
  it('what no fsync committed is gone after a mount; the step checks the files it finds', async () => {
    const ok = await runScenario(parseScenarioText(scenario(1), 'mount.yaml'));
    expect(ok.steps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.message}`)).toEqual([]);
    const bad = await runScenario(parseScenarioText(scenario(2), 'mount.yaml'));
    expect(bad.steps.filter((s) => !s.ok).map((s) => s.message)).toEqual(['1 files mounted, expected 2']);
  });
});
describe('the layout', () => {
  it('checkpoint areas are 1/64 of the device within 256 KiB..64 MiB, after two superblock blocks', () => {
    expect(layoutFor(2048)).toEqual({ blocks: 2048, areaBlocks: 64, areaStart: [2, 66], dataStart: 130 });
    expect(layoutFor(2 ** 20).areaBlocks).toBe(16384);
    expect(layoutFor(2 ** 30).areaBlocks).toBe(16384);
  });

  it('a superblock claiming a checkpoint area past the largest is refused before the area is read', () => {
    const blocks = 2 ** 30; // a 4 TiB device, where a 4 GiB checkpoint would fit
    const sb = (areaBlocks: number) => encodeSuperblock({ generation: 2, reflink: false, layout: layoutFor(blocks, areaBlocks), area: 0, ckBytes: areaBlocks * 4096, ckCrc: 0 });
    expect(decodeSuperblock(sb(AREA_MAX_BLOCKS), blocks)).toHaveProperty('sb');
    expect(decodeSuperblock(sb(AREA_MAX_BLOCKS + 1), blocks)).toMatchObject({ magic: true, why: `checkpoint areas of ${AREA_MAX_BLOCKS + 1} blocks, at most ${AREA_MAX_BLOCKS}` });
  });
});
