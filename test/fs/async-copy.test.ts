import { describe, expect, it } from 'vitest';
import { CopyFs, FS_FIRST_FD } from '../../src/app/fs/fs.js';
import type { FileRef } from '../../src/app/fs/copy-file-range.js';
import { copyFileRangeAsync, fileCopyOperation } from '../../src/app/fs/async-copy.js';
import { prepCancel, prepCopyFileRange, sqeSetData } from '../../src/core/ring/prep.js';
import { Errno } from '../../src/core/util/errno.js';
import { MiB, labsClosedAfterEach, pattern } from '../helpers.js';
import { errnoOf, openRw, readFile, writeFile } from './files.js';

const newLab = labsClosedAfterEach();

/** A timed device whose copies take modeled time: 1 MiB per copy command, so a 16 MiB copy is 16 pieces. */
function setup(): CopyFs {
  const lab = newLab();
  lab.addNullBlk({ name: 'nullb0', size: 128 * MiB, lbs: 4096, backing: 'memory', timing: 'femu', copy_max_hw_bytes: MiB });
  return CopyFs.mkfs(lab, '/dev/nullb0', { cacheBytes: 8 * MiB });
}

const source = (fs: CopyFs, data: Uint8Array): Promise<FileRef> => writeFile(fs, '/src', data, { sync: true });
const target = (fs: CopyFs, path = '/dst'): FileRef => openRw(fs, path);

describe('the asynchronous copy with a cookie (src/app/fs/async-copy.ts)', () => {
  it('returns at once with a cookie; progress grows in modeled time; wait gives the result; the copy reads back', async () => {
    const fs = setup();
    const data = pattern(16 * MiB, 1);
    const src = await source(fs, data);
    const op = copyFileRangeAsync(src, 0, target(fs), 0, data.length);
    expect(op.state).toBe('running');
    expect(op.totalBytes).toBe(data.length);
    expect(fileCopyOperation(fs.lab, op.cookie)).toBe(op);
    const seen: number[] = [];
    while (op.state === 'running') {
      await fs.lab.clock.sleep(500_000);
      seen.push(op.bytesDone);
    }
    expect(seen.some((b) => b > 0 && b < data.length)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    const r = await op.wait();
    expect([op.state, r.bytes, r.path, op.bytesDone]).toEqual(['done', data.length, 'offload', data.length]);
    expect(op.modeledUs).toBeGreaterThan(0);
    expect(fileCopyOperation(fs.lab, op.cookie)).toBeUndefined();
    expect(await readFile(fs, '/dst', 0, data.length)).toEqualBytes(data);
  });

  it('cancel stops it at a piece boundary and resolves with the bytes done: those bytes are copied, the file ends there', async () => {
    const fs = setup();
    const data = pattern(16 * MiB, 2);
    const src = await source(fs, data);
    const op = copyFileRangeAsync(src, 0, target(fs), 0, data.length);
    await fs.lab.clock.sleep(2_000_000);
    const done = await op.cancel();
    expect(op.state).toBe('cancelled');
    expect(done).toBe(op.bytesDone);
    expect(done % MiB).toBe(0);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(data.length);
    const r = await op.wait();
    expect([r.bytes, r.errno]).toEqual([done, -Errno.ECANCELED]);
    expect(fs.lookup('/dst').size).toBe(done);
    expect(await readFile(fs, '/dst', 0, done)).toEqualBytes(data.subarray(0, done));
    expect(await op.cancel()).toBe(done); // an ended copy: its bytes
    expect(fs.fsck()).toEqual([]);
  });

  it('a request copy_file_range refuses throws its errno at once and starts nothing', async () => {
    const fs = setup();
    const src = await source(fs, pattern(MiB, 3));
    const dst = target(fs);
    expect(await errnoOf(() => copyFileRangeAsync(src, 0, dst, 0, MiB, 1))).toBe(-Errno.EINVAL);
    expect(await errnoOf(() => copyFileRangeAsync(src, 0, src, 4096, 8192))).toBe(-Errno.EINVAL);
    expect(await errnoOf(() => copyFileRangeAsync({ fs, fd: 12 }, 0, dst, 0, MiB))).toBe(-Errno.EBADF);
    expect(fs.lookup('/dst').size).toBe(0);
  });
});

describe('the ring\'s COPY_FILE_RANGE (copylab\'s opcode)', () => {
  it('copies between two files by their descriptors; -1 offsets use and advance the file positions; bad ones get their errno', async () => {
    const fs = setup();
    const data = pattern(4 * MiB, 4);
    const src = await source(fs, data);
    const dst = target(fs);
    expect(src.fd).toBeGreaterThanOrEqual(FS_FIRST_FD); // above the lab's device descriptors
    const ring = fs.lab.createRing({ entries: 8 });
    const put = (userData: number, fill: (s: NonNullable<ReturnType<typeof ring.getSqe>>) => void): void => {
      const sqe = ring.getSqe()!;
      fill(sqe);
      sqeSetData(sqe, userData);
    };
    put(1, (s) => prepCopyFileRange(s, src.fd, 0, dst.fd, 0, 2 * MiB));
    put(2, (s) => prepCopyFileRange(s, src.fd, -1, dst.fd, -1, MiB)); // positions: 0 and 0
    put(3, (s) => prepCopyFileRange(s, src.fd, 0, 4242, 0, MiB));
    put(4, (s) => prepCopyFileRange(s, src.fd, 0, dst.fd, 0, MiB, 1));
    await ring.submitAndWait(4);
    const got = new Map<number, number>();
    for (let c = ring.peekCqe(); c; c = ring.peekCqe()) {
      got.set(c.user_data, c.res);
      ring.cqeSeen(c);
    }
    expect(Object.fromEntries(got)).toEqual({ 1: 2 * MiB, 2: MiB, 3: -Errno.EBADF, 4: -Errno.EINVAL });
    expect(fs.fd(src.fd).pos).toBe(MiB);
    expect(fs.fd(dst.fd).pos).toBe(MiB);
    expect(await readFile(fs, '/dst', 0, 2 * MiB)).toEqualBytes(data.subarray(0, 2 * MiB));
  });

  it('ASYNC_CANCEL stops a running COPY_FILE_RANGE: -ECANCELED, the bytes done in big_cqe[0], those bytes copied', async () => {
    const fs = setup();
    const data = pattern(16 * MiB, 5);
    const src = await source(fs, data);
    const dst = target(fs);
    const ring = fs.lab.createRing({ entries: 8, cqe32: true });
    let sqe = ring.getSqe()!;
    prepCopyFileRange(sqe, src.fd, 0, dst.fd, 0, data.length);
    sqeSetData(sqe, 7);
    ring.submit();
    await fs.lab.clock.sleep(2_000_000);
    sqe = ring.getSqe()!;
    prepCancel(sqe, 7);
    sqeSetData(sqe, 8);
    ring.submit();
    const cqes = new Map<number, { res: number; big0: bigint }>();
    while (cqes.size < 2) {
      const c = await ring.waitCqe();
      cqes.set(c.user_data, { res: c.res, big0: c.big(0) });
      ring.cqeSeen();
    }
    expect(cqes.get(8)!.res).toBe(0);
    expect(cqes.get(7)!.res).toBe(-Errno.ECANCELED);
    const done = Number(cqes.get(7)!.big0);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(data.length);
    expect(await readFile(fs, '/dst', 0, done)).toEqualBytes(data.subarray(0, done));
  });
});
