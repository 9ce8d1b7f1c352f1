import { describe, expect, it } from 'vitest';
import { ReqOp } from '../../src/core/block/ops.js';
import { Trace } from '../../src/core/block/trace.js';
import { Errno } from '../../src/core/util/errno.js';
import { labWith, pattern, KiB, MiB } from '../helpers.js';

describe('block layer submit path', () => {
  it('round-trips written data, for 512- and 4096-byte blocks and both backings', async () => {
    for (const lbs of [512, 4096] as const) {
      for (const backing of ['memory', 'sparse'] as const) {
        const lab = labWith([{ lbs, backing }]);
        const data = pattern(3 * lbs, 11, 77);
        await lab.write('/dev/nullb0', 5 * lbs, data);
        expect(await lab.read('/dev/nullb0', 5 * lbs, 3 * lbs)).toEqualBytes(data);
        // Unwritten blocks read as zeros.
        expect((await lab.read('nullb0', 0, lbs)).every((b) => b === 0)).toBe(true);
      }
    }
  });

  it('returns bytes for READ and WRITE, 0 for FLUSH', async () => {
    const lab = labWith([{}]);
    expect(await lab.submit('nullb0', { op: ReqOp.WRITE, offset: 0, length: 4096, data: new Uint8Array(4096) })).toBe(4096);
    expect(await lab.submit('nullb0', { op: ReqOp.READ, offset: 0, length: 4096, data: new Uint8Array(4096) })).toBe(4096);
    expect(await lab.submit('nullb0', { op: ReqOp.FLUSH, offset: 0, length: 0 })).toBe(0);
  });

  it('rejects unaligned requests with -EINVAL and writes nothing', async () => {
    const lab = labWith([{ lbs: 4096 }]);
    expect(await lab.submit('nullb0', { op: ReqOp.WRITE, offset: 512, length: 4096, data: pattern(4096, 1) })).toBe(-Errno.EINVAL);
    expect(await lab.submit('nullb0', { op: ReqOp.WRITE, offset: 0, length: 1000, data: pattern(1000, 1) })).toBe(-Errno.EINVAL);
    expect(await lab.submit('nullb0', { op: ReqOp.WRITE, offset: -4096, length: 4096, data: pattern(4096, 1) })).toBe(-Errno.EINVAL);
    expect(await lab.submit('nullb0', { op: ReqOp.WRITE, offset: 0, length: 8192, data: pattern(4096, 1) })).toBe(-Errno.EINVAL);
    expect((await lab.read('nullb0', 0, 8192)).every((b) => b === 0)).toBe(true);
  });

  it('fails I/O beyond the end of the device with -EIO (bio_check_eod)', async () => {
    const lab = labWith([{ size: 1 * MiB }]);
    expect(await lab.submit('nullb0', { op: ReqOp.READ, offset: MiB - 4096, length: 8192, data: new Uint8Array(8192) })).toBe(-Errno.EIO);
    await expect(lab.read('nullb0', MiB, 4096)).rejects.toMatchObject({ errno: -Errno.EIO });
  });

  it('splits a bio larger than max_sectors_kb and traces the split', async () => {
    const lab = labWith([{ max_hw_sectors_kb: 64 }]);
    const data = pattern(256 * KiB, 3);
    const trace = new Trace();
    expect(await lab.submit('nullb0', { op: ReqOp.WRITE, offset: 0, length: data.length, data }, trace)).toBe(data.length);
    expect(trace.events.filter((e) => e.action === 'X')).toHaveLength(4);
    expect(trace.events.filter((e) => e.action === 'D')).toHaveLength(4);
    expect(await lab.read('nullb0', 0, data.length)).toEqualBytes(data);
    expect(lab.device('nullb0').stats.ios.write).toBe(4);
  });

  it('discard and write zeroes make blocks read as zeros; unsupported discard is -EOPNOTSUPP', async () => {
    const lab = labWith([{ backing: 'sparse' }, { discard: false }]);
    await lab.write('nullb0', 0, pattern(256 * KiB, 5));
    expect(await lab.submit('nullb0', { op: ReqOp.DISCARD, offset: 0, length: 128 * KiB })).toBe(0);
    expect(await lab.submit('nullb0', { op: ReqOp.WRITE_ZEROES, offset: 128 * KiB, length: 64 * KiB })).toBe(0);
    const back = await lab.read('nullb0', 0, 256 * KiB);
    expect(back.subarray(0, 192 * KiB).every((b) => b === 0)).toBe(true);
    expect(back.subarray(192 * KiB)).toEqualBytes(pattern(64 * KiB, 5, 192 * KiB));
    expect(await lab.submit('nullb1', { op: ReqOp.DISCARD, offset: 0, length: 4096 })).toBe(-Errno.ENOTSUP);
  });

  it('injected faults fail the named op, count down, and leave other ops alone', async () => {
    const lab = labWith([{}]);
    const dev = lab.device('nullb0');
    dev.faults.add(ReqOp.WRITE, Errno.EIO, 2, 1);
    const w = () => lab.submit('nullb0', { op: ReqOp.WRITE, offset: 0, length: 4096, data: pattern(4096, 9) });
    expect(await w()).toBe(4096); // skipped
    expect(await w()).toBe(-Errno.EIO);
    expect(await lab.submit('nullb0', { op: ReqOp.READ, offset: 0, length: 4096, data: new Uint8Array(4096) })).toBe(4096);
    expect(await w()).toBe(-Errno.EIO);
    expect(await w()).toBe(4096);
    expect(dev.faults.active).toBe(0);
  });

  it('counts host bytes for READ and WRITE only', async () => {
    const lab = labWith([{}]);
    await lab.write('nullb0', 0, pattern(8192, 1));
    await lab.read('nullb0', 0, 4096);
    await lab.submit('nullb0', { op: ReqOp.WRITE_ZEROES, offset: 0, length: 8192 });
    expect(lab.device('nullb0').stats.host_bytes).toBe(12288);
  });
});
