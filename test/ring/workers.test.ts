import { describe, expect, it } from 'vitest';
import { allocBuffer, type Ring } from '../../src/core/ring/ring.js';
import { prepRead, prepWrite, prepCopy, prepDiscard, prepWriteZeroes, prepFsync, sqeSetData, setCopyRange } from '../../src/core/ring/prep.js';
import { Prng } from '../../src/core/util/prng.js';
import { fillPattern } from '../../src/core/util/pattern.js';
import { Errno } from '../../src/core/util/errno.js';
import { pattern, MiB, KiB, labsClosedAfterEach } from '../helpers.js';
import type { NullBlkDevice } from '../../devices/nullblk/nullblk.js';

const lab = labsClosedAfterEach();

describe('devices on worker threads', () => {
  it('read, write, discard and an offloaded copy give the same bytes as inline', async () => {
    const l = lab();
    l.addNullBlk({ name: 'w', size: 8 * MiB, lbs: 4096, backing: 'memory', execution: 'worker', copy_max_hw_bytes: MiB });
    await l.write('w', 0, pattern(2 * MiB, 4));
    expect(await l.read('w', 0, 2 * MiB)).toEqualBytes(pattern(2 * MiB, 4));
    const r = await l.copy('w', [{ srcOffset: 0, dstOffset: 4 * MiB, length: 2 * MiB }]);
    expect(r).toMatchObject({ res: 2 * MiB, path: 'offload', host_bytes: 0 });
    expect(await l.read('w', 4 * MiB, 2 * MiB)).toEqualBytes(pattern(2 * MiB, 4));
    expect(await l.submit('w', { op: 3, offset: 0, length: MiB })).toBe(0);
    expect((await l.read('w', 0, MiB)).every((b) => b === 0)).toBe(true);
  });

  it('offloads copies between worker devices of one domain (each worker reaches the other medium)', async () => {
    const l = lab();
    l.addNullBlk({ name: 'a', size: 4 * MiB, lbs: 4096, backing: 'memory', execution: 'worker', domain: 'd', copy_max_hw_bytes: MiB });
    l.addNullBlk({ name: 'b', size: 4 * MiB, lbs: 4096, backing: 'memory', execution: 'worker', domain: 'd', copy_max_hw_bytes: MiB });
    l.addNullBlk({ name: 's', size: 4 * MiB, lbs: 4096, backing: 'sparse', domain: 'd', copy_max_hw_bytes: MiB });
    await l.write('a', 0, pattern(MiB, 8));
    const r = await l.copy('b', [{ src: 'a', srcOffset: 0, dstOffset: MiB, length: MiB }]);
    expect(r).toMatchObject({ path: 'offload', host_bytes: 0 });
    expect(await l.read('b', MiB, MiB)).toEqualBytes(pattern(MiB, 8));
    // A sparse medium cannot be shared with a worker: the engine emulates and says why.
    await l.write('s', 0, pattern(64 * KiB, 2));
    const e = await l.copy('b', [{ src: 's', srcOffset: 0, dstOffset: 0, length: 64 * KiB }]);
    expect(e.path).toBe('emulated');
    expect(e.reasons[0]).toMatch(/cannot reach s's sparse medium/);
    expect(await l.read('b', 0, 64 * KiB)).toEqualBytes(pattern(64 * KiB, 2));
  });

  it('worker mode needs memory backing', () => {
    expect(() => lab().addNullBlk({ name: 'x', size: MiB, execution: 'worker' })).toThrow(/needs backing: memory/);
  });

  it('a seeded workload of 10 000 mixed ring operations gives identical data and results inline and on workers', async () => {
    const l = lab();
    const size = 4 * MiB;
    const slot = 64 * KiB;
    const slots = size / slot;
    l.addNullBlk({ name: 'inl', size, lbs: 4096, backing: 'memory', copy_max_hw_bytes: 32 * KiB, domain: 'x' });
    l.addNullBlk({ name: 'wrk', size, lbs: 4096, backing: 'memory', execution: 'worker', copy_max_hw_bytes: 32 * KiB, domain: 'y', queue_depth: 8 });
    const results: Record<string, number[]> = {};
    for (const dev of ['inl', 'wrk']) {
      const rng = new Prng(20261121);
      const ring = l.createRing({ entries: 16 });
      const fd = l.open(`/dev/${dev}`);
      const data = allocBuffer(16 * slot);
      const ranges = allocBuffer(16 * 32);
      const [dataBase, rangeBase] = ring.registerBuffers([data, ranges]);
      const res: number[] = [];
      let ops = 0;
      let batch = 0;
      while (ops < 10_000) {
        // Each op of a batch works on slots of its own, so completion order cannot change the bytes.
        const perm = rng.permutation(slots);
        const n = 1 + rng.below(8);
        for (let i = 0; i < n; i++) {
          const a = perm[2 * i]! * slot;
          const b = perm[2 * i + 1]! * slot;
          const len = 4096 * (1 + rng.below(16));
          const kind = rng.below(6);
          const sqe = ring.getSqe()!;
          sqeSetData(sqe, ops);
          const buf = dataBase! + i * slot;
          if (kind === 0) {
            fillPattern(data.subarray(i * slot, i * slot + len), batch, a);
            prepWrite(sqe, fd, buf, len, a);
          } else if (kind === 1) prepRead(sqe, fd, buf, len, a);
          else if (kind === 2) {
            setCopyRange(ranges, i, -1, a, b, len);
            prepCopy(sqe, fd, rangeBase! + i * 32, 1);
          } else if (kind === 3) prepDiscard(sqe, fd, a, len);
          else if (kind === 4) prepWriteZeroes(sqe, fd, a, len);
          else prepFsync(sqe, fd);
          ops++;
        }
        await ring.submitAndWait(n);
        const got: [number, number][] = [];
        for (let c = ring.peekCqe(); c; c = ring.peekCqe()) {
          got.push([c.user_data, c.res]);
          ring.cqeSeen(c);
        }
        expect(got).toHaveLength(n);
        got.sort((x, y) => x[0] - y[0]);
        for (const [, r] of got) res.push(r);
        batch++;
      }
      results[dev] = res;
    }
    expect(results.wrk).toEqual(results.inl);
    expect(results.inl!.every((r) => r >= 0)).toBe(true);
    expect(await l.read('wrk', 0, size)).toEqualBytes(await l.read('inl', 0, size));
  });

  it('a worker killed mid-run: requests in flight complete with -EIO, nothing hangs, the lab reports it and stays usable', async () => {
    const l = lab();
    const dev = l.addNullBlk({ name: 'w', size: 64 * MiB, lbs: 4096, backing: 'memory', execution: 'worker', queue_depth: 4 });
    l.addNullBlk({ name: 'ok', size: MiB, lbs: 4096, backing: 'memory', execution: 'worker' });
    const inflight = Array.from({ length: 64 }, (_, i) => l.submit('w', { op: 0, offset: i * MiB, length: MiB, data: new Uint8Array(MiB) }));
    await (dev as NullBlkDevice).queue!.kill();
    const res = await Promise.all(inflight);
    expect(res.some((r) => r === -Errno.EIO)).toBe(true);
    expect(res.every((r) => r === MiB || r === -Errno.EIO)).toBe(true);
    expect(l.failures.map((f) => f.device)).toEqual(['w']);
    expect(await l.submit('w', { op: 0, offset: 0, length: 4096, data: new Uint8Array(4096) })).toBe(-Errno.EIO);
    // Through a ring too: the CQE carries -EIO.
    const ring: Ring = l.createRing({ entries: 4 });
    const [base] = ring.registerBuffers([allocBuffer(8192)]);
    const s = ring.getSqe()!;
    prepRead(s, l.open('/dev/w'), base!, 4096, 0);
    await ring.submitAndWait(1);
    expect(ring.peekCqe()!.res).toBe(-Errno.EIO);
    // The rest of the lab works.
    await l.write('ok', 0, pattern(8192, 1));
    expect(await l.read('ok', 0, 8192)).toEqualBytes(pattern(8192, 1));
  });
});
