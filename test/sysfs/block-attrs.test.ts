import { describe, expect, it } from 'vitest';
import { Errno } from '../../src/core/util/errno.js';
import { labWith, MiB } from '../helpers.js';

const Q = '/sys/block/nullb0/queue';

describe('sysfs block attributes', () => {
  it('exports size, block sizes and copy capabilities with kernel names', () => {
    const lab = labWith([{ size: 64 * MiB, lbs: 4096, copy_max_hw_bytes: MiB, copy_max_segments: 32, domain: 'd0', max_hw_sectors_kb: 512 }]);
    const read = (p: string) => lab.readSysfs(p).value;
    expect(read('/sys/block/nullb0/size')).toBe(String((64 * MiB) / 512));
    expect(read(`${Q}/logical_block_size`)).toBe('4096');
    expect(read(`${Q}/physical_block_size`)).toBe('4096');
    expect(read(`${Q}/max_hw_sectors_kb`)).toBe('512');
    expect(read(`${Q}/max_sectors_kb`)).toBe('512');
    expect(read(`${Q}/copy_max_hw_bytes`)).toBe('1048576');
    expect(read(`${Q}/copy_max_bytes`)).toBe('1048576');
    expect(read(`${Q}/copy_max_segments`)).toBe('32');
    expect(read(`${Q}/copy_domain`)).toBe('d0');
    expect(read(`${Q}/copy_offload_min_bytes`)).toBe('0');
    expect(read(`${Q}/zoned`)).toBe('none');
    const ls = lab.sysfs.ls(Q);
    expect(ls.entries?.find((e) => e.name === 'copy_max_bytes')?.mode).toBe('rw');
    expect(ls.entries?.find((e) => e.name === 'copy_max_hw_bytes')?.mode).toBe('r');
  });

  it('copy_max_bytes: a multiple of the block size; 0 disables; above hw leaves hw', () => {
    const lab = labWith([{ copy_max_hw_bytes: MiB }]);
    const w = (v: string) => lab.writeSysfs(`${Q}/copy_max_bytes`, v);
    const r = () => lab.readSysfs(`${Q}/copy_max_bytes`).value;
    expect(w('1000')).toMatchObject({ res: -Errno.EINVAL });
    expect(r()).toBe('1048576');
    expect(w('65536').res).toBeGreaterThan(0);
    expect(r()).toBe('65536');
    expect(w('0').res).toBeGreaterThan(0);
    expect(r()).toBe('0');
    expect(w(String(64 * MiB)).res).toBeGreaterThan(0);
    expect(r()).toBe('1048576');
    expect(w('65536\n').res).toBeGreaterThan(0); // echo's trailing newline is accepted
    for (const bad of ['-4096', 'abc', '0x1000', '4096 4096', '', '1e6']) {
      expect(w(bad).res, bad).toBe(-Errno.EINVAL);
    }
    expect(r()).toBe('65536');
  });

  it('read-only attributes refuse writes with -EACCES; missing paths are -ENOENT; directories -EISDIR', () => {
    const lab = labWith([{}]);
    expect(lab.writeSysfs(`${Q}/copy_max_hw_bytes`, '4096').res).toBe(-Errno.EACCES);
    expect(lab.readSysfs(`${Q}/nope`).res).toBe(-Errno.ENOENT);
    expect(lab.readSysfs('/sys/block/nullb9/size').res).toBe(-Errno.ENOENT);
    expect(lab.writeSysfs(Q, '1').res).toBe(-Errno.EISDIR);
    expect(lab.sysfs.ls(`${Q}/copy_max_bytes`).res).toBe(-Errno.ENOTDIR);
    expect(lab.sysfs.ls('/sys/block').entries?.map((e) => e.name)).toEqual(['nullb0']);
  });

  it('copy_offload_min_bytes and max_sectors_kb validate like the kernel', () => {
    const lab = labWith([{ max_hw_sectors_kb: 1024 }]);
    expect(lab.writeSysfs(`${Q}/copy_offload_min_bytes`, '1000').res).toBe(-Errno.EINVAL);
    expect(lab.writeSysfs(`${Q}/copy_offload_min_bytes`, String(8 * 1024 ** 3)).res).toBe(-Errno.EINVAL);
    expect(lab.writeSysfs(`${Q}/copy_offload_min_bytes`, '65536').res).toBeGreaterThan(0);
    expect(lab.writeSysfs(`${Q}/max_sectors_kb`, '2048').res).toBe(-Errno.EINVAL);
    expect(lab.writeSysfs(`${Q}/max_sectors_kb`, '2').res).toBe(-Errno.EINVAL);
    expect(lab.writeSysfs(`${Q}/max_sectors_kb`, '128').res).toBeGreaterThan(0);
    expect(lab.readSysfs(`${Q}/max_sectors_kb`).value).toBe('128');
    expect(lab.writeSysfs(`${Q}/max_sectors_kb`, '0').res).toBeGreaterThan(0);
    expect(lab.readSysfs(`${Q}/max_sectors_kb`).value).toBe('1024');
  });

  it('a value longer than a page is refused', () => {
    const lab = labWith([{}]);
    expect(lab.writeSysfs(`${Q}/copy_max_bytes`, '4'.repeat(5000)).res).toBe(-Errno.EINVAL);
  });
});
