import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/app/lab.js';
import { Errno } from '../../src/core/util/errno.js';
import { pattern } from '../helpers.js';
import { allocBuffer } from '../../src/core/ring/ring.js';
import { prepCancel, prepCopy, setCopyRange, sqeSetData } from '../../src/core/ring/prep.js';

const MiB = 1 << 20;

function timedLab(): Lab {
  const lab = new Lab();
  // copy_max_hw_bytes 1 MiB: a 16 MiB copy is 16 pieces, each taking modeled time.
  lab.addNullBlk({ name: 'nullb0', size: 128 * MiB, lbs: 4096, backing: 'memory', timing: 'femu', copy_max_hw_bytes: MiB });
  return lab;
}

describe('lab.copyAsync: a copy with a cookie', () => {
  it('reports growing progress in modeled time, then done, with the data in place', async () => {
    const lab = timedLab();
    const src = pattern(16 * MiB, 4);
    await lab.write('/dev/nullb0', 0, src);
    const op = lab.copyAsync('/dev/nullb0', [{ srcOffset: 0, dstOffset: 64 * MiB, length: 16 * MiB }]);
    expect(op.state).toBe('running');
    expect(lab.copyOperation(op.cookie)).toBe(op);
    const seen: number[] = [];
    while (op.state === 'running') {
      seen.push(op.bytesDone);
      await lab.clock.sleep(200_000); // poll every 200 µs of modeled time
    }
    const r = await op.done;
    expect(r.res).toBe(16 * MiB);
    expect(op.state).toBe('done');
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.some((b) => b > 0 && b < 16 * MiB)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(r.pieces.every((p) => (p.modeled_us ?? 0) > 0)).toBe(true);
    expect(await lab.read('/dev/nullb0', 64 * MiB, 16 * MiB)).toEqualBytes(src);
    expect(lab.copyOperation(op.cookie)).toBeUndefined();
    await lab.close();
  });

  it('cancel stops it at a piece boundary: -ECANCELED, earlier pieces copied, later ones untouched', async () => {
    const lab = timedLab();
    const src = pattern(16 * MiB, 5);
    await lab.write('/dev/nullb0', 0, src);
    const op = lab.copyAsync('/dev/nullb0', [{ srcOffset: 0, dstOffset: 64 * MiB, length: 16 * MiB }]);
    while (op.bytesDone < 4 * MiB) await lab.clock.sleep(50_000);
    expect(op.cancel()).toBe(true);
    const r = await op.done;
    expect(r.res).toBe(-Errno.ECANCELED);
    expect(op.state).toBe('cancelled');
    expect(op.cancel()).toBe(false);
    const done = r.bytes;
    expect(done % MiB).toBe(0);
    expect(done).toBeGreaterThanOrEqual(4 * MiB);
    expect(done).toBeLessThan(16 * MiB);
    expect(await lab.read('/dev/nullb0', 64 * MiB, done)).toEqualBytes(src.subarray(0, done));
    expect(await lab.read('/dev/nullb0', 64 * MiB + done, 16 * MiB - done)).toEqualBytes(new Uint8Array(16 * MiB - done));
    await lab.close();
  });
});

describe('IORING_OP_ASYNC_CANCEL', () => {
  it('cancels a running COPY by user_data (-ECANCELED, bytes done in big_cqe[0]); an unknown one is -ENOENT', async () => {
    const lab = timedLab();
    const src = pattern(16 * MiB, 6);
    await lab.write('/dev/nullb0', 0, src);
    const ring = lab.createRing({ entries: 8, cqe32: true });
    const fd = lab.open('/dev/nullb0');
    const buf = allocBuffer(4096);
    const [base] = ring.registerBuffers([buf]);
    setCopyRange(buf, 0, -1, 0, 64 * MiB, 16 * MiB);
    let sqe = ring.getSqe()!;
    prepCopy(sqe, fd, base!, 1);
    sqeSetData(sqe, 77);
    ring.submit();
    await lab.clock.sleep(2_000_000); // let some pieces run
    sqe = ring.getSqe()!;
    prepCancel(sqe, 77);
    sqeSetData(sqe, 78);
    sqe = ring.getSqe()!;
    prepCancel(sqe, 999);
    sqeSetData(sqe, 79);
    ring.submit();
    const cqes = new Map<number, { res: number; big0: bigint }>();
    while (cqes.size < 3) {
      const cqe = await ring.waitCqe();
      cqes.set(cqe.user_data, { res: cqe.res, big0: cqe.big(0) });
      ring.cqeSeen();
    }
    expect(cqes.get(78)!.res).toBe(0);
    expect(cqes.get(79)!.res).toBe(-Errno.ENOENT);
    expect(cqes.get(77)!.res).toBe(-Errno.ECANCELED);
    const done = Number(cqes.get(77)!.big0);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(16 * MiB);
    expect(await lab.read('/dev/nullb0', 64 * MiB, done)).toEqualBytes(src.subarray(0, done));
    await lab.close();
  });
});
