import { afterEach, describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { buildLab } from '../../src/app/scenario/run.js';
import type { Lab } from '../../src/app/lab.js';
import { runGcOnLab } from '../../src/app/gc/lab-backend.js';
import { GC_DEFAULTS, GcOptionError, type GcOptions } from '../../src/app/gc/options.js';
import { GcIntegrityError } from '../../src/app/gc/tag.js';

const YAML = `
devices:
  - { kind: nullblk, name: nullb0, size: 64MiB, lbs: 4096, backing: memory }
  - kind: nvme
    name: nvme0
    namespaces:
      - { size: 64MiB, lbs: 4096 }
      - { size: 64MiB, lbs: 4096, zoned: true, zone_size: 2MiB, zone_capacity: 1536KiB }
`;
let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});
const open = (): Lab => (lab = buildLab(parseScenarioText(YAML, 'test')));
const opts = (o: Partial<GcOptions>): GcOptions => ({ ...GC_DEFAULTS, spareFactor: 0.25, overwrites: 1.5, seed: 9, ...o });

describe('GC on lab block devices (bytes verified)', () => {
  it('nullblk, host path: moves read and written by the host, every block read back', async () => {
    const r = await runGcOnLab({ lab: open(), dev: '/dev/nullb0' }, opts({ path: 'host' }));
    expect(r.victims).toBeGreaterThan(0);

    expect(r.host_bytes).toBeGreaterThanOrEqual(2 * r.gc_moved_bytes);
    expect(r.verified_blocks).toBe(r.user_blocks);
  });
  it('nullblk, copy path: offloaded through the copy engine, no host bytes', async () => {
    const r = await runGcOnLab({ lab: open(), dev: '/dev/nullb0' }, opts({ path: 'copy' }));
    expect(r.victims).toBeGreaterThan(0);
    expect(r.host_bytes).toBe(0);
    expect(r.verified_blocks).toBe(r.user_blocks);
  });
  it.each(['host', 'copy', 'append', 'izc'] as const)('ZNS namespace (zone capacity below zone size), %s path', async (path) => {
    const r = await runGcOnLab({ lab: open(), dev: '/dev/nvme0n2' }, opts({ path }));
    expect(r.zoned).toBe(true);
    expect(r.section_bytes).toBe(1536 * 1024);
    expect(r.victims).toBeGreaterThan(0);
    expect(r.resets).toBeGreaterThan(0);
    expect(r.verified_blocks).toBe(r.user_blocks);
    if (path === 'copy' || path === 'izc') expect(r.host_bytes).toBe(0);
    else expect(r.host_bytes).toBeGreaterThanOrEqual(2 * r.gc_moved_bytes);
  });
  it('append and izc refuse a conventional device', async () => {
    await expect(runGcOnLab({ lab: open(), dev: '/dev/nvme0n1' }, opts({ path: 'izc' }))).rejects.toThrow(GcOptionError);
    await expect(runGcOnLab({ lab: open(), dev: '/dev/nullb0' }, opts({ path: 'append' }))).rejects.toThrow(GcOptionError);
  });
  it('an unknown device is an option error', async () => {
    await expect(runGcOnLab({ lab: open(), dev: '/dev/nope' }, opts({}))).rejects.toThrow(/--dev/);
  });
  it.each(['drop', 'misplace'] as const)('a GC bug (%s) on a conventional device fails the run on its data check', async (kind) => {
    await expect(runGcOnLab({ lab: open(), dev: '/dev/nullb0' }, opts({ path: 'copy', inject: { kind, at: 100 } }))).rejects.toThrow(GcIntegrityError);
  });
  it.each(['drop', 'misplace'] as const)('a GC bug (%s) on a ZNS namespace: the device refuses the write off the write pointer', async (kind) => {
    await expect(runGcOnLab({ lab: open(), dev: '/dev/nvme0n2' }, opts({ path: 'copy', inject: { kind, at: 100 } }))).rejects.toThrow(/GC copy failed|verify|GC read/);
  });
});
