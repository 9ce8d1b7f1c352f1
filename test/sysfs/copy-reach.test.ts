import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Errno } from '../../src/core/util/errno.js';
import { Lab } from '../../src/app/lab.js';
import { labDevices } from '../../src/app/cli/commands/lab.js';
import { MiB } from '../helpers.js';

const read = (lab: Lab, p: string): string | undefined => lab.readSysfs(p).value;

describe('what a device can copy to: sysfs and copylab lab', () => {
  it('copy_domain_members and copy_offload_to follow CDFE, copy domains and copy_max_bytes; ocfs and cdfe per controller', async () => {
    const lab = new Lab();
    try {
      const nvme0 = lab.addNvmeController({ name: 'nvme0', namespaces: [{ size: 8 * MiB }, { size: 8 * MiB }] });
      lab.addNvmeController({ name: 'nvme1', namespaces: [{ size: 8 * MiB }] });
      for (const [i, d] of ['d0', 'd0', null].entries()) lab.addNullBlk({ name: `nullb${i}`, size: 8 * MiB, backing: 'memory', domain: d });
      const q = (dev: string, attr: string) => read(lab, `/sys/block/${dev}/queue/${attr}`);
      expect(q('nvme0n1', 'copy_domain_members')).toBe('nvme0n1 nvme0n2');
      expect(q('nvme0n1', 'copy_offload_to')).toBe('nvme0n1');
      expect(q('nvme1n1', 'copy_offload_to')).toBe('nvme1n1');
      expect(read(lab, '/sys/class/nvme/nvme0/ocfs')).toBe('0xf');
      expect(read(lab, '/sys/class/nvme/nvme0/cdfe')).toBe('0x0');
      expect(nvme0.host.setCdfe(0b1100)).toBe(0);
      expect(read(lab, '/sys/class/nvme/nvme0/cdfe')).toBe('0xc');
      expect(q('nvme0n1', 'copy_offload_to')).toBe('nvme0n1 nvme0n2');
      expect(q('nullb0', 'copy_offload_to')).toBe('nullb0 nullb1');
      expect(q('nullb2', 'copy_domain_members')).toBe('nullb2');
      expect(lab.writeSysfs('/sys/block/nullb1/queue/copy_max_bytes', '0').res).toBeGreaterThanOrEqual(0);
      expect(q('nullb0', 'copy_offload_to')).toBe('nullb0');
      expect(q('nullb1', 'copy_offload_to')).toBe('');
      // Read-only; a dm device has neither (where its extents copy to depends on its table).
      expect(lab.writeSysfs('/sys/block/nullb0/queue/copy_offload_to', 'nullb1').res).toBe(-Errno.EACCES);
      expect(lab.dm.create('lin', '0 1024 linear /dev/nullb0 0').res).toBe(0);
      expect(lab.readSysfs('/sys/block/dm-0/queue/copy_offload_to').res).toBe(-Errno.ENOENT);
      const rows = labDevices(lab);
      expect(rows.find((r) => r.device === '/dev/nvme0n2')).toMatchObject({ copy_domain_members: ['nvme0n1', 'nvme0n2'], copy_offload_to: ['nvme0n1', 'nvme0n2'], copy_formats: [0, 1, 2, 3], copy_formats_enabled: [0, 1, 2, 3] });
      expect(rows.find((r) => r.device === '/dev/dm-0')).not.toHaveProperty('copy_offload_to');
    } finally {
      await lab.close();
    }
  });

  it('copylab lab names, per device, where its copies offload and why the rest of its domain refuses', () => {
    const r = spawnSync(process.execPath, ['bin/copylab.js', 'lab'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/NVMe Copy, nsid 1, formats 0\/1\/2\/3; from other namespaces \(formats 2\/3\): off \(CDFE\)/);
    expect(r.stdout).toMatch(/\n {2}nullb0 {2}→ nullb0, nullb2\n/);
    expect(r.stdout).toMatch(/\n {2}nullb1 {2}→ none \(nullb1 has copy offload disabled \(copy_max_bytes = 0\)\)\n/);
    expect(r.stdout).toMatch(/\n {2}nvme0n1 → nvme0n1; nvme0n2 refuses: cross-namespace copy from nvme0n1 needs descriptor format 2, not enabled by the host \(Host Behavior Support CDFE\)\n/);
    const json = spawnSync(process.execPath, ['bin/copylab.js', 'lab', '--json'], { encoding: 'utf8', timeout: 30_000 });
    const rows = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { device: string; copy_offload_to?: string[]; copy_formats_enabled?: number[] });
    expect(rows.find((x) => x.device === '/dev/nvme0n1')).toMatchObject({ copy_offload_to: ['nvme0n1'], copy_formats_enabled: [0, 1] });
  });
});
