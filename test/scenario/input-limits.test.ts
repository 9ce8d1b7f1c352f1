/**
 * Bounded input and the documented exit codes (docs/reliability.md). Command lines run in this
 * process (runCommand, as bin/copylab.js calls it; an escaping exception counts as the binary's
 * internal error, exit 70 with its stack), with standard output and error captured. The cases
 * that need a real standard input (a pipe read to its cap, `-` and /dev/stdin) go through the
 * built binary, as a user runs it (npm test builds dist/ first), all at once.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess, type Ran } from '../in-process.js';

/** Runs the command line in this process (test/in-process.ts), its standard output and error captured. */
const copylab = (args: string[]): Promise<Ran> => runInProcess(args);

/** Runs the built command with `input` piped to its standard input. The timeout guards a hang. */
function spawned(args: string[], input: Buffer): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/copylab.js', ...args], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // The command stops reading at its cap and exits: the rest of the pipe is refused (EPIPE).
    p.stdin.on('error', () => {});
    p.stdin.end(input);
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'copylab-limits-'));
function file(name: string, text: string | Buffer): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** A usage error: exit 2 and one line on stderr naming what is wrong (no stack trace). */
function expectUsage(r: { code: number | null; err: string }, message: RegExp): void {
  expect(r.code, r.err).toBe(2);
  expect(r.err).toMatch(message);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).not.toMatch(/internal error|    at /);
}

const NULLB = 'devices: [ { kind: nullblk, name: nullb0, size: 1MiB } ]\n';
const NVME = 'devices: [ { kind: nvme, name: nvme0, namespaces: [ { size: 4MiB, lbs: 4096 } ] } ]\n';

describe('bounded input: scenario and data files', async () => {
  it('a character device (/dev/zero, /dev/urandom) is refused without being read', async () => {
    expectUsage(await copylab(['run', '/dev/zero']), /\/dev\/zero: a character device/);
    expectUsage(await copylab(['run', '/dev/urandom']), /\/dev\/urandom: a character device/);
    expectUsage(await copylab(['nvme', 'id-ctrl', '/dev/nvme0', '--scenario', '/dev/zero']), /\/dev\/zero: a character device/);
  });

  it('a pipe is read up to the 4 MiB cap and no further (the built binary, its standard input a real pipe)', async () => {
    const [viaDevice, viaDash, good] = await Promise.all([
      spawned(['run', '/dev/stdin'], Buffer.alloc(5 * 1024 * 1024, 0x20)),
      spawned(['run', '-'], Buffer.alloc(5 * 1024 * 1024, 0x20)),
      spawned(['run', '/dev/stdin'], Buffer.from(`${NULLB}steps: [ { flush: { dev: /dev/nullb0 } } ]\n`)),
    ]);
    expectUsage(viaDevice, /larger than 4194304 bytes/);
    expectUsage(viaDash, /-: larger than 4194304 bytes/);
    expect(good.code, good.err).toBe(0);
  });

  it('a directory, a missing file, a file past 4 MiB and one that is not UTF-8 exit 2', async () => {
    expectUsage(await copylab(['run', dir]), /a directory/);
    expectUsage(await copylab(['run', join(dir, 'none.yaml')]), /cannot read: ENOENT/);
    expectUsage(await copylab(['run', file('big.yaml', Buffer.alloc(4 * 1024 * 1024 + 1, 0x20))]), /larger than 4194304 bytes \(4194305\)/);
    expectUsage(await copylab(['run', file('bin.yaml', Buffer.from([0x64, 0x3a, 0xff, 0xfe, 0x0a]))]), /not UTF-8 text/);
  });

  it('a YAML alias bomb exits 2 with one line', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) levels.push(`l${i}: &l${i} [${Array(9).fill(i === 1 ? '*a' : `*l${i - 1}`).join(',')}]`);
    expectUsage(await copylab(['run', file('bomb.yaml', levels.join('\n') + '\n')]), /aliases expand past 100 nodes/);
  });

  it('an nvme data_file that is missing or too large stops the scenario before it runs', async () => {
    const step = (f: string) => `${NVME}steps: [ { nvme: { dev: /dev/nvme0n1, opcode: 0x01, cdw10: 0, cdw12: 0, data_file: ${f} } } ]\n`;
    expectUsage(await copylab(['run', file('nv1.yaml', step(join(dir, 'nope.bin')))]), /steps\[0\]\.nvme\.data_file: .*nope\.bin: cannot read: ENOENT/);
    // A device outside the scenario's folder needs --allow-outside-paths, and then is refused as a device.
    expectUsage(await copylab(['run', file('nv2.yaml', step('/dev/zero'))]), /steps\[0\]\.nvme\.data_file: \/dev\/zero: outside the scenario's folder/);
    expectUsage(await copylab(['run', '--allow-outside-paths', file('nv2.yaml', step('/dev/zero'))]), /steps\[0\]\.nvme\.data_file: \/dev\/zero: a character device/);
    const big = file('big.bin', Buffer.alloc(16 * 1024 * 1024 + 1));
    expectUsage(await copylab(['run', file('nv3.yaml', step(big))]), /data_file: .*larger than 16777216 bytes/);
  });

  it('hex longer than its field allows is refused before it is parsed', async () => {
    const scsi = 'devices: [ { kind: scsi, array: arr0, lus: [ { name: sda, size: 1MiB } ] } ]\n';
    expectUsage(await copylab(['run', file('hex.yaml', `${scsi}steps: [ { scsi: { dev: /dev/sda, cdb: "${'ab'.repeat(100_000)}" } } ]\n`)]), /steps\[0\]\.scsi\.cdb: at most 32 bytes/);
    expectUsage(await copylab(['run', file('hex2.yaml', `${NVME}steps: [ { nvme: { dev: /dev/nvme0n1, opcode: 1, data_hex: "0a zz" } } ]\n`)]), /steps\[0\]\.nvme\.data_hex: expected hex bytes/);
  });
});

describe('exit codes as documented (2: the command line or scenario cannot be used)', async () => {
  it('the 65th fault rule on a device exits 2 naming the step; 64 are fine', async () => {
    const faults = (n: number) => `${NULLB}steps:\n${'  - fault: { dev: /dev/nullb0, op: read }\n'.repeat(n)}`;
    expect((await copylab(['run', file('f64.yaml', faults(64))])).code).toBe(0);
    expectUsage(await copylab(['run', file('f65.yaml', faults(65))]), /steps\[64\]\.fault: \/dev\/nullb0 already has 64 fault rules/);
    // Rules that have fired are gone: 64 more after a read used one up are fine.
    const reuse = `${faults(64)}  - read: { dev: /dev/nullb0, length: 4KiB, expect: { errno: EIO } }\n  - fault: { dev: /dev/nullb0, op: read }\n`;
    expect((await copylab(['run', file('f64b.yaml', reuse)])).code).toBe(0);
  });

  it('an unknown dmsetup verb or a dmsetup line missing its arguments exits 2 (CLI and step)', async () => {
    expectUsage(await copylab(['dmsetup', 'examples/dm-linear.yaml', 'explode']), /unknown dmsetup command "explode"/);
    expectUsage(await copylab(['dmsetup', 'examples/dm-linear.yaml', 'create', 'x']), /usage: dmsetup create NAME --table TABLE/);
    expectUsage(await copylab(['run', file('dm.yaml', `${NULLB}steps: [ { dmsetup: { cmd: "explode lin" } } ]\n`)]), /steps\[0\]\.dmsetup\.cmd: unknown dmsetup command "explode"/);
    // A well-formed command the device mapper refuses is an operation failure: exit 1.
    expect((await copylab(['dmsetup', 'examples/dm-linear.yaml', 'remove', 'nosuch'])).code).toBe(1);
  });

  it('a scsi step on a nullblk device exits 2', async () => {
    expectUsage(await copylab(['run', file('scsi.yaml', `${NULLB}steps: [ { scsi: { dev: /dev/nullb0, cdb: "00 00 00 00 00 00" } } ]\n`)]), /steps\[0\]\.scsi\.dev: \/dev\/nullb0 is not a SCSI disk \(it is a nullblk device\)/);
  });

  it('nvme passthru values that do not fit their field exit 2 naming the option, as the scenario step does', async () => {
    expectUsage(await copylab(['nvme', 'passthru', '/dev/nvme0n1', '--opcode', '0x1ff']), /--opcode: 0x1ff does not fit \(0\.\.255/);
    expectUsage(await copylab(['nvme', 'passthru', '/dev/nvme0n1', '--opcode', '2', '--cdw10', '0x1ffffffff']), /--cdw10: 0x1ffffffff does not fit/);
    expectUsage(await copylab(['nvme', 'passthru', '/dev/nvme0n1', '--opcode', '2', '--namespace-id', '-1']), /--namespace-id: expected an integer/);
    expectUsage(await copylab(['nvme', 'passthru', '/dev/nvme0n1', '--opcode', '2', '--data-len', '1e9']), /--data-len: expected an integer/);
    expectUsage(await copylab(['nvme', 'copy', '/dev/nvme0n1', '-d', '0', '-s', '0', '-b', '65536']), /--blocks: 65536 does not fit \(0\.\.65535/);
    expectUsage(await copylab(['nvme', 'zone-report', '/dev/nvme0n2', '-d', '5000']), /--zones: 5000 does not fit/);
    const step = `${NVME}steps: [ { nvme: { dev: /dev/nvme0n1, opcode: 0x1ff } } ]\n`;
    expectUsage(await copylab(['run', file('op.yaml', step)]), /steps\[0\]\.nvme\.opcode: an opcode is 0\.\.255/);
    expect((await copylab(['nvme', 'passthru', '/dev/nvme0', '--admin', '--opcode', '0x06', '--cdw10', '1', '--data-len', '4096'])).code).toBe(0);
  });

  it('scsi xcopy: a block count past the field is split (GOOD) or, past the segment limit, refused with exit 2; never truncated', async () => {
    const s = ['-s', 'examples/scsi-xcopy.yaml'];
    expectUsage(await copylab(['scsi', 'xcopy', '/dev/sda', ...s, '--segment', '/dev/sda:0:/dev/sdb:0:99999999999']), /--segment .*99999999999 blocks need \d+ segment descriptors .* at most 256/);
    const r = await copylab(['scsi', 'xcopy', '/dev/sda', ...s, '--segment', '/dev/sda:0:/dev/sdc:0:65536', '--json']);
    expect(r.code).toBe(0);
    const list = (JSON.parse(r.out) as { parameter_list_hex: string }).parameter_list_hex;
    // Header 16 + two CSCDs 64 + two segments of 28: counts 65535 and 1.
    expect(list.length / 2).toBe(16 + 64 + 56);
    expect([list.slice((80 + 10) * 2, (80 + 12) * 2), list.slice((108 + 10) * 2, (108 + 12) * 2)]).toEqual(['ffff', '0001']);
    expectUsage(await copylab(['scsi', 'xcopy', '/dev/sda', ...s, '--segment', '/dev/sda:0:/dev/sdc:0:1', '--list-id', '256']), /--list-id: 256 does not fit \(0\.\.255/);
    expectUsage(await copylab(['scsi', 'populate-token', '/dev/sda', ...s, '--range', '0:0x100000000']), /--range blocks: 0x100000000 does not fit/);
    expectUsage(await copylab(['scsi', 'vpd', '/dev/sda', '256', ...s]), /page: 256 does not fit/);
  });
});
