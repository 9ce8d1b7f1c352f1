/**
 * A dm suspend while a copy runs through the device (found by the suspend/resume fault campaign,
 * test/faults/dm-suspend-campaign.test.ts): the copy engine sends its pieces straight to the
 * devices at the bottom, so the copy used to go on writing under a suspended device, and after a
 * reload and resume it went on with the old table (data landed where the device no longer maps).
 * Now each piece is in flight on every dm device it was remapped through: suspend waits for the
 * running piece and holds the next; a table swapped in by resume makes the copy plan again.
 */
import { describe, it, expect } from 'vitest';
import type { Lab } from '../../src/app/lab.js';
import { COPY_MAX_REPLANS } from '../../src/core/block/copy/engine.js';
import { DM_MAX_SUSPENDED_BIOS } from '../../src/core/dm/device.js';
import { Errno } from '../../src/core/util/errno.js';
import { pattern, eq, KiB, MiB } from '../helpers.js';
import { XTS_KEY, midway, timedLab } from './helpers.js';

/** Host turns and modeled time pass; nothing held may run meanwhile. */
async function letTimePass(lab: Lab): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  await lab.clock.sleep(50e6);
}

describe('dm suspend while a copy runs through the device', () => {
  for (const strategy of ['vectored', 'paired', 'token'] as const) {
    it(`${strategy}: suspend waits for the running piece, nothing below changes until resume, then the copy completes`, async () => {
      const lab = timedLab(1, strategy);
      expect(lab.dm.create('lin', '0 16384 linear /dev/nullb0 0').res).toBe(0);
      const data = pattern(2 * MiB, 1);
      await lab.write('/dev/mapper/lin', 0, data);
      const op = lab.copyAsync('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: 4 * MiB, length: 2 * MiB }]);
      await midway(lab, op);
      expect((await lab.dm.suspend('lin')).res).toBe(0);
      const frozen = await lab.read('/dev/nullb0', 0, 8 * MiB);
      const at = op.bytesDone;
      await letTimePass(lab);
      expect(eq(await lab.read('/dev/nullb0', 0, 8 * MiB), frozen)).toBe(true);
      expect(op.bytesDone).toBe(at);
      expect(op.state).toBe('running');
      lab.dm.resume('lin');
      const r = await op.done;
      expect(r.res).toBe(2 * MiB);
      expect(await lab.read('/dev/mapper/lin', 4 * MiB, 2 * MiB)).toEqualBytes(data);
      await lab.close();
    });
  }

  it('a lower device of the stack suspended (crypt on linear): the copy through the top is held there too', async () => {
    const lab = timedLab(1);
    expect(lab.dm.create('low', '0 16384 linear /dev/nullb0 0').res).toBe(0);
    expect(lab.dm.create('enc', `0 16384 crypt aes-xts-plain64 ${XTS_KEY} 0 /dev/mapper/low 0 1 sector_size:4096`).res).toBe(0);
    const data = pattern(MiB, 2);
    await lab.write('/dev/mapper/enc', 0, data);
    // Different IV sectors: every piece is emulated at the crypt level, its bios go through low.
    const op = lab.copyAsync('/dev/mapper/enc', [{ srcOffset: 0, dstOffset: 4 * MiB, length: MiB }], { emulationBufferBytes: 64 * KiB });
    await midway(lab, op);
    expect((await lab.dm.suspend('low')).res).toBe(0);
    const frozen = await lab.read('/dev/nullb0', 0, 8 * MiB);
    await letTimePass(lab);
    expect(eq(await lab.read('/dev/nullb0', 0, 8 * MiB), frozen)).toBe(true);
    lab.dm.resume('low');
    expect((await op.done).res).toBe(MiB);
    expect(await lab.read('/dev/mapper/enc', 4 * MiB, MiB)).toEqualBytes(data);
    await lab.close();
  });

  it('an emulated piece below a suspended top device is held (linear on raid5: partial stripes emulated at the raid5)', async () => {
    const lab = timedLab(3);
    expect(lab.dm.create('r5', '0 16384 raid raid5_ls 1 128 3 - /dev/nullb0 - /dev/nullb1 - /dev/nullb2').res).toBe(0);
    expect(lab.dm.create('top', '0 16384 linear /dev/mapper/r5 0').res).toBe(0);
    const data = pattern(MiB, 3);
    await lab.write('/dev/mapper/top', 0, data);
    const op = lab.copyAsync('/dev/mapper/top', [{ srcOffset: 4 * KiB, dstOffset: 4 * MiB + 4 * KiB, length: MiB - 8 * KiB }], { emulationBufferBytes: 64 * KiB });
    await midway(lab, op);
    expect((await lab.dm.suspend('top')).res).toBe(0);
    const frozen = await Promise.all([0, 1, 2].map((i) => lab.read(`/dev/nullb${i}`, 0, 8 * MiB)));
    await letTimePass(lab);
    for (let i = 0; i < 3; i++) expect(eq(await lab.read(`/dev/nullb${i}`, 0, 8 * MiB), frozen[i]!)).toBe(true);
    lab.dm.resume('top');
    expect((await op.done).res).toBe(MiB - 8 * KiB);
    expect(await lab.read('/dev/mapper/top', 4 * MiB + 4 * KiB, MiB - 8 * KiB)).toEqualBytes(data.subarray(4 * KiB, MiB - 4 * KiB));
    await lab.close();
  });

  for (const strategy of ['vectored', 'paired', 'token'] as const) {
    it(`${strategy}: moved while suspended (pvmove: copy the medium, reload onto the new one, resume): the copy plans again and lands on the new device`, async () => {
      const lab = timedLab(2, strategy);
      expect(lab.dm.create('lin', '0 16384 linear /dev/nullb0 0').res).toBe(0);
      const data = pattern(2 * MiB, 4);
      await lab.write('/dev/mapper/lin', 0, data);
      const op = lab.copyAsync('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: 4 * MiB, length: 2 * MiB }]);
      await midway(lab, op);
      expect((await lab.dm.suspend('lin')).res).toBe(0);
      const old = await lab.read('/dev/nullb0', 0, 8 * MiB);
      await lab.write('/dev/nullb1', 0, old);
      expect(lab.dm.reload('lin', '0 16384 linear /dev/nullb1 0').res).toBe(0);
      lab.dm.resume('lin');
      const r = await op.done;
      expect(r.res).toBe(2 * MiB);
      expect(r.trace!.events.some((e) => e.info?.includes('planned again'))).toBe(true);
      expect(await lab.read('/dev/mapper/lin', 4 * MiB, 2 * MiB)).toEqualBytes(data);
      // The old medium was left alone from the suspend on.
      expect(eq(await lab.read('/dev/nullb0', 0, 8 * MiB), old)).toBe(true);
      await lab.close();
    });
  }

  it(`a table changed under the copy more than ${COPY_MAX_REPLANS} times: the copy ends with EAGAIN`, async () => {
    const lab = timedLab(1);
    expect(lab.dm.create('lin', '0 16384 linear /dev/nullb0 0').res).toBe(0);
    const op = lab.copyAsync('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: 4 * MiB, length: 2 * MiB }]);
    let changes = 0;
    for (let k = 0; k < 200 && op.state === 'running'; k++) {
      await midway(lab, op).catch(() => undefined);
      if (op.state !== 'running') break;
      await lab.dm.suspend('lin');
      expect(lab.dm.reload('lin', '0 16384 linear /dev/nullb0 0').res).toBe(0);
      lab.dm.resume('lin');
      changes++;
    }
    const r = await op.done;
    expect(changes).toBeGreaterThan(COPY_MAX_REPLANS);
    expect(r.res).toBe(-Errno.EAGAIN);
    expect(r.trace!.events.some((e) => e.info?.includes(`tables changed under the copy ${COPY_MAX_REPLANS} times`))).toBe(true);
    await lab.close();
  });

  it('a piece held by a suspended lower device that holds as much as it may: the copy ends with EAGAIN', async () => {
    const lab = timedLab(1);
    expect(lab.dm.create('low', '0 16384 linear /dev/nullb0 0').res).toBe(0);
    expect(lab.dm.create('top', '0 16384 linear /dev/mapper/low 0').res).toBe(0);
    expect((await lab.dm.suspend('low')).res).toBe(0);
    // Fill low's hold with copies waiting on it directly.
    const waiting = Array.from({ length: DM_MAX_SUSPENDED_BIOS }, (_, i) => lab.copy('/dev/mapper/low', [{ srcOffset: 0, dstOffset: 4 * MiB + (i % 512) * 4096, length: 4096 }]));
    const r = await lab.copy('/dev/mapper/top', [{ srcOffset: 0, dstOffset: 6 * MiB, length: 64 * KiB }]);
    expect(r.res).toBe(-Errno.EAGAIN);
    expect(r.trace!.events.some((e) => e.info?.includes('a suspended device below holds as much as it may'))).toBe(true);
    lab.dm.resume('low');
    expect((await Promise.all(waiting)).every((w) => w.res === 4096)).toBe(true);
    await lab.close();
  });
});
