/**
 * A file a command cannot parse is never echoed beyond a short escaped prefix (32 bytes,
 * JSON-escaped) of a file it was asked to read as its own format: `copylab plot /etc/shadow` used
 * to print the file's start in the JSON parser's message, `bench` a whole line.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function copylab(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'copylab-echo-'));
// Like /etc/shadow: the first 32 bytes may be quoted, nothing after them; an escape sequence is escaped.
const HEAD = 'root:$6$saltsalt$abcdefghijklmn';
const SECRET = `${HEAD}\x1b[2J${'SECRET-HASH-'.repeat(20)}:19000:0:99999:7:::\n`;
const file = join(dir, 'shadow');
writeFileSync(file, SECRET);

function expectPrefixOnly(r: { code: number | null; err: string; out: string }): void {
  expect(r.code).toBe(2);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err + r.out).not.toContain('SECRET');
  expect(r.err).not.toContain('\x1b');
}

describe('no command echoes a file it could not parse beyond a short escaped prefix', () => {
  it('plot: the first 32 bytes, JSON-escaped', () => {
    const r = copylab(['plot', file, '-o', join(dir, 'x.svg')]);
    expectPrefixOnly(r);
    expect(r.err).toBe(`copylab: ${file}: not JSON (it starts with ${JSON.stringify(SECRET.slice(0, 32))}…)\n`);
  });

  it('plot: JSON of another shape names the first field that is wrong', () => {
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ jobs: [{ jobname: 'j', copylab: { iodepth: 1, bs: {}, rw: 'read' }, read: { total_ios: 'x' } }] }));
    const r = copylab(['plot', join(dir, 'other.json'), '-o', join(dir, 'x.svg')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/other\.json: jobs\[0\]\.read\.total_ios: not a number\n$/);
  });

  it('bench: a job file that is not one is quoted by its first 32 bytes', () => {
    const r = copylab(['bench', file]);
    expectPrefixOnly(r);
    expect(r.err).toContain(`option ${JSON.stringify(SECRET.slice(0, 32))}… before any [section]`);
  });

  it('trace: a file that is not a trace is named, not quoted', () => {
    const r = copylab(['trace', file]);
    expectPrefixOnly(r);
    expect(r.err).toBe(`copylab: ${file}: not a copylab trace file\n`);
  });

  it('a scenario: long keys and values are cut to the prefix', () => {
    const r = copylab(['run', file]);
    expectPrefixOnly(r);
    writeFileSync(join(dir, 'keys.yaml'), `devices: []\n${'K'.repeat(200)}SECRET: 1\n`);
    const k = copylab(['run', join(dir, 'keys.yaml')]);
    expectPrefixOnly(k);
    expect(k.err).toContain(`unknown key "${'K'.repeat(32)}"…`);
    writeFileSync(join(dir, 'value.yaml'), `devices: [ { kind: nullblk, name: n, size: "${'9'.repeat(100)}SECRET" } ]\n`);
    const v = copylab(['run', join(dir, 'value.yaml')]);
    expectPrefixOnly(v);
    expect(v.err).toContain(`bad size "${'9'.repeat(32)}"…`);
  });
});
