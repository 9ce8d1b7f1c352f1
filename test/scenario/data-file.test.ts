/**
 * A scenario's data_file stays in the scenario's folder: `..`, an absolute path elsewhere and a
 * symbolic link that leads out are refused (exit 2, one line) unless --allow-outside-paths; a
 * wrong data expectation describes the difference without printing the data.
 * Command lines run in this process (runCommand, as bin/copylab.js calls it; an escaping exception
 * counts as the binary's internal error, exit 70 with its stack), with standard output and error
 * captured as through a pipe. The cases that need a working directory of their own or a real
 * standard input (`run -`, shell lines) go through the built binary, each test's at once.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { makeProgram } from '../../src/app/cli/main.js';
import { runInProcess, type Ran } from '../in-process.js';

/** Runs the command line in this process (test/in-process.ts), its standard output and error captured. */
const copylab = (args: string[]): Promise<Ran> => runInProcess(args);

/** Runs the built command in `cwd`, `input` (if any) piped to its standard input. The timeout guards a hang. */
function spawned(args: string[], opts: { cwd: string; input?: string }): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(process.cwd(), 'bin/copylab.js'), ...args], { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdin.on('error', () => {});
    p.stdin.end(opts.input ?? '');
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

function expectRefused(r: { code: number | null; err: string }, message: RegExp): void {
  expect(r.code, r.err).toBe(2);
  expect(r.err).toMatch(message);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).not.toMatch(/internal error|    at /);
}

// root/secret.bin lies outside root/lab/, the scenarios' folder.
const root = mkdtempSync(join(tmpdir(), 'copylab-datafile-'));
const lab = join(root, 'lab');
mkdirSync(join(lab, 'data'), { recursive: true });
const SECRET = 'TOP-SECRET-' + 'x'.repeat(501);
writeFileSync(join(root, 'secret.bin'), SECRET);
writeFileSync(join(lab, 'data', 'mine.bin'), 'M'.repeat(512));
symlinkSync(join(root, 'secret.bin'), join(lab, 'data', 'out-link.bin'));
symlinkSync('mine.bin', join(lab, 'data', 'in-link.bin'));
// A folder link: the path has no `..`, but its real path leaves the scenario's folder.
symlinkSync(root, join(lab, 'up'));

const NVME = 'devices: [ { kind: nvme, name: nvme0, namespaces: [ { size: 4MiB, lbs: 4096 } ] } ]\n';
const SCSI = 'devices: [ { kind: scsi, array: arr0, lus: [ { name: sda, size: 1MiB } ] } ]\n';
const nvmeStep = (f: string) => `${NVME}steps: [ { nvme: { dev: /dev/nvme0n1, opcode: 0x01, cdw10: 0, cdw12: 0, data_file: "${f}" } } ]\n`;
const scsiStep = (f: string) => `${SCSI}steps: [ { scsi: { dev: /dev/sda, cdb: "2a 00 00 00 00 00 00 00 01 00", data_file: "${f}" } } ]\n`;

function scenario(name: string, text: string): string {
  const f = join(lab, name);
  writeFileSync(f, text);
  return f;
}

const OUTSIDE = /data_file: .*: outside the scenario's folder \(.*lab; --allow-outside-paths allows it\)/;
const LINK_OUT = /data_file: .*: a symbolic link on its path leads outside the scenario's folder/;

describe('data_file stays in the scenario folder', () => {
  it.each([
    ['nvme', nvmeStep],
    ['scsi', scsiStep],
  ] as const)('%s step: ../, an absolute path and symbolic links out are refused; --allow-outside-paths allows them', async (kind, step) => {
    const up = scenario(`${kind}-up.yaml`, step('../secret.bin'));
    const abs = scenario(`${kind}-abs.yaml`, step(join(root, 'secret.bin')));
    const link = scenario(`${kind}-link.yaml`, step('data/out-link.bin'));
    const dirLink = scenario(`${kind}-dirlink.yaml`, step('up/secret.bin'));
    expectRefused(await copylab(['run', up]), OUTSIDE);
    expectRefused(await copylab(['run', abs]), OUTSIDE);
    expectRefused(await copylab(['run', link]), LINK_OUT);
    expectRefused(await copylab(['run', dirLink]), LINK_OUT);
    for (const f of [up, abs, link, dirLink]) expect((await copylab(['run', '--allow-outside-paths', f])).code, f).toBe(0);
    // Inside the folder, through a link that stays inside too: read.
    expect((await copylab(['run', scenario(`${kind}-in.yaml`, step('data/mine.bin'))])).code).toBe(0);
    expect((await copylab(['run', scenario(`${kind}-inlink.yaml`, step('data/in-link.bin'))])).code).toBe(0);
  });

  it('a relative data_file resolves against the scenario\'s folder, not the working directory (the built binary: a working directory of its own, a real standard input)', async () => {
    const f = scenario('rel.yaml', nvmeStep('data/mine.bin'));
    const [elsewhere, fromStdin, outside] = await Promise.all([
      spawned(['run', f], { cwd: root }),
      // From standard input, the working directory is the folder.
      spawned(['run', '-'], { cwd: lab, input: nvmeStep('data/mine.bin') }),
      spawned(['run', '-'], { cwd: lab, input: nvmeStep('../secret.bin') }),
    ]);
    expect(elsewhere.code).toBe(0);
    expect(fromStdin.code).toBe(0);
    expectRefused(outside, OUTSIDE);
  });

  it('commands that load a scenario check it too (lab, --scenario), and a shell line checks against the working directory (the shell through the built binary)', async () => {
    const up = scenario('lab-up.yaml', nvmeStep('../secret.bin'));
    expectRefused(await copylab(['lab', '--scenario', up]), OUTSIDE);
    expect((await copylab(['lab', '--scenario', up, '--allow-outside-paths'])).code).toBe(0);
    const line = 'nvme: { dev: /dev/nvme0n1, opcode: 0x01, cdw10: 0, cdw12: 0, data_file: ../secret.bin }\n';
    // The shell reads its lines from standard input and resolves them against the working directory.
    const inside = scenario('shell-in.yaml', nvmeStep('data/mine.bin'));
    const [refused, allowed] = await Promise.all([
      spawned(['shell', '--scenario', inside], { cwd: lab, input: line }),
      spawned(['shell', '--scenario', inside, '--allow-outside-paths'], { cwd: lab, input: line }),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(OUTSIDE);
    expect(allowed.code).toBe(0);
  });

  it('every command that loads a scenario takes --allow-outside-paths (walked from the registrations)', () => {
    const walk = (c: Command, prefix: string[] = []): string[] =>
      c.commands.flatMap((sub) => {
        const path = [...prefix, sub.name()].join(' ');
        const loads = sub.options.some((o) => o.long === '--scenario') || sub.registeredArguments.some((a) => a.name() === 'scenario');
        const missing = loads && !sub.options.some((o) => o.long === '--allow-outside-paths') ? [path] : [];
        return [...missing, ...walk(sub, [...prefix, sub.name()])];
      });
    expect(walk(makeProgram(() => {}))).toEqual([]);
  });
});

describe('a wrong data expectation does not print the data', () => {
  it('scsi data_in_hex: offset, lengths and a digest, in the table and in --json', async () => {
    const f = scenario('expect.yaml', `${SCSI}steps:
  - scsi: { dev: /dev/sda, cdb: "2a 00 00 00 00 00 00 00 01 00", data_file: data/secret-copy.bin }
  - scsi: { dev: /dev/sda, cdb: "28 00 00 00 00 00 00 00 01 00", alloc_len: 512, expect: { data_in_hex: "54 4f 50 2d 00" } }
`);
    writeFileSync(join(lab, 'data', 'secret-copy.bin'), SECRET);
    const hex = Buffer.from(SECRET.slice(0, 16)).toString('hex');
    for (const args of [['run', f], ['run', '--json', f]]) {
      const r = await copylab(args);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/Data-In first differs at byte 4: got 512 bytes \(sha256 [0-9a-f]{16}…\), expected 5 bytes/);
      expect(r.out).not.toContain('SECRET');
      expect(r.out).not.toContain(hex.slice(8));
    }
    // A matching expectation keeps the Data-In in the details, as before.
    const ok = scenario('expect-ok.yaml', `${SCSI}steps:\n  - scsi: { dev: /dev/sda, cdb: "28 00 00 00 00 00 00 00 01 00", alloc_len: 4, expect: { data_in_hex: "00000000" } }\n`);
    const r = await copylab(['run', '--json', ok]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).details.data_in_hex).toBe('00000000');
  });

  it('nvme expect.data_hex (a prefix): where the data differs', async () => {
    // Identify Controller returns 4096 bytes; its first bytes are the PCI vendor ID.
    const step = (hex: string) => `${NVME}steps: [ { nvme: { dev: /dev/nvme0, admin: true, opcode: 0x06, cdw10: 1, data_len: 4096, expect: { data_hex: "${hex}" } } } ]\n`;
    const r = await copylab(['run', scenario('id.yaml', step('ffff'))]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/returned data first differs at byte 0: got 4096 bytes \(sha256 [0-9a-f]{16}…\), expected a prefix of 2 bytes/);
  });

  it('scsi data_in_hex (the whole Data-In): shorter or longer than expected', async () => {
    // A fresh LU reads back zeros: 512 of them for one block.
    const read = (hex: string) => `${SCSI}steps: [ { scsi: { dev: /dev/sda, cdb: "28 00 00 00 00 00 00 00 01 00", alloc_len: 512, expect: { data_in_hex: "${hex}" } } } ]\n`;
    expect((await copylab(['run', scenario('short.yaml', read('00'.repeat(513)))])).out).toMatch(/Data-In shorter than expected: got 512 bytes \(sha256 [0-9a-f]{16}…\), expected 513 bytes/);
    expect((await copylab(['run', scenario('long.yaml', read('00'.repeat(4)))])).out).toMatch(/Data-In longer than expected: got 512 bytes \(sha256 [0-9a-f]{16}…\), expected 4 bytes/);
  });
});
