import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { makeProgram } from '../../src/app/cli/main.js';
import { runInProcess } from '../in-process.js';

/** Every command path of the program (`nvme copy`, `dmsetup suspend`, …), walked from the registrations. */
function paths(c: Command, prefix: string[] = []): string[][] {
  return c.commands.flatMap((sub) => [[...prefix, sub.name()], ...paths(sub, [...prefix, sub.name()])]);
}

const all = paths(makeProgram(() => {}));

describe('help for every command and subcommand', () => {
  it('covers the commands plug-ins register (walked, not listed by hand)', () => {
    const names = all.map((p) => p.join(' '));
    for (const c of ['run', 'lab', 'schema', 'explain', 'shell', 'dmsetup suspend', 'nvme zone-report', 'scsi populate-token', 'sysfs write', 'serve iscsi']) expect(names).toContain(c);
  });

  it.each(all.map((p) => [p.join(' '), p]))('copylab %s --help exits 0 and describes it', async (_name, p) => {
    const cmd = (p as string[]).reduce<Command>((c, n) => c.commands.find((x) => x.name() === n)!, makeProgram(() => {}));
    expect(cmd.description().length, (p as string[]).join(' ')).toBeGreaterThan(10);
    const r = await runInProcess([...(p as string[]), '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: copylab /);
  });

  it('copylab dmsetup --help works from the command line (it used to error)', () => {
    const r = spawnSync(process.execPath, ['bin/copylab.js', 'dmsetup', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/suspend \[options\] <name> +wait for bios in flight/);
  });

  it('the older dmsetup form (scenario first) still works', () => {
    const r = spawnSync(process.execPath, ['bin/copylab.js', 'dmsetup', 'examples/dm-raid1.yaml', 'table', 'mirror'], { encoding: 'utf8' });
    expect(r.stdout).toBe('0 32768 raid raid1 3 0 region_size 1024 2 - /dev/nullb0 - /dev/nullb1\n');
  });
});
