import { describe, expect, it } from 'vitest';
import { Errno } from '../../src/core/util/errno.js';
import { dmLab, create, XTS_KEY, CBC_KEY, MiB } from './helpers.js';

describe('dm tables: every bad-table class is refused with a message naming the line', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown target', '0 2048 linear /dev/nullb0 0\n2048 2048 mirrorz /dev/nullb1 0', /line 2: unknown target type "mirrorz"/],
    ['gap', '0 2048 linear /dev/nullb0 0\n4096 2048 linear /dev/nullb1 0', /line 2: gap in the table: sectors 2048..4095/],
    ['overlap', '0 2048 linear /dev/nullb0 0\n1024 2048 linear /dev/nullb1 0', /line 2: target overlaps the previous one/],
    ['not starting at 0', '8 2048 linear /dev/nullb0 0', /line 1: gap in the table: sectors 0..7/],
    ['length beyond the device', '0 16385 linear /dev/nullb0 0', /line 1: linear: length beyond the underlying device: nullb0 has 16384 sectors/],
    ['offset beyond the device', '0 2048 linear /dev/nullb0 16000', /line 1: linear: length beyond the underlying device/],
    ['no such device', '0 2048 linear /dev/nullb9 0', /line 1: linear: no such device \/dev\/nullb9/],
    ['bad cipher', `0 2048 crypt aes-ecb-plain ${XTS_KEY} 0 /dev/nullb0 0`, /line 1: crypt: bad cipher aes-ecb-plain/],
    ['bad key hex', '0 2048 crypt aes-xts-plain64 xyz 0 /dev/nullb0 0', /line 1: crypt: bad key/],
    ['bad key size', `0 2048 crypt aes-cbc-essiv:sha256 ${CBC_KEY}00 0 /dev/nullb0 0`, /line 1: crypt: bad key size 33 bytes/],
    ['weak xts key', `0 2048 crypt aes-xts-plain64 ${'00'.repeat(64)} 0 /dev/nullb0 0`, /line 1: crypt: bad key: the two XTS key halves are equal/],
    ['bad sector_size', `0 2048 crypt aes-xts-plain64 ${XTS_KEY} 0 /dev/nullb0 0 1 sector_size:1000`, /sector_size 1000 is not a power of two/],
    ['striped chunk too small', '0 2048 striped 2 4 /dev/nullb0 0 /dev/nullb1 0', /line 1: striped: invalid chunk size 4/],
    ['striped length vs chunk', '0 2040 striped 2 8 /dev/nullb0 0 /dev/nullb1 0', /line 1: striped: target length not divisible by chunk size 8/],
    ['raid5 chunk not a power of two', '0 2304 raid raid5_ls 1 24 3 - /dev/nullb0 - /dev/nullb1 - /dev/nullb2', /line 1: raid: invalid chunk size 24/],
    ['raid1 beyond the legs', '0 20000 raid raid1 1 0 2 - /dev/nullb0 - /dev/nullb1', /line 1: raid: length beyond the underlying device/],
    ['raid sync and nosync together', '0 2048 raid raid1 3 0 sync nosync 2 - /dev/nullb0 - /dev/nullb1', /line 1: raid: only one of sync or nosync is allowed/],
    ['raid5 sync (no region log to resync)', '0 2048 raid raid5_ls 2 128 sync 3 - /dev/nullb0 - /dev/nullb1 - /dev/nullb2', /line 1: raid: sync \(a full resynchronization\) is not supported for raid5_ls/],
    ['unknown raid type', '0 2048 raid raid6_zr 1 64 3 - /dev/nullb0 - /dev/nullb1 - /dev/nullb2', /raid type "raid6_zr" is not supported/],
    ['bad numbers', '0 2k linear /dev/nullb0 0', /line 1: length: expected a sector count/],
    ['empty', '# nothing\n\n', /empty table/],
  ];
  for (const [what, table, re] of cases) {
    it(what, () => {
      const lab = dmLab(3);
      const r = lab.dm.create('bad', table);
      expect(r.res).toBe(-Errno.EINVAL);
      expect(r.message).toMatch(re);
      expect(lab.findDevice('/dev/mapper/bad')).toBeUndefined();
    });
  }

  it('refuses a target boundary that breaks the stacked block size', () => {
    const lab = dmLab(2);
    lab.addNullBlk({ name: 'big0', size: 8 * MiB, lbs: 4096, backing: 'memory' });
    const r = lab.dm.create('mix', '0 1 linear /dev/nullb0 0\n1 2048 linear /dev/big0 0');
    expect(r.res).toBe(-Errno.EINVAL);
    expect(r.message).toMatch(/line 1: target is not aligned to the table's 4096-byte logical block size/);
  });
});

describe('dm lifecycle', () => {
  it('create, table, status, ls, sysfs, /dev/mapper and /dev/dm-N', async () => {
    const lab = dmLab(2);
    create(lab, 'lin', '0 2048 linear /dev/nullb0 0\n2048 4096 linear /dev/nullb1 2048');
    expect(lab.dm.table('lin').output).toBe('0 2048 linear /dev/nullb0 0\n2048 4096 linear /dev/nullb1 2048');
    expect(lab.dm.status('lin').output).toBe('0 2048 linear\n2048 4096 linear');
    expect(lab.dm.ls().output).toBe('lin\t(253:0)');
    expect(lab.findDevice('/dev/mapper/lin')).toBe(lab.findDevice('/dev/dm-0'));
    expect(lab.readSysfs('/sys/block/dm-0/dm/name').value).toBe('lin\n');
    expect(lab.readSysfs('/sys/block/dm-0/size').value).toBe('6144');
    expect(lab.readSysfs('/sys/block/dm-0/queue/copy_domain').value).toBe('d0');
    expect(Number(lab.readSysfs('/sys/block/dm-0/queue/copy_max_hw_bytes').value)).toBeGreaterThan(0);
  });

  it('stacked limits: the stricter device wins, different domains leave none', () => {
    const lab = dmLab(1, { copy_max_hw_bytes: 1 * MiB });
    lab.addNullBlk({ name: 'other', size: 8 * MiB, lbs: 4096, backing: 'memory', domain: 'd1', copy_max_hw_bytes: 256 * 1024, max_hw_sectors_kb: 128 });
    create(lab, 'mix', '0 2048 linear /dev/nullb0 0\n2048 2048 linear /dev/other 0');
    const q = (a: string) => lab.readSysfs(`/sys/block/dm-0/queue/${a}`).value;
    expect(q('logical_block_size')).toBe('4096');
    expect(q('copy_max_hw_bytes')).toBe(String(256 * 1024));
    expect(q('max_hw_sectors_kb')).toBe('128');
    expect(q('copy_domain')).toBe('dm-0 (own)');
  });

  it('reload takes effect on resume; suspend holds I/O until resume', async () => {
    const lab = dmLab(2);
    create(lab, 'v', '0 2048 linear /dev/nullb0 0');
    await lab.write('nullb1', 0, new Uint8Array(512).fill(7));
    expect(lab.dm.reload('v', '0 4096 linear /dev/nullb1 0').res).toBe(0);
    expect(lab.findDevice('/dev/mapper/v')!.capacity).toBe(2048 * 512);
    await lab.dm.suspend('v');
    expect(lab.readSysfs('/sys/block/dm-0/dm/suspended').value).toBe('1\n');
    let done = false;
    const pending = lab.read('/dev/mapper/v', 0, 512).then((d) => {
      done = true;
      return d;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(done).toBe(false);
    expect(lab.dm.resume('v').res).toBe(0);
    expect((await pending)[0]).toBe(7);
    expect(lab.findDevice('/dev/mapper/v')!.capacity).toBe(4096 * 512);
    expect(lab.readSysfs('/sys/block/dm-0/size').value).toBe('4096');
  });

  it('dm on dm; removing a device in use is EBUSY; remove frees the name', () => {
    const lab = dmLab(1);
    create(lab, 'low', '0 8192 linear /dev/nullb0 0');
    create(lab, 'high', '0 4096 linear /dev/mapper/low 1024');
    expect(lab.dm.remove('low')).toMatchObject({ res: -Errno.EBUSY });
    expect(lab.dm.remove('high').res).toBe(0);
    expect(lab.findDevice('/dev/mapper/high')).toBeUndefined();
    expect(lab.readSysfs('/sys/block/dm-1/dm/name').res).toBe(-Errno.ENOENT);
    expect(lab.dm.remove('low').res).toBe(0);
    expect(lab.dm.remove('low').res).toBe(-Errno.ENXIO);
    expect(lab.dm.create('low', '0 8192 linear /dev/nullb0 0').res).toBe(0);
    expect(lab.dm.create('low', '0 8192 linear /dev/nullb0 0').res).toBe(-Errno.EBUSY);
    expect(() => lab.removeDevice('nullb0')).toThrow(/EBUSY/);
  });
});
