/**
 * A raid leg that fails while copies and writes run (found by the degraded-raid fault campaign,
 * test/faults/raid-degraded-campaign.test.ts):
 * - raid1: a copy piece the failing leg's device refused used to fail the whole copy with EIO
 *   while the raid1 never heard of it: the legs differed with both marked in sync, and a resync
 *   did not repair them. Now the leg is marked dead and the copy plans again around it.
 * - raid1: a write landing between the resync's read of a region and its write to the recovering
 *   leg left that leg stale, then marked in sync (reads then returned old data). Now a resync
 *   copies under a barrier that writes onto its window wait for.
 * - raid5: a device that failed a read or write failed the request (EIO) instead of being marked
 *   dead: an array with one bad disk could neither be read nor written. Now the device is marked
 *   dead, reads are reconstructed and writes go on degraded.
 */
import { describe, it, expect } from 'vitest';
import type { Lab } from '../../src/app/lab.js';
import { ReqOp } from '../../src/core/block/ops.js';
import { Errno } from '../../src/core/util/errno.js';
import { pattern, eq, KiB, MiB } from '../helpers.js';
import { midway, timedLab } from './helpers.js';

/** Every read, write and copy bio to the device fails with EIO (a dead disk). */
function breakDevice(lab: Lab, path: string): void {
  const dev = lab.findDevice(path)!;
  for (const op of [ReqOp.READ, ReqOp.WRITE, ReqOp.COPY]) dev.faults.add(op, Errno.EIO, Infinity);
}

function status(lab: Lab, name: string): string {
  return lab.dm.status(name).output!;
}

describe('raid1: a leg fails under a copy', () => {
  for (const strategy of ['vectored', 'token'] as const) {
    it(`${strategy}: the leg's device fails every piece: the leg is marked dead, the copy completes on the other; revive and resync make the legs equal`, async () => {
      const lab = timedLab(2, strategy);
      expect(lab.dm.create('m', '0 16384 raid raid1 3 0 region_size 64 2 - /dev/nullb0 - /dev/nullb1').res).toBe(0);
      const data = pattern(2 * MiB, 1);
      await lab.write('/dev/mapper/m', 0, data);
      const op = lab.copyAsync('/dev/mapper/m', [{ srcOffset: 0, dstOffset: 4 * MiB, length: 2 * MiB }]);
      await midway(lab, op);
      breakDevice(lab, '/dev/nullb1');
      const r = await op.done;
      expect(r.res).toBe(2 * MiB);
      expect(r.trace!.events.some((e) => /failed a piece of the copy \(EIO\) and dm-0 marked it dead: planned again/.test(e.info ?? ''))).toBe(true);
      expect(status(lab, 'm')).toMatch(/raid1 2 AD /);
      expect(await lab.read('/dev/mapper/m', 4 * MiB, 2 * MiB)).toEqualBytes(data);
      lab.findDevice('/dev/nullb1')!.faults.clear();
      expect((await lab.dm.message('m', 0, ['revive', '1'])).res).toBe(0);
      expect((await lab.dm.message('m', 0, ['resync'])).res).toBe(0);
      expect(status(lab, 'm')).toMatch(/raid1 2 AA /);
      expect(eq(await lab.read('/dev/nullb0', 0, 8 * MiB), await lab.read('/dev/nullb1', 0, 8 * MiB))).toBe(true);
      await lab.close();
    });
  }

  it('a source leg that fails the reads of an emulated piece is marked dead; the copy reads the other leg', async () => {
    // Legs in two copy domains: a copy into the array from a third device is emulated leg by leg.
    const lab = timedLab(3, 'vectored', ['d0', 'd1', 'd2']);
    expect(lab.dm.create('m', '0 16384 raid raid1 3 0 region_size 64 2 - /dev/nullb0 - /dev/nullb1').res).toBe(0);
    const data = pattern(MiB, 2);
    await lab.write('/dev/mapper/m', 0, data);
    const op = lab.copyAsync('/dev/nullb2', [{ src: '/dev/mapper/m', srcOffset: 0, dstOffset: 0, length: MiB }], { emulationBufferBytes: 64 * KiB });
    await midway(lab, op);
    breakDevice(lab, '/dev/nullb0');
    const r = await op.done;
    expect(r.res).toBe(MiB);
    expect(status(lab, 'm')).toMatch(/raid1 2 DA /);
    expect(await lab.read('/dev/nullb2', 0, MiB)).toEqualBytes(data);
    await lab.close();
  });

  it('the last in-sync leg fails too: the copy ends with EIO and says why', async () => {
    const lab = timedLab(2);
    expect(lab.dm.create('m', '0 16384 raid raid1 3 0 region_size 64 2 - /dev/nullb0 - /dev/nullb1').res).toBe(0);
    await lab.write('/dev/mapper/m', 0, pattern(MiB, 3));
    const op = lab.copyAsync('/dev/mapper/m', [{ srcOffset: 0, dstOffset: 4 * MiB, length: MiB }]);
    await midway(lab, op);
    breakDevice(lab, '/dev/nullb0');
    breakDevice(lab, '/dev/nullb1');
    const r = await op.done;
    expect(r.res).toBe(-Errno.EIO);
    expect(r.reasons.join('\n')).toMatch(/raid1 has no in-sync leg/);
    expect(status(lab, 'm')).toMatch(/raid1 2 DD /);
    await lab.close();
  });

  it('`fail N` mid-copy: the copy plans again and writes the dead leg no more; its regions are resynchronised', async () => {
    const lab = timedLab(2);
    expect(lab.dm.create('m', '0 16384 raid raid1 3 0 region_size 64 2 - /dev/nullb0 - /dev/nullb1').res).toBe(0);
    const data = pattern(2 * MiB, 4);
    await lab.write('/dev/mapper/m', 0, data);
    const op = lab.copyAsync('/dev/mapper/m', [{ srcOffset: 0, dstOffset: 4 * MiB, length: 2 * MiB }]);
    await midway(lab, op);
    expect((await lab.dm.message('m', 0, ['fail', '1'])).res).toBe(0);
    const leg1 = await lab.read('/dev/nullb1', 0, 8 * MiB);
    const r = await op.done;
    expect(r.res).toBe(2 * MiB);
    expect(r.trace!.events.some((e) => e.info?.includes('another copy map since the copy was planned: planned again'))).toBe(true);
    // Nothing was written to the dead leg after the next piece boundary.
    expect(eq(await lab.read('/dev/nullb1', 0, 8 * MiB), leg1)).toBe(true);
    expect(await lab.read('/dev/mapper/m', 4 * MiB, 2 * MiB)).toEqualBytes(data);
    await lab.dm.message('m', 0, ['revive', '1']);
    expect((await lab.dm.message('m', 0, ['resync'])).res).toBe(0);
    expect(await lab.read('/dev/nullb1', 4 * MiB, 2 * MiB)).toEqualBytes(data);
    await lab.close();
  });
});

describe('raid1 resync with writes in flight', () => {
  it('writes onto the regions being resynchronised wait for them: every leg ends equal (an emulated resync: legs in two domains)', async () => {
    const lab = timedLab(2, 'vectored', ['d0', 'd1']);
    expect(lab.dm.create('m', '0 16384 raid raid1 3 0 region_size 64 2 - /dev/nullb0 - /dev/nullb1').res).toBe(0);
    await lab.dm.message('m', 0, ['fail', '1']);
    await lab.write('/dev/mapper/m', 0, pattern(4 * MiB, 5)); // every region of the first 4 MiB missed by leg 1
    await lab.dm.message('m', 0, ['revive', '1']);
    const resync = lab.dm.message('m', 0, ['resync']);
    // Writes across the regions being copied, spread over the resync's modeled time.
    const writes: Promise<void>[] = [];
    for (let k = 0; k < 16; k++) {
      writes.push(lab.clock.sleep(k * 40_000).then(() => lab.write('/dev/mapper/m', k * 256 * KiB + 8 * KiB, pattern(16 * KiB, 100 + k))));
    }
    // A copy onto the array while it resynchronises is written through the mirror (it would race the resync).
    await lab.clock.sleep(100_000);
    const c = await lab.copy('/dev/mapper/m', [{ srcOffset: 0, dstOffset: 6 * MiB, length: 64 * KiB }]);
    expect(c.res).toBe(64 * KiB);
    expect(c.reasons.join('\n')).toMatch(/raid1 is resynchronising/);
    expect((await resync).res).toBe(0);
    await Promise.all(writes);
    expect(status(lab, 'm')).toMatch(/raid1 2 AA /);
    expect(eq(await lab.read('/dev/nullb0', 0, 8 * MiB), await lab.read('/dev/nullb1', 0, 8 * MiB))).toBe(true);
    for (let k = 0; k < 16; k++) expect(await lab.read('/dev/mapper/m', k * 256 * KiB + 8 * KiB, 16 * KiB)).toEqualBytes(pattern(16 * KiB, 100 + k));
    await lab.close();
  });

  it('a leg that fails during its resync stays out of sync, and the resync says so', async () => {
    const lab = timedLab(2, 'vectored', ['d0', 'd1']);
    expect(lab.dm.create('m', '0 16384 raid raid1 3 0 region_size 64 2 - /dev/nullb0 - /dev/nullb1').res).toBe(0);
    await lab.dm.message('m', 0, ['fail', '1']);
    await lab.write('/dev/mapper/m', 0, pattern(MiB, 6));
    await lab.dm.message('m', 0, ['revive', '1']);
    lab.findDevice('/dev/nullb1')!.faults.add(ReqOp.WRITE, Errno.EIO, Infinity);
    const r = await lab.dm.message('m', 0, ['resync']);
    expect(r.res).toBe(-Errno.EINVAL);
    expect(r.message).toMatch(/resync of leg 1 failed/);
    expect(status(lab, 'm')).toMatch(/raid1 2 Aa /);
    await lab.close();
  });
});

describe('raid5: a device fails reads and writes', () => {
  const TABLE = '0 32768 raid raid5_ls 1 128 3 - /dev/nullb0 - /dev/nullb1 - /dev/nullb2';

  it('the device is marked dead: reads are reconstructed, writes and a copy in flight go on degraded; resync rebuilds it', async () => {
    const lab = timedLab(3);
    expect(lab.dm.create('r5', TABLE).res).toBe(0);
    const data = pattern(4 * MiB, 7);
    await lab.write('/dev/mapper/r5', 0, data);
    // Full stripes: offloaded stripe by stripe with their parity, until the device fails.
    const op = lab.copyAsync('/dev/mapper/r5', [{ srcOffset: 0, dstOffset: 8 * MiB, length: 4 * MiB }]);
    await midway(lab, op);
    breakDevice(lab, '/dev/nullb1');
    const r = await op.done;
    expect(r.res).toBe(4 * MiB);
    expect(status(lab, 'r5')).toMatch(/raid5_ls 3 ADA /);
    expect(await lab.read('/dev/mapper/r5', 8 * MiB, 4 * MiB)).toEqualBytes(data);
    const more = pattern(256 * KiB, 8);
    await lab.write('/dev/mapper/r5', 12 * MiB + 4 * KiB, more);
    expect(await lab.read('/dev/mapper/r5', 12 * MiB + 4 * KiB, 256 * KiB)).toEqualBytes(more);
    lab.findDevice('/dev/nullb1')!.faults.clear();
    await lab.dm.message('r5', 0, ['revive', '1']);
    expect((await lab.dm.message('r5', 0, ['resync'])).res).toBe(0);
    expect(status(lab, 'r5')).toMatch(/raid5_ls 3 AAA /);
    // Whole again: any one device may go and every byte still reads back.
    for (const gone of ['0', '2']) {
      await lab.dm.message('r5', 0, ['fail', gone]);
      expect(await lab.read('/dev/mapper/r5', 8 * MiB, 4 * MiB)).toEqualBytes(data);
      expect(await lab.read('/dev/mapper/r5', 12 * MiB + 4 * KiB, 256 * KiB)).toEqualBytes(more);
      await lab.dm.message('r5', 0, ['revive', gone]);
      expect((await lab.dm.message('r5', 0, ['resync'])).res).toBe(0);
    }
    await lab.close();
  });

  it('a second device failing: reads and writes of its stripes end with EIO, and both are marked dead', async () => {
    const lab = timedLab(3);
    expect(lab.dm.create('r5', TABLE).res).toBe(0);
    await lab.write('/dev/mapper/r5', 0, pattern(MiB, 9));
    breakDevice(lab, '/dev/nullb0');
    expect(await lab.read('/dev/mapper/r5', 0, MiB)).toEqualBytes(pattern(MiB, 9));
    breakDevice(lab, '/dev/nullb2');
    expect(await lab.submit('/dev/mapper/r5', { op: ReqOp.READ, offset: 0, length: MiB, data: new Uint8Array(MiB) })).toBe(-Errno.EIO);
    expect(await lab.submit('/dev/mapper/r5', { op: ReqOp.WRITE, offset: 0, length: 64 * KiB, data: new Uint8Array(64 * KiB) })).toBe(-Errno.EIO);
    expect(status(lab, 'r5')).toMatch(/raid5_ls 3 DAD /);
    await lab.close();
  });
});
