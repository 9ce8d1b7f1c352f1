/**
 * Every output a command writes, against a full device (/dev/full), a directory and a missing
 * folder: one line on stderr, no stack trace, no "internal error"; exit 2 when the output is
 * refused before the work, 1 when a full disk is found after it (with what was written). Standard
 * output that cannot be written (ENOSPC, a closed pipe) is handled once for the whole CLI.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { makeProgram } from '../../src/app/cli/main.js';

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

function copylab(args: string[], stdout: 'pipe' | number = 'pipe'): Ran {
  const r = spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', stdout, 'pipe'] });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr };
}

/** The same, without waiting: the three targets of one output run side by side. */
function copylabAsync(args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/copylab.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

/** One line on stderr besides advisory warnings (a short bench job's), no stack trace, no internal error. */
function expectOneLine(r: { err: string }, message: RegExp): void {
  expect(r.err).toMatch(message);
  expect(r.err.trim().split('\n').filter((l) => !/^copylab: warning: /.test(l)), r.err).toHaveLength(1);
  expect(r.err).not.toMatch(/internal error|    at |node:internal|Error:/);
}

const dir = mkdtempSync(join(tmpdir(), 'copylab-outputs-'));
const at = (name: string): string => join(dir, name);

/** The output options of every command, walked from the registrations (`gc sweep --plot`, `gc import-blkparse <output>`). */
function outputsOf(c: Command, prefix: string[] = []): string[] {
  const OUTPUT_OPTIONS = new Set(['--trace-out', '--series-out', '--plot', '--output']);
  return c.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    const own = [
      ...sub.options.filter((o) => o.long !== undefined && OUTPUT_OPTIONS.has(o.long)).map((o) => `${path.join(' ')} ${o.long}`),
      ...sub.registeredArguments.filter((a) => /^(output|out)$/.test(a.name())).map((a) => `${path.join(' ')} <${a.name()}>`),
    ];
    return [...own, ...outputsOf(sub, path)];
  });
}

const GC_RUN = ['--size', '64MiB', '--spare-factor', '0.2', '--overwrites', '1'];

/**
 * How to run each output, and its exit code on /dev/full: 2 when the first bytes are written
 * before the work (a trace file's header) or the option is refused, 1 when the full device is found
 * once the work is done.
 */
const CASES: Record<string, { args: (out: string) => string[]; full: 1 | 2; refused?: RegExp }> = {
  'run --trace-out': { args: (o) => ['run', '--trace-out', o], full: 2 },
  'bench --trace-out': { args: (o) => ['bench', at('j.fio'), '--trace-out', o], full: 2 },
  'bench --plot': { args: (o) => ['bench', at('j.fio'), '--plot', o], full: 1 },
  'plot --output': { args: (o) => ['plot', at('results.json'), '-o', o], full: 1 },
  'gc --series-out': { args: (o) => ['gc', ...GC_RUN, '--series-out', o], full: 1 },
  'gc --trace-out': { args: (o) => ['gc', '--scenario', at('lab.yaml'), '--dev', '/dev/nullb0', '--spare-factor', '0.25', '--overwrites', '0.5', '--trace-out', o], full: 2 },
  'gc --plot': { args: (o) => ['gc', ...GC_RUN, '--timing', 'femu', '--plot', o], full: 1 },
  'gc sweep --plot': { args: (o) => ['gc', 'sweep', ...GC_RUN, '--spare-factors', '0.2,0.3', '--policies', 'greedy', '--plot', o], full: 1 },
  'gc sweep --series-out': { args: (o) => ['gc', 'sweep', ...GC_RUN, '--series-out', o], full: 2, refused: /--series-out: a sweep writes no time series/ },
  'gc sweep --trace-out': { args: (o) => ['gc', 'sweep', ...GC_RUN, '--trace-out', o], full: 2, refused: /--trace-out: a sweep writes no trace \(run one gc on a lab device for that\)/ },
  'gc import-blkparse <output>': { args: (o) => ['gc', 'import-blkparse', at('blk.txt'), o], full: 1 },
  'heuristic --plot': { args: (o) => ['heuristic', '--timing', 'femu', '--plot', o], full: 1 },
};

beforeAll(() => {
  writeFileSync(at('j.fio'), '[j]\nfilename=/dev/nullb0\nrw=read\nbs=4k\nsize=64k\n');
  writeFileSync(at('lab.yaml'), 'devices:\n  - { kind: nullblk, name: nullb0, size: 64MiB, lbs: 4096, backing: memory, copy_max_hw_bytes: 1MiB }\n');
  writeFileSync(at('blk.txt'), '  8,0    0        1     0.000000000   100  Q   W 0 + 64 [fio]\n');
  const r = copylab(['bench', at('j.fio'), '--output-format', 'json']);
  expect(r.code).toBe(0);
  writeFileSync(at('results.json'), r.out);
});

describe('every output option against /dev/full, a directory and a missing folder', () => {
  it('the cases cover every output option the commands register (walked, not listed by hand)', () => {
    expect(outputsOf(makeProgram(() => {})).sort()).toEqual(Object.keys(CASES).sort());
  });

  it.each(Object.keys(CASES))('%s: a directory, a missing folder, /dev/full', async (name) => {
    const c = CASES[name]!;
    const out = join(dir, `no-such-folder-${name.replace(/\W+/g, '-')}`, 'out');
    const [folder, gone, full] = await Promise.all([copylabAsync(c.args(dir)), copylabAsync(c.args(out)), copylabAsync(c.args('/dev/full'))]);
    expect(folder.code, folder.err).toBe(2);
    expectOneLine(folder, c.refused ?? new RegExp(`^copylab: cannot write ${dir}: is a directory$`, 'm'));
    expect(gone.code, gone.err).toBe(2);
    expectOneLine(gone, c.refused ?? /cannot write .*no-such-folder-[\w-]+\/out: no such file or directory$/m);
    expect(existsSync(join(out, '..'))).toBe(false);
    expect(full.code, full.err).toBe(c.full);
    // After the work, the line says how much reached the file (none: /dev/full takes nothing).
    expectOneLine(full, c.refused ?? (c.full === 1 ? /^copylab: cannot write \/dev\/full: no space left on device \(0 of \d+ bytes written\)$/m : /^copylab: cannot write \/dev\/full: no space left on device$/m));
  });

  it('after the work, the result is printed before the output that failed', () => {
    const r = copylab(['gc', ...GC_RUN, '--json', '--series-out', '/dev/full']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toHaveProperty('waf');
  });
});

describe('standard output', () => {
  it('run > /dev/full: one line, exit 1, no uncaught exception', () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = copylab(['run'], fd);
      expect(r.code).toBe(1);
      expectOneLine(r, /^copylab: cannot write standard output: no space left on device$/m);
    } finally {
      closeSync(fd);
    }
  });

  it('a closed pipe (EPIPE) ends the command quietly with its exit code', async () => {
    const p = spawn(process.execPath, ['bin/copylab.js', 'schema'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The reading end is closed before the command writes: its first write gets EPIPE.
    p.stdout.destroy();
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
    expect(err).toBe('');
    expect(code).toBe(0);
  });
});
