import { afterEach, describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { buildLab } from '../../src/app/scenario/run.js';
import type { Lab } from '../../src/app/lab.js';
import { runGcOnLab } from '../../src/app/gc/lab-backend.js';
import { GC_DEFAULTS, GcOptionError, type GcOptions } from '../../src/app/gc/options.js';
import { GcIntegrityError } from '../../src/app/gc/tag.js';
import { COMMAND_KINDS } from '../../src/app/gc/paths.js';
import type { GcResult } from '../../src/app/gc/result.js';

const YAML = `
devices:
  - { kind: nullblk, name: nullb0, size: 64MiB, lbs: 4096, backing: memory }
  - { kind: nullblk, name: nullb1, size: 64MiB, lbs: 4096, backing: memory, copy_offload_min_bytes: 4MiB, discard: false }
  - kind: nvme
    name: nvme0
    namespaces:
      - { size: 64MiB, lbs: 4096 }
      - { size: 64MiB, lbs: 4096, zoned: true, zone_size: 2MiB, zone_capacity: 1536KiB }
      - { size: 64MiB, lbs: 4096, zoned: true, zone_size: 2MiB, timing: nvmevirt-zns }
`;
let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});
const open = (): Lab => (lab = buildLab(parseScenarioText(YAML, 'test')));
const opts = (o: Partial<GcOptions>): GcOptions => ({ ...GC_DEFAULTS, spareFactor: 0.25, overwrites: 1.5, seed: 9, ...o });

/** The command kinds of a run: each named one counted, the others zero, together the total. */
function expectCommands(r: GcResult, counted: readonly (typeof COMMAND_KINDS)[number][]): void {
  for (const k of COMMAND_KINDS) {
    if (counted.includes(k)) expect(r.gc[k], k).toBeGreaterThan(0);
    else expect(r.gc[k], k).toBe(0);
  }
  expect(COMMAND_KINDS.reduce((n, k) => n + r.gc[k], 0)).toBe(r.commands);
}

describe('GC on lab block devices (bytes verified)', () => {
  it('nullblk, host path: moves read and written by the host, every block read back', async () => {
    const r = await runGcOnLab({ lab: open(), dev: '/dev/nullb0' }, opts({ path: 'host' }));
    expect(r.victims).toBeGreaterThan(0);

    expect(r.host_bytes).toBeGreaterThanOrEqual(2 * r.gc_moved_bytes);
    expect(r.verified_blocks).toBe(r.user_blocks);
    // What the device counted: its reads and writes, and the discard that frees each section.
    expectCommands(r, ['reads', 'writes', 'reset_commands']);
    expect(r.gc.reset_commands).toBe(r.resets);
  });
  it('nullblk, copy path: offloaded through the copy engine, no host bytes', async () => {
    const r = await runGcOnLab({ lab: open(), dev: '/dev/nullb0' }, opts({ path: 'copy' }));
    expect(r.victims).toBeGreaterThan(0);
    expect(r.host_bytes).toBe(0);
    expect(r.verified_blocks).toBe(r.user_blocks);
    expectCommands(r, ['copies', 'reset_commands']);
    expect(r).toMatchObject({ copy_emulated_bytes: 0, copy_emulation: [], notes: [] });
  });
  it('copy path below copy_offload_min_bytes: said before the first write, emulated (reads and writes counted), and the result says why', async () => {
    const l = open();
    const notes: { note: string; writes: number }[] = [];
    const onNote = (note: string): void => void notes.push({ note, writes: l.findDevice('/dev/nullb1')!.stats.ios.write });
    const r = await runGcOnLab({ lab: l, dev: '/dev/nullb1' }, opts({ path: 'copy', overwrites: 0.5 }), { onNote });
    expect(notes).toHaveLength(1);
    expect(notes[0]!.writes).toBe(0);
    expect(notes[0]!.note).toMatch(/copies below nullb1's copy_offload_min_bytes \(4MiB\) are emulated .* every GC copy will be \(one carries at most a section, 2MiB\); it is set by the scenario key copy_offload_min_bytes of the nullblk device, or \/sys\/block\/nullb1\/queue\/copy_offload_min_bytes/);
    expect(r.notes).toEqual([notes[0]!.note]);
    expect(r.victims).toBeGreaterThan(0);
    // No discard on nullb1: a freed section sends no command.
    expectCommands(r, ['reads', 'writes']);
    expect(r.copy_emulated_bytes).toBeGreaterThanOrEqual(r.gc_moved_bytes);
    expect(r.host_bytes).toBe(2 * r.copy_emulated_bytes);
    expect(r.copy_emulation).toEqual([{ code: 'below_min', bytes: r.copy_emulated_bytes, detail: expect.stringMatching(/below nullb1's copy_offload_min_bytes \(4194304\)/) }]);
  });
  it.each(['copy', 'izc'] as const)('ZNS namespace whose zones are full capacity (zones end where the next begins), %s path: no command crosses a zone; timed, a series of the overwrites in modeled time', async (path) => {
    const r = await runGcOnLab({ lab: open(), dev: '/dev/nvme0n3' }, opts({ path, overwrites: 0.5, seriesPoints: 5 }));
    expect(r.verified_blocks).toBe(r.user_blocks);
    expect(r.series).toHaveLength(5);
    expect(r.series.every((p) => p.modeled_s > 0 && p.mbps > 0)).toBe(true);
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
    // Each path's commands under its kinds, a zone reset per section freed, together the total.
    expectCommands(r, [...({ host: ['reads', 'writes'], copy: ['copies'], append: ['reads', 'appends'], izc: ['compactions'] } as const)[path], 'reset_commands']);
    expect(r.gc.reset_commands).toBe(r.resets);
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
