import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

function copylab(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('copylab nvme', () => {
  it('id-ctrl --json reports ONCS Copy, OCFS and the subsystem NQN', () => {
    const r = copylab('nvme', 'id-ctrl', '/dev/nvme0', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.oncs & 0x100).toBe(0x100);
    expect(j.ocfs).toBe(0xf);
    expect(j.subnqn).toMatch(/^nqn\./);
  });

  it('id-ns shows the copy limits (QEMU defaults) and zone size of a zoned namespace', () => {
    const j = JSON.parse(copylab('nvme', 'id-ns', '/dev/nvme0n2', '--json').out);
    expect([j.mssrl, j.mcl, j.msrc]).toEqual([128, 128, 127]);
    expect(j.zsze).toBe(1024);
  });

  it('copy with nvme-cli options; a refused copy exits 1 with the status', () => {
    expect(copylab('nvme', 'copy', '/dev/nvme0n1', '--sdlba', '100', '--slbs', '0,8', '--blocks', '7,3').code).toBe(0);
    const bad = copylab('nvme', 'copy', '/dev/nvme0n1', '--sdlba', '4', '--slbs', '0', '--blocks', '7', '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).status).toBe(0x0187);
    const fmt2 = copylab('nvme', 'copy', '/dev/nvme0n2', '--sdlba', '0', '--slbs', '0', '--blocks', '0', '--snsids', '1', '--format', '2', '--json');
    expect(JSON.parse(fmt2.out).status).toBe(0x0002); // formats 2/3 not enabled
    // The refusal says what to change.
    expect(JSON.parse(fmt2.out).hint).toMatch(/set `cdfe: true` on nvme0/);
    const text = copylab('nvme', 'copy', '/dev/nvme0n2', '--sdlba', '0', '--slbs', '0', '--blocks', '0', '--snsids', '1', '--format', '2');
    expect(text.out).toMatch(/Invalid Field|INVALID_FIELD/i);
    expect(text.out).toMatch(/needs the host to enable it .*cdfe: true/);
  });

  it('zone-report on a conventional namespace says it is not a zoned namespace and names the zoned ones', () => {
    const r = copylab('nvme', 'zone-report', '/dev/nvme0n1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\/dev\/nvme0n1 is not a zoned namespace.*zoned namespaces of this lab: \/dev\/nvme0n2/);
  });

  it('a device the lab does not have: exit 2, and the message lists what the lab has', () => {
    const r = copylab('nvme', 'id-ns', '/dev/nvme1n1');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not an NVMe namespace of this lab; its NVMe namespaces: \/dev\/nvme0n1, \/dev\/nvme0n2 \(devices: .*\/dev\/sda/);
  });

  it('zone-report, zone-mgmt and passthru', () => {
    const rep = JSON.parse(copylab('nvme', 'zone-report', '/dev/nvme0n2', '-d', '2', '--json').out);
    expect(rep.nr_zones).toBe(16);
    expect(rep.zones[0]).toMatchObject({ slba: 0, wp: 0, state: 'EMPTY' });
    expect(copylab('nvme', 'zone-mgmt', '/dev/nvme0n2', '-a', 'finish', '--slba', '0').code).toBe(0);
    expect(copylab('nvme', 'zone-mgmt', '/dev/nvme0n2', '-a', 'open', '--slba', '1').code).toBe(1);
    const pt = JSON.parse(copylab('nvme', 'passthru', '/dev/nvme0n1', '-o', '0x02', '--cdw12', '0', '-l', '4096', '--json').out);
    expect(pt).toMatchObject({ status: 0, dw0: 0 });
    expect(copylab('nvme', 'id-ctrl', '/dev/sda').code).toBe(2);
  });
});
