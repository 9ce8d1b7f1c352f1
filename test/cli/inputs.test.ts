/**
 * Every command that reads a file, given a missing file and a directory: one line naming the file,
 * exit 2, never a stack trace. The commands that take --scenario are walked from the
 * registrations, so a new one is covered without being listed here. Commands run in this process
 * (runCommand, as bin/copylab.js calls it, an escaping exception counted as the binary's internal
 * error); two go through the built binary as well.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { makeProgram } from '../../src/app/cli/main.js';
import { runInProcess, type Ran } from '../in-process.js';

/** Runs the built command. */
function spawned(args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/copylab.js', ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code, err }));
  });
}

/** Runs the command line in this process (test/in-process.ts): exit 70 and the stack if it throws, as the binary. */
const copylab = (args: string[]): Promise<Ran> => runInProcess(args);

const dir = mkdtempSync(join(tmpdir(), 'copylab-inputs-'));
const missing = join(dir, 'missing.file');
writeFileSync(join(dir, 'j.fio'), '[j]\nfilename=/dev/nullb0\nrw=read\nbs=4k\nsize=64k\n');

/** Every command path with a --scenario option, and a command line that reaches the scenario. */
function scenarioCommands(c: Command, prefix: string[] = []): { name: string; args: (file: string) => string[] }[] {
  return c.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    const mine = sub.options.some((o) => o.long === '--scenario')
      ? [{
          name: `${path.join(' ')} --scenario`,
          args: (file: string) => [
            ...path,
            // Positional arguments and required options get a placeholder: the scenario is read first.
            ...(ARGUMENTS[path.join(' ')] ?? sub.registeredArguments.filter((a) => a.required).map(() => '0')),
            ...sub.options.filter((o) => o.mandatory).flatMap((o) => [o.long!, '0']),
            ...(EXTRA[path.join(' ')] ?? []),
            '--scenario',
            file,
          ],
        }]
      : [];
    return [...mine, ...scenarioCommands(sub, path)];
  });
}

/** Positional arguments read before the scenario must be usable: a job file. */
const ARGUMENTS: Record<string, string[]> = {
  bench: [join(dir, 'j.fio')],
};

/** What a command needs besides the scenario to get as far as reading it. */
const EXTRA: Record<string, string[]> = {
  gc: ['--dev', '/dev/nullb0'],
  'gc sweep': ['--dev', '/dev/nullb0'],
  heuristic: ['/dev/nullb0'],
  'dmsetup create': ['--table', '0 8 zero'],
  'dmsetup reload': ['--table', '0 8 zero'],
};

const FILE_ARGUMENTS: { name: string; args: (file: string) => string[] }[] = [
  { name: 'run <scenario>', args: (f) => ['run', f] },
  { name: 'compare-strategies <scenario>', args: (f) => ['compare-strategies', f] },
  // The older form knows a scenario by its .yaml name (or because it exists).
  { name: 'dmsetup <scenario> (the older form)', args: (f) => ['dmsetup', f === missing ? join(dir, 'missing.yaml') : f, 'ls'] },
  { name: 'trace <file>', args: (f) => ['trace', f] },
  { name: 'trace <file> --summary', args: (f) => ['trace', f, '--summary'] },
  { name: 'plot <results>', args: (f) => ['plot', f, '-o', join(dir, 'x.svg')] },
  { name: 'bench <jobfile>', args: (f) => ['bench', f] },
  { name: 'gc import-blkparse <input>', args: (f) => ['gc', 'import-blkparse', f, join(dir, 'o.mpk')] },
  { name: 'gc --workload trace:FILE', args: (f) => ['gc', '--size', '64MiB', '--workload', `trace:${f}`] },
];

const ALL = [...FILE_ARGUMENTS, ...scenarioCommands(makeProgram(() => {}))];

function expectRefused(r: { code: number | null; err: string }, file: string, why: RegExp): void {
  expect(r.code, r.err).toBe(2);
  expect(r.err).toContain(file.replace(/\.file$/, ''));
  expect(r.err).toMatch(why);
  expect(r.err.trim().split('\n'), r.err).toHaveLength(1);
  expect(r.err).not.toMatch(/internal error|    at |node:internal|Unhandled/);
}

describe('every input-reading command: a missing file and a directory', () => {
  it('walks the commands that take --scenario', () => {
    const names = ALL.map((c) => c.name);
    for (const n of ['lab --scenario', 'gc --scenario', 'bench --scenario', 'shell --scenario', 'serve iscsi --scenario', 'nvme copy --scenario', 'scsi raw --scenario', 'dmsetup message --scenario', 'sysfs write --scenario', 'heuristic --scenario']) expect(names).toContain(n);
  });

  it.each(ALL.map((c) => [c.name, c] as const))('%s: a missing file and a directory', async (_name, c) => {
    expectRefused(await copylab(c.args(missing)), missing, /cannot read: ENOENT/);
    expectRefused(await copylab(c.args(dir)), dir, /a directory, not a regular file or a pipe/);
  });

  it('the built binary answers the same (run, lab --scenario)', async () => {
    const [a, b] = await Promise.all([spawned(['run', missing]), spawned(['lab', '--scenario', dir])]);
    expectRefused(a, missing, /cannot read: ENOENT/);
    expectRefused(b, dir, /a directory, not a regular file or a pipe/);
  });
});
