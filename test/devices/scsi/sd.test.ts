import { describe, expect, it } from 'vitest';
import { Lab } from '../../../src/app/lab.js';
import { addScsiArray } from '../../../devices/scsi/attach.js';
import type { SdDevice } from '../../../devices/scsi/sd.js';
import { ReqOp } from '../../../src/core/block/ops.js';
import { Errno } from '../../../src/core/util/errno.js';
import { pattern, MiB } from '../../helpers.js';

function lab2(mode: 'auto' | 'xcopy' | 'token' = 'auto') {
  const lab = new Lab();
  addScsiArray(lab, { name: 'arr0', copyMode: mode, lus: [{ name: 'sda', size: 64 * MiB }, { name: 'sdb', size: 64 * MiB }] });
  addScsiArray(lab, { name: 'arr1', copyMode: mode, lus: [{ name: 'sdc', size: 64 * MiB, lbs: 4096 }] });
  return lab;
}

describe('sd host driver', () => {
  it('discovers third-party copy and exports limits, domain and scsi_disk attributes', () => {
    const lab = lab2();
    expect(lab.readSysfs('/sys/block/sda/queue/copy_domain').value).toBe('scsi:arr0');
    expect(Number(lab.readSysfs('/sys/block/sda/queue/copy_max_segments').value)).toBeGreaterThanOrEqual(64);
    expect(Number(lab.readSysfs('/sys/block/sda/queue/copy_max_hw_bytes').value)).toBe(65535 * 512);
    expect(Number(lab.readSysfs('/sys/block/sdc/queue/copy_max_hw_bytes').value)).toBe(128 * MiB);
    expect(lab.readSysfs('/sys/block/sda/queue/discard_max_hw_bytes').value).not.toBe('0');
    expect(lab.readSysfs('/sys/class/scsi_disk/0:0:0:0/copy_offload').value).toBe('xcopy');
    expect(lab.readSysfs('/sys/class/scsi_disk/0:0:0:1/third_party_copy').value).toBe('1');
    expect(lab.readSysfs('/sys/class/scsi_disk/1:0:0:0/provisioning_mode').value).toBe('unmap');
    expect(lab.writeSysfs('/sys/class/scsi_disk/0:0:0:0/copy_offload', 'bogus').res).toBe(-Errno.EINVAL);
  });

  for (const mode of ['xcopy', 'token'] as const) {
    it(`REQ_OP_COPY becomes ${mode === 'xcopy' ? 'one EXTENDED COPY with many segment descriptors' : 'POPULATE TOKEN + WRITE USING TOKEN'}; data read back; no host bytes`, async () => {
      const lab = lab2(mode);
      await lab.write('sda', 0, pattern(4 * MiB, 1));
      await lab.write('sdb', 8 * MiB, pattern(MiB, 2));
      const sdb = lab.device('sdb') as SdDevice;
      const before = { ...sdb.commands };
      const r = await lab.copy('sdb', [
        { src: 'sda', srcOffset: 0, dstOffset: 16 * MiB, length: MiB },
        { src: 'sda', srcOffset: 2 * MiB, dstOffset: 17 * MiB, length: MiB },
        { srcOffset: 8 * MiB, dstOffset: 18 * MiB, length: MiB },
      ]);
      expect(r.res).toBe(3 * MiB);
      expect(r.path).toBe('offload');
      expect(r.host_bytes).toBe(0);
      expect(await lab.read('sdb', 16 * MiB, MiB)).toEqualBytes(pattern(MiB, 1));
      expect(await lab.read('sdb', 17 * MiB, MiB)).toEqualBytes(pattern(MiB, 1, 2 * MiB));
      expect(await lab.read('sdb', 18 * MiB, MiB)).toEqualBytes(pattern(MiB, 2));
      const sent = (sdb.commands['0x83'] ?? 0) - (before['0x83'] ?? 0);
      expect(sent).toBe(mode === 'xcopy' ? 1 : 3); // one EXTENDED COPY; or per source LU a WRITE USING TOKEN, plus POPULATE TOKEN for sdb's own source
    });
  }

  it('copies across arrays of one domain by EXTENDED COPY, emulates across domains and says why', async () => {
    const lab = new Lab();
    addScsiArray(lab, { name: 'a', domain: 'san', lus: [{ name: 'sda', size: 16 * MiB }] });
    addScsiArray(lab, { name: 'b', domain: 'san', lus: [{ name: 'sdb', size: 16 * MiB, lbs: 4096 }] });
    addScsiArray(lab, { name: 'c', lus: [{ name: 'sdc', size: 16 * MiB }] });
    await lab.write('sda', 0, pattern(MiB, 3));
    const r = await lab.copy('sdb', [{ src: 'sda', srcOffset: 0, dstOffset: 0, length: MiB }]);
    expect([r.path, r.host_bytes]).toEqual(['offload', 0]);
    expect(await lab.read('sdb', 0, MiB)).toEqualBytes(pattern(MiB, 3));
    const r2 = await lab.copy('sdc', [{ src: 'sda', srcOffset: 0, dstOffset: 0, length: MiB }]);
    expect(r2.path).toBe('emulated');
    expect(r2.reasons.join()).toMatch(/not in one copy domain/);
    expect(await lab.read('sdc', 0, MiB)).toEqualBytes(pattern(MiB, 3));
  });

  it('a reservation held by another initiator fails writes and offloaded copies with EBADE', async () => {
    const lab = lab2();
    const sdb = lab.device('sdb') as SdDevice;
    const p = new Uint8Array(24);
    new DataView(p.buffer).setBigUint64(8, 7n);
    expect(sdb.array.execute('other', 1, new Uint8Array([0x5f, 0, 0, 0, 0, 0, 0, 0, 24, 0]), p).status).toBe(0);
    new DataView(p.buffer).setBigUint64(0, 7n);
    new DataView(p.buffer).setBigUint64(8, 0n);
    expect(sdb.array.execute('other', 1, new Uint8Array([0x5f, 1, 1, 0, 0, 0, 0, 0, 24, 0]), p).status).toBe(0);
    expect(await lab.submit('sdb', { op: ReqOp.WRITE, offset: 0, length: 4096, data: new Uint8Array(4096) })).toBe(-Errno.EBADE);
    const r = await lab.copy('sdb', [{ src: 'sda', srcOffset: 0, dstOffset: 0, length: MiB }], { fallback: false });
    expect(r.res).toBe(-Errno.EBADE);
  });

  it('discard, write zeroes and flush become UNMAP, WRITE SAME and SYNCHRONIZE CACHE', async () => {
    const lab = lab2();
    await lab.write('sda', 0, pattern(MiB, 5));
    expect(await lab.submit('sda', { op: ReqOp.DISCARD, offset: 0, length: 512 * 1024 })).toBe(0);
    expect(await lab.submit('sda', { op: ReqOp.WRITE_ZEROES, offset: 512 * 1024, length: 4096 })).toBe(0);
    expect(await lab.submit('sda', { op: ReqOp.FLUSH, offset: 0, length: 0 })).toBe(0);
    const back = await lab.read('sda', 0, MiB);
    expect(back.subarray(0, 512 * 1024 + 4096).every((x) => x === 0)).toBe(true);
    expect(back.subarray(512 * 1024 + 4096)).toEqualBytes(pattern(MiB, 5).subarray(512 * 1024 + 4096));
    const sda = lab.device('sda') as SdDevice;
    expect([sda.commands['0x42'], sda.commands['0x93'], sda.commands['0x35']]).toEqual([1, 1, 1]);
  });
});
