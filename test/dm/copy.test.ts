import { describe, expect, it } from 'vitest';
import { createCipheriv, createHash } from 'node:crypto';
import type { Lab } from '../../src/app/lab.js';
import { dmLab, create, fill, expectCopied, XTS_KEY, XTS_KEY2, CBC_KEY, MiB } from './helpers.js';
import { KiB } from '../helpers.js';

const S = 512;

describe('linear', () => {
  it('copies across target boundaries, offloaded in one domain, data read back', async () => {
    const lab = dmLab(2);
    create(lab, 'lin', '0 4096 linear /dev/nullb0 0\n4096 4096 linear /dev/nullb1 1024');
    await fill(lab, '/dev/mapper/lin', 0, 3 * MiB, 1);
    // source [1 MiB, 3 MiB) crosses the boundary at 2 MiB; destination [3 MiB, 4 MiB) is on nullb1
    const r = await lab.copy('/dev/mapper/lin', [{ srcOffset: 1536 * KiB, dstOffset: 3 * MiB, length: MiB }]);
    expect(r).toMatchObject({ res: MiB, path: 'offload', host_bytes: 0 });
    expect(r.trace.events.some((e) => e.action === 'A' && e.dev === 'nullb1')).toBe(true);
    await expectCopied(lab, '/dev/mapper/lin', 3 * MiB, MiB, 1, 1536 * KiB);
  });

  it('emulates when the lower devices are in different domains', async () => {
    const lab = dmLab(1);
    lab.addNullBlk({ name: 'far', size: 8 * MiB, lbs: 512, backing: 'memory', domain: 'd9' });
    create(lab, 'lin', '0 4096 linear /dev/nullb0 0\n4096 4096 linear /dev/far 0');
    await fill(lab, '/dev/mapper/lin', 0, MiB, 2);
    const r = await lab.copy('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: 2 * MiB + 256 * KiB, length: 512 * KiB }]);
    expect(r.path).toBe('emulated');
    expect(r.pieces.every((p) => p.reason?.code === 'cross_domain')).toBe(true);
    await expectCopied(lab, '/dev/mapper/lin', 2 * MiB + 256 * KiB, 512 * KiB, 2, 0);
  });
});

describe('striped', () => {
  it('splits at chunk boundaries: same-leg pieces offload, cross-leg pieces emulate when legs share no domain', async () => {
    const lab = dmLab(2, { domain: null });
    create(lab, 'st', '0 16384 striped 2 128 /dev/nullb0 0 /dev/nullb1 0');
    await fill(lab, '/dev/mapper/st', 0, 2 * MiB, 3);
    // chunk = 64 KiB; a shift of 128 KiB keeps every chunk on its leg, 64 KiB moves it to the other leg
    const same = await lab.copy('/dev/mapper/st', [{ srcOffset: 32 * KiB, dstOffset: 4 * MiB + 32 * KiB, length: 512 * KiB }]);
    expect(same).toMatchObject({ res: 512 * KiB, path: 'offload', host_bytes: 0 });
    const cross = await lab.copy('/dev/mapper/st', [{ srcOffset: 0, dstOffset: 5 * MiB + 64 * KiB, length: 512 * KiB }]);
    expect(cross.path).toBe('emulated');
    expect(cross.reasons.join()).toMatch(/not in one copy domain/);
    await expectCopied(lab, '/dev/mapper/st', 4 * MiB + 32 * KiB, 512 * KiB, 3, 32 * KiB);
    await expectCopied(lab, '/dev/mapper/st', 5 * MiB + 64 * KiB, 512 * KiB, 3, 0);
  });

  it('offloads every piece when the legs share a domain', async () => {
    const lab = dmLab(3);
    create(lab, 'st', '0 12288 striped 3 64 /dev/nullb0 0 /dev/nullb1 0 /dev/nullb2 0');
    await fill(lab, '/dev/mapper/st', 0, MiB, 4);
    const r = await lab.copy('/dev/mapper/st', [{ srcOffset: 4 * KiB, dstOffset: 3 * MiB + 12 * KiB, length: 700 * KiB }]);
    expect(r).toMatchObject({ path: 'offload', host_bytes: 0 });
    await expectCopied(lab, '/dev/mapper/st', 3 * MiB + 12 * KiB, 700 * KiB, 4, 4 * KiB);
  });
});

describe('raid1', () => {
  const TABLE = '0 16384 raid raid1 1 0 2 - /dev/nullb0 - /dev/nullb1';

  it('fans a copy out to every leg, offloaded per leg', async () => {
    const lab = dmLab(2);
    create(lab, 'm', TABLE);
    await fill(lab, '/dev/mapper/m', 0, MiB, 5);
    const r = await lab.copy('/dev/mapper/m', [{ srcOffset: 0, dstOffset: 2 * MiB, length: MiB }]);
    expect(r).toMatchObject({ res: MiB, bytes: MiB, path: 'offload', host_bytes: 0, offloaded_bytes: 2 * MiB });
    for (const leg of ['nullb0', 'nullb1']) await expectCopied(lab, leg, 2 * MiB, MiB, 5, 0);
  });

  it('degraded: a failed leg is skipped and marked; resync brings it back', async () => {
    const lab = dmLab(2);
    create(lab, 'm', TABLE);
    await fill(lab, '/dev/mapper/m', 0, MiB, 6);
    expect((await lab.dm.message('m', 0, ['fail', '1'])).res).toBe(0);
    expect(lab.dm.status('m').output).toMatch(/raid1 2 AD /);
    const r = await lab.copy('/dev/mapper/m', [{ srcOffset: 0, dstOffset: 3 * MiB, length: MiB }]);
    expect(r).toMatchObject({ res: MiB, path: 'offload', offloaded_bytes: MiB });
    await expectCopied(lab, '/dev/mapper/m', 3 * MiB, MiB, 6, 0);
    expect(await lab.read('nullb1', 3 * MiB, MiB)).toEqualBytes(new Uint8Array(MiB)); // skipped
    await lab.dm.message('m', 0, ['revive', '1']);
    expect(lab.dm.status('m').output).toMatch(/raid1 2 Aa \d+\/16384 recover/);
    expect((await lab.dm.message('m', 0, ['resync'])).res).toBe(0);
    expect(lab.dm.status('m').output).toBe('0 16384 raid raid1 2 AA 16384/16384 idle 0');
    await expectCopied(lab, 'nullb1', 3 * MiB, MiB, 6, 0);
  });

  it('sync (dm-raid full resynchronization): the second leg starts out of sync, reads come from the first, resync copies every region', async () => {
    const lab = dmLab(4);
    await fill(lab, 'nullb0', 0, 2 * MiB, 8); // data only the first leg holds
    create(lab, 'm', '0 16384 raid raid1 2 0 sync 2 - /dev/nullb0 - /dev/nullb1');
    expect(lab.dm.status('m').output).toBe('0 16384 raid raid1 2 Aa 0/16384 resync 0');
    expect(lab.dm.table('m').output).toBe('0 16384 raid raid1 4 0 sync region_size 1024 2 - /dev/nullb0 - /dev/nullb1');
    await expectCopied(lab, '/dev/mapper/m', 0, 2 * MiB, 8, 0);
    expect((await lab.dm.message('m', 0, ['resync'])).res).toBe(0);
    expect(lab.dm.status('m').output).toBe('0 16384 raid raid1 2 AA 16384/16384 idle 0');
    await expectCopied(lab, 'nullb1', 0, 2 * MiB, 8, 0);
    // nosync (and no flag) trust the legs: both in sync at once.
    create(lab, 'n', '0 16384 raid raid1 2 0 nosync 2 - /dev/nullb2 - /dev/nullb3');
    expect(lab.dm.status('n').output).toBe('0 16384 raid raid1 2 AA 16384/16384 idle 0');
  });

  it('a leg that fails a write is marked dead and the write still succeeds', async () => {
    const lab = dmLab(2);
    create(lab, 'm', TABLE);
    lab.findDevice('nullb0')!.faults.add(1, 5);
    await fill(lab, '/dev/mapper/m', 0, 64 * KiB, 7);
    expect(lab.dm.status('m').output).toMatch(/raid1 2 DA/);
    await expectCopied(lab, '/dev/mapper/m', 0, 64 * KiB, 7, 0);
  });
});

describe('raid5 (left-symmetric)', () => {
  // 3 devices, 64 KiB chunks: stripes of 128 KiB data
  const TABLE = '0 8192 raid raid5_ls 1 128 3 - /dev/nullb0 - /dev/nullb1 - /dev/nullb2';

  it('emulates partial-stripe copies and keeps parity: data survives a device failure', async () => {
    const lab = dmLab(3);
    create(lab, 'r5', TABLE);
    await fill(lab, '/dev/mapper/r5', 0, MiB, 8);
    const r = await lab.copy('/dev/mapper/r5', [{ srcOffset: 4 * KiB, dstOffset: 2 * MiB + 36 * KiB, length: 300 * KiB }]);
    expect(r.path).toBe('emulated');
    expect(r.reasons.join()).toMatch(/parity/);
    await expectCopied(lab, '/dev/mapper/r5', 2 * MiB + 36 * KiB, 300 * KiB, 8, 4 * KiB);
    for (let i = 0; i < 3; i++) {
      await lab.dm.message('r5', 0, ['fail', String(i)]);
      await expectCopied(lab, '/dev/mapper/r5', 2 * MiB + 36 * KiB, 300 * KiB, 8, 4 * KiB);
      await lab.dm.message('r5', 0, ['revive', String(i)]);
      await lab.dm.message('r5', 0, ['resync']);
    }
  });

  it('offloads full stripes with their parity (proof: every single-device failure still reads the copy)', async () => {
    const lab = dmLab(3);
    create(lab, 'r5', TABLE);
    await fill(lab, '/dev/mapper/r5', 0, MiB, 9);
    // stripe 1 → stripe 20 (different parity rotation: 1 mod 3 ≠ 20 mod 3), 2 stripes long
    const r = await lab.copy('/dev/mapper/r5', [{ srcOffset: 128 * KiB, dstOffset: 20 * 128 * KiB, length: 256 * KiB }]);
    expect(r).toMatchObject({ res: 256 * KiB, path: 'offload', host_bytes: 0, offloaded_bytes: 384 * KiB });
    await expectCopied(lab, '/dev/mapper/r5', 20 * 128 * KiB, 256 * KiB, 9, 128 * KiB);
    for (let i = 0; i < 3; i++) {
      await lab.dm.message('r5', 0, ['fail', String(i)]);
      await expectCopied(lab, '/dev/mapper/r5', 20 * 128 * KiB, 256 * KiB, 9, 128 * KiB);
      await lab.dm.message('r5', 0, ['revive', String(i)]);
      await lab.dm.message('r5', 0, ['resync']);
    }
  });

  it('degraded: copies are emulated and read back through reconstruction; rebuild restores the device', async () => {
    const lab = dmLab(3);
    create(lab, 'r5', TABLE);
    await fill(lab, '/dev/mapper/r5', 0, MiB, 10);
    await lab.dm.message('r5', 0, ['fail', '1']);
    const r = await lab.copy('/dev/mapper/r5', [{ srcOffset: 0, dstOffset: 2 * MiB, length: 512 * KiB }]);
    expect(r.path).toBe('emulated');
    expect(r.reasons.join()).toMatch(/degraded|dead device/);
    await expectCopied(lab, '/dev/mapper/r5', 2 * MiB, 512 * KiB, 10, 0);
    await lab.dm.message('r5', 0, ['revive', '1']);
    expect((await lab.dm.message('r5', 0, ['resync'])).res).toBe(0);
    await lab.dm.message('r5', 0, ['fail', '0']);
    await expectCopied(lab, '/dev/mapper/r5', 2 * MiB, 512 * KiB, 10, 0);
    await expectCopied(lab, '/dev/mapper/r5', 0, MiB, 10, 0);
  });
});

/** The kernel's plain64 / essiv:sha256 IVs computed independently of the target. */
function ivFor(kind: 'plain64' | 'essiv', key: Buffer, sector: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64LE(BigInt(sector));
  if (kind === 'plain64') return iv;
  const e = createCipheriv('aes-256-ecb', createHash('sha256').update(key).digest(), null).setAutoPadding(false);
  return Buffer.concat([e.update(iv), e.final()]);
}

describe('crypt', () => {
  it('aes-xts-plain64: the lower device holds sector-wise XTS with IV = target sector + iv_offset', async () => {
    const lab = dmLab(1);
    create(lab, 'c', `0 8192 crypt aes-xts-plain64 ${XTS_KEY} 100 /dev/nullb0 64`);
    const plain = new Uint8Array(1024).fill(0x5a);
    await lab.write('/dev/mapper/c', 7 * S, plain);
    const lower = await lab.read('nullb0', (64 + 7) * S, 1024);
    const key = Buffer.from(XTS_KEY, 'hex');
    for (let i = 0; i < 2; i++) {
      const c = createCipheriv('aes-256-xts', key, ivFor('plain64', key, 107 + i)).setAutoPadding(false);
      expect(Buffer.concat([c.update(plain.subarray(i * S, (i + 1) * S)), c.final()]).equals(Buffer.from(lower.subarray(i * S, (i + 1) * S)))).toBe(true);
    }
    expect(await lab.read('/dev/mapper/c', 7 * S, 1024)).toEqualBytes(plain);
  });

  it('aes-cbc-essiv:sha256 with 4096-byte sectors and iv_large_sectors matches the ESSIV definition', async () => {
    const lab = dmLab(1);
    create(lab, 'c', `0 8192 crypt aes-cbc-essiv:sha256 ${CBC_KEY} 16 /dev/nullb0 0 2 sector_size:4096 iv_large_sectors`);
    expect(lab.readSysfs('/sys/block/dm-0/queue/logical_block_size').value).toBe('4096');
    const plain = new Uint8Array(4096).map((_, i) => i & 0xff);
    await lab.write('/dev/mapper/c', 3 * 4096, plain);
    const key = Buffer.from(CBC_KEY, 'hex');
    const c = createCipheriv('aes-256-cbc', key, ivFor('essiv', key, 3 + 16)).setAutoPadding(false);
    const expected = Buffer.concat([c.update(plain), c.final()]);
    expect(expected.equals(Buffer.from(await lab.read('nullb0', 3 * 4096, 4096)))).toBe(true);
  });

  for (const cipher of ['aes-xts-plain64', 'aes-cbc-essiv:sha256'] as const) {
    it(`${cipher}: a copy inside the device is emulated (IV differs) and decrypts to the source plaintext`, async () => {
      const lab = dmLab(1);
      create(lab, 'c', `0 16384 crypt ${cipher} ${cipher === 'aes-xts-plain64' ? XTS_KEY : CBC_KEY} 0 /dev/nullb0 0`);
      await fill(lab, '/dev/mapper/c', 0, 512 * KiB, 11);
      const r = await lab.copy('/dev/mapper/c', [{ srcOffset: 4 * KiB, dstOffset: 4 * MiB, length: 256 * KiB }]);
      expect(r.path).toBe('emulated');
      expect(r.pieces.every((p) => p.reason?.code === 'transform')).toBe(true);
      await expectCopied(lab, '/dev/mapper/c', 4 * MiB, 256 * KiB, 11, 4 * KiB);
      // the raw ciphertext below differs from the source's ciphertext (different IVs)
      expect(await lab.read('nullb0', 4 * MiB, 4096)).not.toEqualBytes(await lab.read('nullb0', 4 * KiB, 4096));
    });
  }

  it('same key and same IV sector: the copy offloads raw ciphertext and still decrypts correctly', async () => {
    const lab = dmLab(2);
    // B's iv_offset makes B's sector y use IV y + 2048; A's sector x uses x. x = y + 2048 lines them up.
    create(lab, 'a', `0 8192 crypt aes-xts-plain64 ${XTS_KEY} 0 /dev/nullb0 0`);
    create(lab, 'b', `0 8192 crypt aes-xts-plain64 ${XTS_KEY} 2048 /dev/nullb1 0`);
    create(lab, 'other', `0 8192 crypt aes-xts-plain64 ${XTS_KEY2} 2048 /dev/nullb1 8192`);
    await fill(lab, '/dev/mapper/a', 0, 2 * MiB, 12);
    const r = await lab.copy('/dev/mapper/b', [{ src: '/dev/mapper/a', srcOffset: MiB, dstOffset: 0, length: 512 * KiB }]);
    expect(r).toMatchObject({ res: 512 * KiB, path: 'offload', host_bytes: 0 });
    await expectCopied(lab, '/dev/mapper/b', 0, 512 * KiB, 12, MiB);
    // off by one sector: IVs differ → emulated, still correct
    const off = await lab.copy('/dev/mapper/b', [{ src: '/dev/mapper/a', srcOffset: MiB + S, dstOffset: MiB, length: 64 * KiB }]);
    expect(off.path).toBe('emulated');
    expect(off.reasons.join()).toMatch(/IV sectors differ/);
    await expectCopied(lab, '/dev/mapper/b', MiB, 64 * KiB, 12, MiB + S);
    // another key → emulated
    const other = await lab.copy('/dev/mapper/other', [{ src: '/dev/mapper/a', srcOffset: MiB, dstOffset: 0, length: 64 * KiB }]);
    expect(other.reasons.join()).toMatch(/different keys/);
    await expectCopied(lab, '/dev/mapper/other', 0, 64 * KiB, 12, MiB);
  });
});

describe('stacks', () => {
  async function threeDeep(lab: Lab): Promise<void> {
    create(lab, 'l0', '0 8192 linear /dev/nullb0 2048');
    create(lab, 'l1', '0 8192 linear /dev/nullb1 0');
    create(lab, 'mirror', '0 8192 raid raid1 1 0 2 - /dev/mapper/l0 - /dev/mapper/l1');
    create(lab, 'secret', `0 8192 crypt aes-xts-plain64 ${XTS_KEY} 0 /dev/mapper/mirror 0`);
  }

  it('three deep (crypt on raid1 on linear over nullblk): copies are emulated through decrypt/encrypt and land on both legs', async () => {
    const lab = dmLab(2);
    await threeDeep(lab);
    await fill(lab, '/dev/mapper/secret', 0, MiB, 13);
    const r = await lab.copy('/dev/mapper/secret', [{ srcOffset: 12 * KiB, dstOffset: 2 * MiB, length: 700 * KiB }]);
    expect(r.path).toBe('emulated');
    await expectCopied(lab, '/dev/mapper/secret', 2 * MiB, 700 * KiB, 13, 12 * KiB);
    // both legs hold the same ciphertext
    expect(await lab.read('nullb0', 2048 * S + 2 * MiB, 700 * KiB)).toEqualBytes(await lab.read('nullb1', 2 * MiB, 700 * KiB));
    // and a leg alone still decrypts: fail leg 0, read through the stack
    await lab.dm.message('mirror', 0, ['fail', '0']);
    await expectCopied(lab, '/dev/mapper/secret', 2 * MiB, 700 * KiB, 13, 12 * KiB);
  });

  it('three deep, same key and IV: offloaded to every leg', async () => {
    const lab = dmLab(4);
    await threeDeep(lab);
    create(lab, 'm2', '0 8192 raid raid1 1 0 2 - /dev/nullb2 - /dev/nullb3');
    create(lab, 'secret2', `0 8192 crypt aes-xts-plain64 ${XTS_KEY} 0 /dev/mapper/m2 0`);
    await fill(lab, '/dev/mapper/secret', 0, MiB, 14);
    const r = await lab.copy('/dev/mapper/secret2', [{ src: '/dev/mapper/secret', srcOffset: 256 * KiB, dstOffset: 256 * KiB, length: 512 * KiB }]);
    expect(r).toMatchObject({ path: 'offload', host_bytes: 0, offloaded_bytes: MiB });
    await expectCopied(lab, '/dev/mapper/secret2', 256 * KiB, 512 * KiB, 14, 256 * KiB);
  });

  it('copies between two different dm devices (linear → striped)', async () => {
    const lab = dmLab(3);
    create(lab, 'lin', '0 8192 linear /dev/nullb0 0');
    create(lab, 'st', '0 16384 striped 2 16 /dev/nullb1 0 /dev/nullb2 0');
    await fill(lab, '/dev/mapper/lin', 0, MiB, 15);
    const r = await lab.copy('/dev/mapper/st', [
      { src: '/dev/mapper/lin', srcOffset: 0, dstOffset: 4 * KiB, length: 100 * KiB },
      { src: '/dev/mapper/lin', srcOffset: 512 * KiB, dstOffset: 104 * KiB, length: 60 * KiB },
    ]);
    expect(r).toMatchObject({ res: 160 * KiB, path: 'offload', host_bytes: 0 });
    await expectCopied(lab, '/dev/mapper/st', 4 * KiB, 100 * KiB, 15, 0);
    await expectCopied(lab, '/dev/mapper/st', 104 * KiB, 60 * KiB, 15, 512 * KiB);
  });

  it('copy_max_bytes = 0 on the dm device disables offload through it', async () => {
    const lab = dmLab(1);
    create(lab, 'lin', '0 8192 linear /dev/nullb0 0');
    expect(lab.writeSysfs('/sys/block/dm-0/queue/copy_max_bytes', '0').res).toBeGreaterThan(0);
    await fill(lab, '/dev/mapper/lin', 0, 64 * KiB, 16);
    const r = await lab.copy('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: MiB, length: 64 * KiB }]);
    expect(r.pieces.every((p) => p.reason?.code === 'no_offload')).toBe(true);
    await expectCopied(lab, '/dev/mapper/lin', MiB, 64 * KiB, 16, 0);
  });
});

describe('copies go through the dm device', () => {
  it('a copy onto a suspended device waits for resume, like a write; then it lands and the dm counters count it', async () => {
    const lab = dmLab(2);
    create(lab, 'lin', '0 4096 linear /dev/nullb0 0\n4096 4096 linear /dev/nullb1 1024');
    await fill(lab, '/dev/mapper/lin', 0, MiB, 4);
    const dm = lab.device('/dev/mapper/lin');
    const before = { ...dm.stats.ios, bytes: dm.stats.bytes.copy };
    expect((await lab.dm.suspend('lin')).res).toBe(0);
    let copied = false;
    const copy = lab.copy('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: 3 * MiB, length: 256 * KiB }]).then((r) => {
      copied = true;
      return r;
    });
    // Give the held copy every chance to run: timers and I/O turns pass, it must not land.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(copied).toBe(false);
    const held = await lab.read('/dev/nullb1', MiB + 512 * KiB, 256 * KiB); // dm 3 MiB = nullb1 sector 1024 + 1 MiB
    expect(held.every((b) => b === 0)).toBe(true);
    expect(dm.stats.ios.copy).toBe(before.copy);
    expect((await lab.dm.resume('lin')).res).toBe(0);
    const r = await copy;
    expect(r).toMatchObject({ res: 256 * KiB, path: 'offload' });
    await expectCopied(lab, '/dev/mapper/lin', 3 * MiB, 256 * KiB, 4, 0);
    // One copy request entered dm-0's queue: counted once, with its bytes; none as reads or writes.
    expect(dm.stats.ios.copy).toBe(before.copy + 1);
    expect(dm.stats.bytes.copy).toBe(before.bytes + 256 * KiB);
    expect(dm.stats.ios.write).toBe(before.write);
  });
});
