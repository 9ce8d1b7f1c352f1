/**
 * The job files the README and docs/benchmarks.md run are in the package a user installs, and
 * `copylab bench bench/jobs/…` typed outside a checkout says where copylab's own copy is.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = process.cwd();
const copylab = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/copylab.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [relative(root, join(dir, e.name))]));
}

describe('shipped job files', () => {
  it('npm pack ships every file of bench/jobs, and every bench/jobs path the README, docs and npm scripts name', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const packed = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    const jobs = filesUnder(join(root, 'bench/jobs'));
    expect(jobs.length).toBeGreaterThan(5);
    for (const f of jobs) expect(packed, f).toContain(f);
    const named = ['README.md', 'docs/benchmarks.md', 'package.json'].flatMap((f) => [...readFileSync(join(root, f), 'utf8').matchAll(/bench\/jobs\/[\w./-]+\.(?:fio|yaml)/g)].map((m) => m[0]));
    expect(named.length).toBeGreaterThan(5);
    for (const f of new Set(named)) expect(packed, f).toContain(f);
  });

  it('a bench/jobs path that is not in the working folder names copylab\'s copy; --help names the folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'copylab-shipped-'));
    const r = copylab(dir, 'bench', 'bench/jobs/seq-bs.fio', '--scenario', 'bench/jobs/lab.yaml');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`copylab: bench/jobs/seq-bs.fio is not in this folder; copylab's own copy is ${join(root, 'bench/jobs/seq-bs.fio')}\n`);
    // A file that copylab does not ship is the usual "cannot read".
    expect(copylab(dir, 'bench', 'bench/jobs/mine.fio').stderr).toBe('copylab: bench/jobs/mine.fio: cannot read: ENOENT\n');
    expect(copylab(dir, 'bench', '--help').stdout).toContain(`The job files and labs copylab ships (bench/jobs) are in ${join(root, 'bench/jobs')}\n`);
  });
});
