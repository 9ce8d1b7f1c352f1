/**
 * `copylab bench --repeat N`: the jobs N times in fresh labs, each figure's median, min, max and
 * spread; options that describe one run are refused with it.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRepeat, median, REPEAT_FIGURES, type RepeatRow } from '../../src/app/bench/repeat.js';

const root = process.cwd();
const dir = mkdtempSync(join(tmpdir(), 'copylab-repeat-'));
const copylab = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/copylab.js'), ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
writeFileSync(join(dir, 'j.fio'), '[global]\nsize=8m\nio_size=256k\nstonewall\n[copies]\nfilename=/dev/nullb0\nrw=copy\nbs=64k\n[reads]\nfilename=/dev/nullb0\nrw=randread\nbs=4k\niodepth=4\n');

describe('copylab bench --repeat', () => {
  it('runs the jobs N times in fresh labs: modeled time gives the same figures each run, spread 0', () => {
    const r = copylab('bench', 'j.fio', '--scenario', join(root, 'bench/jobs/timed-lab.yaml'), '--repeat', '2', '--output-format=json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { repeat: number; summary: RepeatRow[]; runs: { jobs: { jobname: string; copy: { iops: number } }[] }[] };
    expect(out.repeat).toBe(2);
    expect(out.runs).toHaveLength(2);
    expect(out.summary.map((s) => `${s.job} ${s.dir} ${s.figure}`)).toEqual(['copies', 'reads'].flatMap((j) => REPEAT_FIGURES.map((f) => `${j} ${j === 'copies' ? 'copy' : 'read'} ${f.name}`)));
    const iops = out.summary.find((s) => s.job === 'copies' && s.figure === 'IOPS')!;
    expect(iops.values).toEqual(out.runs.map((run) => run.jobs[0]!.copy.iops));
    // The CPU share is the host's, on wall time; the fio figures are modeled.
    for (const s of out.summary.filter((x) => x.figure !== 'cpu %')) expect(s).toMatchObject({ spread_pct: 0, min: s.median, max: s.median });
    expect(out.summary.find((s) => s.figure === 'cpu %')!.median).toBeGreaterThan(0);
    // The normal output is the table.
    const t = copylab('bench', 'j.fio', '--scenario', join(root, 'bench/jobs/timed-lab.yaml'), '--repeat', '2');
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/^2 runs; load average [\d.]+ -> [\d.]+ on \d+ CPUs; spread = \(max - min\) \/ median\n┌/);
    expect(t.stdout).toMatch(/│ copies +│ copy +│ MiB\/s +│ +[\d.]+ │ +[\d.]+ │ +[\d.]+ │ +0\.0% │/);
  });

  it.each([
    [['--repeat', '1.5'], /--repeat: expected a whole number/],
    [['--repeat', '101'], /--repeat: expected a whole number of runs, 1 to 100, got '101'/],
    [['--repeat', '2', '--trace-out', 't.trace'], /--repeat: not with --trace-out/],
    [['--repeat', '2', '--plot', 'p.svg'], /--repeat: not with --plot/],
    [['--repeat', '2', '--output-format', 'terse'], /--repeat: not with --output-format=terse/],
  ])('%j is refused (exit 2) before anything runs', (args, msg) => {
    const r = copylab('bench', 'j.fio', ...(args as string[]));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(msg as RegExp);
    expect(r.stdout).toBe('');
  });

  it('fio log files describe one run: refused with --repeat', () => {
    writeFileSync(join(dir, 'log.fio'), '[j]\nfilename=/dev/nullb0\nrw=read\nsize=1m\nwrite_bw_log=m\n');
    const r = copylab('bench', 'log.fio', '--repeat', '2');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--repeat: not with fio's log files \(m_bw\.1\.log/);
  });

  it('median, spread, and the mark on a figure that spreads over 10%', () => {
    expect([median([3, 1, 2]), median([4, 1, 3, 2]), median([])]).toEqual([2, 2.5, 0]);
    const row = (job: string, values: number[]): RepeatRow => {
      const m = median(values);
      return { job, dir: 'read', figure: 'IOPS', values, median: m, min: Math.min(...values), max: Math.max(...values), spread_pct: ((Math.max(...values) - Math.min(...values)) / m) * 100 };
    };
    const text = formatRepeat([row('steady', [100, 104, 98]), row('noisy', [100, 130, 90])], 3);
    expect(text).toMatch(/│ steady +│ read +│ IOPS +│ +100\.0 │ +98\.00 │ +104\.0 │ +6\.0% │/);
    expect(text).toMatch(/│ noisy +│ read +│ IOPS +│ +100\.0 │ +90\.00 │ +130\.0 │ +40\.0% ! │/);
    expect(text).toMatch(/! spread over 10% of the median: noisy \(run longer/);
  });
});
