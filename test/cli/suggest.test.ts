import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { makeProgram } from '../../src/app/cli/main.js';
import { unknownCommandMessage } from '../../src/app/cli/suggest.js';
import { isNear } from '../../src/app/scenario/fields.js';

const program = makeProgram(() => {});
const group = (name: string) => program.commands.find((c) => c.name() === name)!;

describe('an unknown command gets the nearest', () => {
  it('at the top: a command, a scenario step of that name, a subcommand of another command', () => {
    expect(unknownCommandMessage(program, 'cpy')).toBe("unknown command 'cpy'; did you mean the copy step, a line `copy: { … }` in `copylab shell` or a scenario (`copylab explain copy`) or `copylab nvme copy` or `copylab fs cp`? (`copylab --help` lists the commands)");
    expect(unknownCommandMessage(program, 'dmsetp')).toBe("unknown command 'dmsetp'; did you mean `copylab dmsetup`? (`copylab --help` lists the commands)");
    expect(unknownCommandMessage(program, 'zone-reprot')).toMatch(/did you mean `copylab nvme zone-report`\?/);
    expect(unknownCommandMessage(program, 'frobnicate')).toBe("unknown command 'frobnicate' (`copylab --help` lists the commands)");
  });

  it('inside a command: its own subcommands', () => {
    expect(unknownCommandMessage(group('sysfs'), 'kat')).toBe("sysfs: unknown command 'kat'; did you mean `copylab sysfs cat`? (`copylab sysfs --help` lists its commands)");
    expect(unknownCommandMessage(group('nvme'), 'cpy')).toMatch(/^nvme: unknown command 'cpy'; did you mean `copylab nvme copy`\?/);
  });

  it('near is a few edits: one up to five letters, two beyond, a swap counting once', () => {
    expect(isNear('cpy', 'copy')).toBe(true);
    expect(isNear('x', 'gc')).toBe(false);
    expect(isNear('ls', 'lab')).toBe(false);
    expect(isNear('dmsetp', 'dmsetup')).toBe(true);
    expect(isNear('stauts', 'status')).toBe(true);
    expect(isNear('compare', 'compare-strategies')).toBe(false);
  });

  it('on the command line and in the shell: one line on stderr, exit 2', () => {
    const r = spawnSync(process.execPath, ['bin/copylab.js', 'cpy'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("copylab: unknown command 'cpy'; did you mean the copy step, a line `copy: { … }` in `copylab shell` or a scenario (`copylab explain copy`) or `copylab nvme copy` or `copylab fs cp`? (`copylab --help` lists the commands)\n");
    const d = spawnSync(process.execPath, ['bin/copylab.js', 'dmsetup', 'inf', 'lin'], { encoding: 'utf8', timeout: 30_000 });
    expect(d).toMatchObject({ status: 2, stderr: 'copylab: dmsetup: unknown dmsetup command "inf"; did you mean info? (create, table, status, info, reload, suspend, resume, remove, ls, message)\n' });
    const sh = spawnSync(process.execPath, ['bin/copylab.js', 'shell'], { input: 'sysfs kat /sys/block/nullb0/size\nsysfs cat /sys/block/nullb0/size\n', encoding: 'utf8', timeout: 30_000 });
    expect(sh.status).toBe(2);
    expect(sh.stderr).toBe("copylab: sysfs: unknown command 'kat'; did you mean `copylab sysfs cat`? (`copylab sysfs --help` lists its commands)\n");
    expect(sh.stdout).toMatch(/copylab> sysfs cat \/sys\/block\/nullb0\/size\n131072\n/);
  });
});
