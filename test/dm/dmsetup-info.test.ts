import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Errno } from '../../src/core/util/errno.js';
import { dmsetup, dmsetupUsageError } from '../../src/app/dm/dmsetup.js';
import { hideKey } from '../../src/app/dm/dmsetup-output.js';
import { dmLab, create, XTS_KEY } from './helpers.js';

const CRYPT = `0 8192 crypt aes-xts-plain64 ${XTS_KEY} 0 /dev/nullb0 0`;

describe('dmsetup table: crypt keys as dmsetup prints them', () => {
  it('zeros of the key\'s length unless --showkeys; every device listed with its name; create and the scenario step alike', async () => {
    const lab = dmLab(2);
    create(lab, 'c', CRYPT);
    create(lab, 'l', '0 8192 linear /dev/nullb1 0');
    const hidden = `0 8192 crypt aes-xts-plain64 ${'0'.repeat(XTS_KEY.length)} 0 /dev/nullb0 0`;
    expect((await dmsetup(lab, ['table', 'c'])).output).toBe(hidden);
    expect((await dmsetup(lab, ['table', '--showkeys', 'c'])).output).toBe(CRYPT);
    expect((await dmsetup(lab, ['table', 'c', '--showkeys'])).output).toBe(CRYPT);
    expect((await dmsetup(lab, ['table'])).output).toBe(`c: ${hidden}\nl: 0 8192 linear /dev/nullb1 0`);
    // The library's control interface answers as the kernel does: with the key.
    expect(lab.dm.table('c').output).toBe(CRYPT);
    // dm-crypt has no status of its own.
    expect((await dmsetup(lab, ['status', 'c'])).output).toBe('0 8192 crypt');
  });

  it('a kernel keyring reference is shown (it holds no secret); other lines pass unchanged', () => {
    expect(hideKey('0 8 crypt aes-xts-plain64 :64:logon:cryptsetup:abc 0 /dev/sda 0')).toBe('0 8 crypt aes-xts-plain64 :64:logon:cryptsetup:abc 0 /dev/sda 0');
    expect(hideKey('0 8 crypt aes-cbc-essiv:sha256 00112233 0 /dev/sda 0 1 allow_discards')).toBe('0 8 crypt aes-cbc-essiv:sha256 00000000 0 /dev/sda 0 1 allow_discards');
    expect(hideKey('0 8 linear /dev/sda 0')).toBe('0 8 linear /dev/sda 0');
  });
});

describe('dmsetup info', () => {
  it('dmsetup\'s long format: state, read ahead, tables present, open count, event number, device number, targets, uuid', async () => {
    const lab = dmLab(3);
    expect((await dmsetup(lab, ['info'])).output).toBe('No devices found');
    expect((await dmsetup(lab, ['create', 'm', '--uuid', 'LVM-mirror0', '--table', '0 8192 raid raid1 1 0 2 - /dev/nullb0 - /dev/nullb1'])).res).toBe(0);
    create(lab, 'top', '0 4096 linear /dev/mapper/m 0\n4096 4096 linear /dev/mapper/m 4096');
    expect((await dmsetup(lab, ['info', 'm'])).output).toBe(
      ['Name:              m', 'State:             ACTIVE', 'Read Ahead:        256', 'Tables present:    LIVE', 'Open count:        1', 'Event number:      0', 'Major, minor:      253, 0', 'Number of targets: 1', 'UUID: LVM-mirror0', '', ''].join('\n'),
    );
    expect(lab.readSysfs('/sys/block/dm-0/dm/uuid').value).toBe('LVM-mirror0\n');
    // A leg failing, coming back and finishing its recovery: one table event each.
    await lab.dm.message('m', 0, ['fail', '1']);
    await lab.dm.message('m', 0, ['revive', '1']);
    await lab.dm.message('m', 0, ['resync']);
    expect((await dmsetup(lab, ['info', 'm'])).output).toMatch(/Event number: {6}3\n/);
    expect(lab.dm.reload('top', '0 8192 linear /dev/nullb2 0').res).toBe(0);
    await lab.dm.suspend('top');
    const all = (await dmsetup(lab, ['info'])).output!;
    expect(all).toMatch(/^Name: {14}m\n[^]*\n\nName: {14}top\nState: {13}SUSPENDED\nRead Ahead: {8}256\nTables present: {4}LIVE & INACTIVE\nOpen count: {8}0\nEvent number: {6}0\nMajor, minor: {6}253, 1\nNumber of targets: 2\n\n$/);
    expect(all).not.toMatch(/top[^]*UUID/);
  });

  it('refusals: a missing device, a taken or bad uuid, options a verb does not take', async () => {
    const lab = dmLab(2);
    create(lab, 'a', '0 8192 linear /dev/nullb0 0');
    expect(await dmsetup(lab, ['info', 'nosuch'])).toMatchObject({ res: -Errno.ENXIO, message: 'nosuch: no such dm device' });
    expect(await dmsetup(lab, ['create', 'b', '--uuid', 'U1', '--table', '0 8192 linear /dev/nullb1 0'])).toMatchObject({ res: 0 });
    expect(await dmsetup(lab, ['create', 'c', '--uuid', 'U1', '--table', '0 8 linear /dev/nullb1 8192'])).toMatchObject({ res: -Errno.EBUSY, message: 'c: uuid U1 is taken by b' });
    expect(await dmsetup(lab, ['create', 'c', '--uuid', 'has space', '--table', '0 8 linear /dev/nullb1 8192'])).toMatchObject({ res: -Errno.EINVAL, message: expect.stringMatching(/bad dm uuid "has space"/) });
    expect((await dmsetup(lab, ['create', 'c', '--uuid', 'x'.repeat(129), '--table', '0 8 linear /dev/nullb1 8192'])).res).toBe(-Errno.EINVAL);
    expect(dmsetupUsageError(['info', '--showkeys'])).toBe('dmsetup info: --showkeys applies to table only');
    expect(dmsetupUsageError(['table', '--uuid', 'x'])).toBe('dmsetup table: --uuid applies to create only');
    expect(dmsetupUsageError(['table', '--bogus'])).toBe('dmsetup table: unknown option --bogus (--showkeys)');
    expect(dmsetupUsageError(['create', 'x', '--uuid'])).toBe('usage: dmsetup create NAME --uuid UUID --table TABLE');
    // The scenario step's `table:` key is --table: with another verb it is refused when the scenario is parsed.
    expect(dmsetupUsageError(['message', 'm', '0', 'fail', '1', '--table', '0 8 linear /dev/nullb0 0'])).toBe('dmsetup message: --table applies to create, reload only');
    expect(await dmsetup(lab, ['info', '--showkeys'])).toMatchObject({ res: -Errno.EINVAL, message: 'dmsetup info: --showkeys applies to table only' });
  });

  it('on the command line: info, table --showkeys, create --uuid; an option a verb does not take is exit 2', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, ['bin/copylab.js', 'dmsetup', ...args], { encoding: 'utf8', timeout: 30_000 });
    const info = run('info', 'lin');
    expect(info.status).toBe(0);
    expect(info.stdout).toBe('Name:              lin\nState:             ACTIVE\nRead Ahead:        256\nTables present:    LIVE\nOpen count:        0\nEvent number:      0\nMajor, minor:      253, 0\nNumber of targets: 2\n\n');
    const c = run('create', 'c', '--uuid', 'CRYPT-1', '--table', '0 8192 crypt aes-cbc-essiv:sha256 00112233445566778899aabbccddeeff 0 /dev/nullb1 0 1 sector_size:4096');
    expect(c.stdout).toBe('0 8192 crypt aes-cbc-essiv:sha256 00000000000000000000000000000000 0 /dev/nullb1 0 1 sector_size:4096\n');
    const keys = run('table', '--showkeys', '--scenario', 'examples/dm-crypt.yaml');
    expect(keys.status).toBe(0);
    expect(keys.stdout).toMatch(/crypt aes-xts-plain64 [0-9a-f]*[1-9a-f][0-9a-f]* /);
    const bad = run('info', 'lin', '--showkeys');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown option '--showkeys'/);
    expect(run('info', 'nosuch')).toMatchObject({ status: 1, stderr: 'copylab: nosuch: no such dm device (ENXIO)\n' });
  });
});
