import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/app/lab.js';
import type { CopyResult } from '../../src/core/block/copy/types.js';
import { create, fill, expectCopied, MiB } from './helpers.js';

/** A lab with NVMe controllers: nvme0 with `ns0` namespaces, nvme1 with one (another subsystem, another copy domain). */
function nvmeLab(ns0: number, cdfe = false): Lab {
  const lab = new Lab();
  lab.addNvmeController({ name: 'nvme0', cdfe, namespaces: Array.from({ length: ns0 }, () => ({ size: 16 * MiB, lbs: 4096 })) });
  lab.addNvmeController({ name: 'nvme1', namespaces: [{ size: 16 * MiB, lbs: 4096 }] });
  return lab;
}

const MIRROR = '0 32768 raid raid1 1 0 2 - /dev/nvme0n1 - /dev/nvme0n2';
const sourcePicks = (r: CopyResult): string[] => r.trace.events.filter((e) => e.action === 'A' && / source /.test(e.info ?? '')).map((e) => `${e.dev} ${e.info!}`);

describe('raid1: the source leg each destination leg can offload from', () => {
  it('two namespaces of one controller, CDFE off: every piece offloaded, each leg copying from itself; the trace says which and why', async () => {
    const lab = nvmeLab(2);
    try {
      create(lab, 'mirror', MIRROR);
      await fill(lab, '/dev/mapper/mirror', 0, 4 * MiB, 1);
      const r = await lab.copy('/dev/mapper/mirror', [{ srcOffset: 0, dstOffset: 8 * MiB, length: 4 * MiB }]);
      expect(r).toMatchObject({ res: 4 * MiB, path: 'offload', host_bytes: 0, offloaded_bytes: 8 * MiB, emulated_bytes: 0 });
      expect(r.pieces.every((p) => p.path === 'offload')).toBe(true);
      expect(r.pieces.map((p) => p.dev).sort()).toEqual([...Array(8).fill('nvme0n1'), ...Array(8).fill('nvme0n2')]);
      const picks = sourcePicks(r);
      expect(picks).toHaveLength(2);
      expect(picks[0]).toMatch(/^nvme0n1 .*raid1 source nvme0n1 \(one of 2 copies\): offloads to nvme0n1 \(its own device\); not nvme0n2: cross-namespace copy from nvme0n2 needs descriptor format 2, not enabled by the host/);
      expect(picks[1]).toMatch(/^nvme0n2 .*raid1 source nvme0n2 \(one of 2 copies\): offloads to nvme0n2 \(its own device\); not nvme0n1: cross-namespace copy from nvme0n1/);
      for (const leg of ['nvme0n1', 'nvme0n2']) await expectCopied(lab, leg, 8 * MiB, 4 * MiB, 1, 0);
    } finally {
      await lab.close();
    }
  });

  it('the token strategy names both legs and each destination leg takes its own; paired passes no raid1 copy bio (the 2024 series) and emulates', async () => {
    const lab = nvmeLab(2);
    try {
      create(lab, 'mirror', MIRROR);
      await fill(lab, '/dev/mapper/mirror', 0, MiB, 2);
      const t = await lab.copy('/dev/mapper/mirror', [{ srcOffset: 0, dstOffset: 4 * MiB, length: MiB }], { strategy: 'token' });
      expect(t).toMatchObject({ path: 'offload', host_bytes: 0, offloaded_bytes: 2 * MiB });
      expect(sourcePicks(t)).toEqual([expect.stringMatching(/^nvme0n1 token: source nvme0n1 \(one of 2 copies\) for nvme0n1: offloads \(its own device\)/), expect.stringMatching(/^nvme0n2 token: source nvme0n2 \(one of 2 copies\) for nvme0n2: offloads/)]);
      const p = await lab.copy('/dev/mapper/mirror', [{ srcOffset: 0, dstOffset: 6 * MiB, length: MiB }], { strategy: 'paired' });
      expect(p.path).toBe('emulated');
      expect(p.reasons.join()).toMatch(/raid1 target does not pass copy bios/);
      for (const leg of ['nvme0n1', 'nvme0n2']) for (const at of [4 * MiB, 6 * MiB]) await expectCopied(lab, leg, at, MiB, 2, 0);
    } finally {
      await lab.close();
    }
  });

  it('legs on two controllers (two copy domains): each leg still copies from itself, offloaded', async () => {
    const lab = nvmeLab(1);
    try {
      create(lab, 'mirror', '0 32768 raid raid1 1 0 2 - /dev/nvme0n1 - /dev/nvme1n1');
      await fill(lab, '/dev/mapper/mirror', 0, MiB, 3);
      const r = await lab.copy('/dev/mapper/mirror', [{ srcOffset: 0, dstOffset: 4 * MiB, length: MiB }]);
      expect(r).toMatchObject({ path: 'offload', host_bytes: 0, offloaded_bytes: 2 * MiB });
      expect(sourcePicks(r)[1]).toMatch(/source nvme1n1 .*: offloads to nvme1n1 \(its own device\); not nvme0n1: nvme0n1 \(domain .*subsys.nvme0\) and nvme1n1 \(domain .*subsys.nvme1\) are not in one copy domain/);
      for (const leg of ['nvme0n1', 'nvme1n1']) await expectCopied(lab, leg, 4 * MiB, MiB, 3, 0);
    } finally {
      await lab.close();
    }
  });

  it('no leg in the destination\'s domain: emulated, the reason naming every leg and why', async () => {
    const lab = nvmeLab(2);
    try {
      create(lab, 'mirror', MIRROR);
      await fill(lab, '/dev/mapper/mirror', 0, MiB, 4);
      const r = await lab.copy('/dev/nvme1n1', [{ src: '/dev/mapper/mirror', srcOffset: 0, dstOffset: 2 * MiB, length: MiB }]);
      expect(r).toMatchObject({ res: MiB, path: 'emulated', host_bytes: 2 * MiB });
      expect(r.pieces.every((p) => p.reason?.code === 'cross_domain')).toBe(true);
      expect(r.reasons).toEqual([expect.stringMatching(/^no raid1 copy can be offloaded to nvme1n1 \(nvme0n1: nvme0n1 \(domain .*\) and nvme1n1 .* not in one copy domain; nvme0n2: nvme0n2 \(domain .*\) and nvme1n1 .* not in one copy domain\)$/)]);
      expect(sourcePicks(r)).toEqual([expect.stringMatching(/^nvme0n1 .*raid1 source nvme0n1: no raid1 copy can be offloaded to nvme1n1 .*; emulated$/)]);
      await expectCopied(lab, 'nvme1n1', 2 * MiB, MiB, 4, 0);
    } finally {
      await lab.close();
    }
  });

  it('the second leg when only it reaches the destination (copy domains of nullblk devices)', async () => {
    const lab = new Lab();
    for (const [i, d] of ['d1', 'd0', 'd0'].entries()) lab.addNullBlk({ name: `nullb${i}`, size: 8 * MiB, lbs: 512, backing: 'memory', domain: d });
    create(lab, 'm', '0 8192 raid raid1 1 0 2 - /dev/nullb0 - /dev/nullb1');
    await fill(lab, '/dev/mapper/m', 0, MiB, 5);
    for (const strategy of ['vectored', 'token'] as const) {
      const at = strategy === 'vectored' ? 0 : 2 * MiB;
      const r = await lab.copy('nullb2', [{ src: '/dev/mapper/m', srcOffset: 0, dstOffset: at, length: MiB }], { strategy });
      expect(r, strategy).toMatchObject({ path: 'offload', host_bytes: 0 });
      expect(sourcePicks(r).join('\n'), strategy).toMatch(/source nullb1 \(one of 2 copies\).*offloads/);
      await expectCopied(lab, 'nullb2', at, MiB, 5, 0);
    }
  });

  it('legs that are themselves stacked (raid1 over dm-linear over namespaces): the choice looks through them', async () => {
    const lab = nvmeLab(2);
    try {
      create(lab, 'l1', '0 32768 linear /dev/nvme0n1 0');
      create(lab, 'l2', '0 32768 linear /dev/nvme0n2 0');
      create(lab, 'mirror', '0 32768 raid raid1 1 0 2 - /dev/mapper/l1 - /dev/mapper/l2');
      await fill(lab, '/dev/mapper/mirror', 0, MiB, 6);
      const r = await lab.copy('/dev/mapper/mirror', [{ srcOffset: 0, dstOffset: 4 * MiB, length: MiB }]);
      expect(r).toMatchObject({ path: 'offload', host_bytes: 0, offloaded_bytes: 2 * MiB });
      expect(sourcePicks(r)[1]).toMatch(/raid1 source dm-1 \(one of 2 copies\): offloads to dm-1 \(its own device\); not dm-0: cross-namespace copy from nvme0n1/);
      for (const leg of ['nvme0n1', 'nvme0n2']) await expectCopied(lab, leg, 4 * MiB, MiB, 6, 0);
    } finally {
      await lab.close();
    }
  });
});
