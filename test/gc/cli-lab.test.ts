import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMAND_KINDS } from '../../src/app/gc/paths.js';
import type { GcResult } from '../../src/app/gc/result.js';

/** `copylab gc` on scenario devices, as a user runs it (the built command). */
function copylab(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const tmp = (): string => mkdtempSync(join(tmpdir(), 'copylab-gc-lab-'));
const IZC = 'examples/gc-izc.yaml';
const kindsSum = (r: GcResult): number => COMMAND_KINDS.reduce((n, k) => n + r.gc[k], 0);

describe('copylab gc --scenario F --dev D', () => {
  it("takes what the command line leaves out from the scenario's gc step, says so, and counts the device's commands by kind", () => {
    const r = copylab('gc', '--scenario', IZC, '--dev', '/dev/nvme0n1', '--path', 'copy', '--json');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^copylab gc: note: from the scenario's gc step on \/dev\/nvme0n1: --spare-factor 0\.25, --overwrites 0\.6 \(options on the command line override it\)\n$/);
    const o = JSON.parse(r.out) as GcResult;
    expect(o).toMatchObject({ path: 'copy', spare_factor: 0.25, host_bytes: 0, copy_emulated_bytes: 0, notes: [] });
    expect(o.gc.copies).toBeGreaterThan(0);
    expect(kindsSum(o)).toBe(o.commands);
    // An option given on the command line wins over the step's.
    const sf = copylab('gc', '--scenario', IZC, '--dev', '/dev/nvme0n1', '--spare-factor', '0.3', '--overwrites', '0.2', '--path', 'izc', '--json');
    expect(sf.code).toBe(0);
    expect(sf.err).toBe('');
    expect(JSON.parse(sf.out)).toMatchObject({ spare_factor: 0.3, path: 'izc' });
  });

  it('says before the run that copies below copy_offload_min_bytes will be emulated, naming the key; the result says it too', () => {
    const dir = tmp();
    const f = join(dir, 'gc-min.yaml');
    writeFileSync(f, readFileSync(IZC, 'utf8').replace('msrc: 255 }', 'msrc: 255, copy_offload_min_bytes: 4MiB }'));
    const r = copylab('gc', '--scenario', f, '--dev', '/dev/nvme0n1', '--path', 'copy');
    expect(r.code).toBe(0);
    const note = /copylab gc: note: copies below nvme0n1's copy_offload_min_bytes \(4MiB\) are emulated \(read and written by the host\), so every GC copy will be \(one carries at most a section, 768KiB\); it is set by the scenario key copy_offload_min_bytes of the namespace, or \/sys\/block\/nvme0n1\/queue\/copy_offload_min_bytes\n/;
    expect(r.err).toMatch(note);
    expect(r.out).toMatch(/│ note +│ copies below nvme0n1's copy_offload_min_bytes \(4MiB\)/);
    expect(r.out).toMatch(/│ copies emulated +│ 19\.45 MiB, read and written by the host: below_min/);
    // The issue's figures, now adding up: 1431 reads + 75 writes + 33 zone resets.
    expect(r.out).toMatch(/│ GC commands +│ 1539 \(reads 1431, writes 75, copies 0, appends 0, compactions 0, resets 33\); 33 sections reset/);
    expect(r.out).toMatch(/│ host bytes \(GC\) +│ 38\.90 MiB/);
  });

  it("a scenario's gc step whose copies the device emulated says so in its line, beside the expectation it missed", () => {
    const dir = tmp();
    const f = join(dir, 'gc-step.yaml');
    writeFileSync(f, readFileSync(IZC, 'utf8').replace('msrc: 255 }', 'msrc: 255, copy_offload_min_bytes: 4MiB }').replace('path: izc', 'path: copy').replace('overwrites: 0.6', 'overwrites: 0.4'));
    const r = copylab('run', f, '--json');
    expect(r.code).toBe(1);
    const step = JSON.parse(r.out.split('\n')[0]!) as { ok: boolean; message: string };
    expect(step.ok).toBe(false);
    expect(step.message).toMatch(/^host bytes \d+, expected 0; \d+ bytes of GC copies emulated \(below_min\)$/);
  });

  it('--timing on a lab device names its own preset or is refused (exit 2) before the run', () => {
    const r = copylab('gc', '--scenario', IZC, '--dev', '/dev/nvme0n1', '--timing', 'femu');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--timing: nvme0n1's timing model is the scenario's \(nvmevirt-zns\): set timing: femu on it in the scenario/);
  });

  it('--plot on a timed lab device writes the SVG of its run over modeled time', () => {
    const svg = join(tmp(), 'gc.svg');
    const r = copylab('gc', '--scenario', IZC, '--dev', '/dev/nvme0n1', '--path', 'izc', '--overwrites', '0.3', '--plot', svg, '--json');
    expect(r.code).toBe(0);
    const text = readFileSync(svg, 'utf8');
    expect(text.startsWith('<svg')).toBe(true);
    expect(text).toMatch(/p99\.9 write latency/);
    expect(text).toMatch(/izc/);
  });

  it('--plot with no timing model is refused before the run (exit 2), naming what would give one; nothing is written', () => {
    const dir = tmp();
    const svg = join(dir, 'gc.svg');
    const untimed = join(dir, 'nullb.yaml');
    writeFileSync(untimed, 'devices:\n  - { kind: nullblk, name: nullb0, size: 64MiB, lbs: 4096 }\n');
    let r = copylab('gc', '--scenario', untimed, '--dev', '/dev/nullb0', '--spare-factor', '0.25', '--plot', svg);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--plot: nothing to plot: .*\/dev\/nullb0 has no timing model; set timing: PRESET on it in the scenario/);
    expect(r.out).toBe('');
    r = copylab('gc', '--size', '64MiB', '--plot', svg);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--plot: nothing to plot: .*give --timing PRESET/);
    r = copylab('gc', 'sweep', '--size', '64MiB', '--spare-factors', '0.2', '--policies', 'greedy', '--plot', svg);
    expect(r.code).toBe(2);
    expect(existsSync(svg)).toBe(false);
  });
});
