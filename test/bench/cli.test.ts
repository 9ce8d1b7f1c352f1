import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { legendLabels } from '../svg-legends.js';

function copylab(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'copylab-bench-'));
function jobFile(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/**
 * A shipped job file as it is, but its jobs run 150 ms without a ramp: the suite checks the files'
 * jobs, not their figures (those take seconds a job: npm run bench, copylab bench --repeat).
 */
function shortened(file: string): string {
  const text = readFileSync(file, 'utf8');
  expect(text).toMatch(/^runtime=\d+$/m);
  return jobFile(file.replace(/\W/g, '_'), text.replace(/^runtime=\d+$/m, 'runtime=150ms').replace(/^ramp_time=\d+$/m, 'ramp_time=0'));
}

/** What a script written for fio's JSON reads (fio 3.x field names, no copylab knowledge). */
interface FioJson {
  jobs: { jobname: string; 'job options': Record<string, string>; read: FioDir; write: FioDir; trim: FioDir }[];
}
interface FioDir {
  io_bytes: number; bw: number; iops: number; runtime: number;
  lat_ns: { min: number; max: number; mean: number };
  clat_ns: { min: number; max: number; mean: number; percentile: Record<string, number> };
}

describe('copylab bench', () => {
  it('runs the repository\'s job files and prints JSON that fio\'s field names read, then plots it as SVG', () => {
    const r = copylab('bench', shortened('bench/jobs/seq-bs.fio'), '--scenario', 'bench/jobs/lab.yaml', '--output-format=json');
    expect(r.code).toBe(0);
    // No progress line when stderr is not a terminal; the 150 ms jobs are named as too short.
    const warned = r.err.trim().split('\n');
    expect(warned).toHaveLength(6);
    for (const w of warned) expect(w).toMatch(/^copylab: warning: job '[\w-]+' measured \d+ ms of wall time and \d+ I\/Os \(under 1 s or 10,000 I\/Os\): too short to trust/);
    const json = JSON.parse(r.out) as FioJson;
    expect(json.jobs.map((j) => j.jobname)).toEqual(['read-4k', 'read-64k', 'read-1m', 'write-4k', 'write-64k', 'write-1m']);
    for (const j of json.jobs) {
      const d = j['job options'].rw === 'read' ? j.read : j.write;
      expect(d.io_bytes).toBeGreaterThan(0);
      expect(d.bw).toBeGreaterThan(0);
      expect(d.iops).toBeGreaterThan(0);
      expect(d.runtime).toBeGreaterThanOrEqual(0);
      expect(d.clat_ns.percentile['50.000000']).toBeLessThanOrEqual(d.clat_ns.percentile['99.000000']!);
      expect(d.lat_ns.min).toBeLessThanOrEqual(d.lat_ns.mean);
    }
    const results = join(dir, 'seq.json');
    writeFileSync(results, r.out);
    const svgFile = join(dir, 'seq.svg');
    const p = copylab('plot', results, '-o', svgFile);
    expect(p.code).toBe(0);
    const svg = readFileSync(svgFile, 'utf8');
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.startsWith('<svg')).toBe(true);
    // seq-bs.fio sweeps block sizes at QD 8: one chart, a curve per direction.
    expect(svg).toContain('Bandwidth, IOPS and completion latency vs block size');
    expect(svg).not.toContain('vs queue depth');
    expect(legendLabels(svg)).toEqual(['read QD8', 'write QD8', 'mean', 'p99']);
  });

  it('normal output reads like fio\'s; terse is semicolon-separated v3', () => {
    const f = jobFile('n.fio', '[rr]\nfilename=/dev/nullb0\nrw=randread\nsize=4m\nio_size=512k\niodepth=4\n');
    const n = copylab('bench', f);
    expect(n.code).toBe(0);
    expect(n.out).toMatch(/^rr: \(g=0\): rw=randread, bs=\(R\) 4096B-4096B/);
    expect(n.out).toMatch(/\n {2}read: IOPS=[\d.]+k?, BW=[\d.]+\w+\/s \([\d.]+\w+\/s\)\(512KiB\/\d+msec\)/);
    expect(n.out).toMatch(/clat percentiles \((n|u|m)sec\):/);
    expect(n.out).toMatch(/Run status group 0 \(all jobs\):\n {3}READ: bw=/);
    const t = copylab('bench', f, '--output-format', 'terse');
    const fields = t.out.trim().split(';');
    expect(fields.slice(0, 5)).toEqual(['3', 'copylab-0.1.0', 'rr', '0', '0']);
    expect(fields[5]).toBe('512'); // read kB
  });

  it('copies report the copy engine\'s account; plot draws offloaded and emulated copies per size', () => {
    const r = copylab('bench', shortened('bench/jobs/copy-offload.fio'), '--scenario', 'bench/jobs/lab.yaml', '--output-format=json', '--plot', join(dir, 'copy.svg'));
    expect(r.code).toBe(0);
    const jobs = JSON.parse(r.out).jobs as { jobname: string; copy: { offloaded_bytes: number; emulated_bytes: number; host_bytes: number; io_bytes: number } }[];
    for (const j of jobs) {
      if (j.jobname.startsWith('offload')) expect(j.copy).toMatchObject({ offloaded_bytes: j.copy.io_bytes, host_bytes: 0 });
      else expect(j.copy).toMatchObject({ emulated_bytes: j.copy.io_bytes, host_bytes: 2 * j.copy.io_bytes });
    }
    const svg = readFileSync(join(dir, 'copy.svg'), 'utf8');
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(legendLabels(svg)).toEqual(['copy offloaded QD1', 'copy emulated QD1', 'mean', 'p99']);
  });

  it('warns of a wall-clock job under 1 s or 10,000 I/Os, not of a long one or one on modeled time', () => {
    const job = (extra: string): string => `[j]\nfilename=/dev/nullb0\nrw=randread\nbs=4k\nsize=32m\n${extra}`;
    const short = copylab('bench', jobFile('short.fio', job('size=1m\n')), '--scenario', 'bench/jobs/lab.yaml', '--output-format=json');
    expect(short.code).toBe(0);
    expect(short.err).toMatch(/^copylab: warning: job 'j' measured \d+ ms of wall time and 256 I\/Os \(under 1 s or 10,000 I\/Os\)/);
    const long = copylab('bench', jobFile('long.fio', job('time_based\nruntime=1100ms\n')), '--scenario', 'bench/jobs/lab.yaml', '--output-format=json');
    expect(long.code).toBe(0);
    expect(JSON.parse(long.out).jobs[0].read.total_ios).toBeGreaterThanOrEqual(10_000);
    expect(long.err).toBe('');
    const modeled = copylab('bench', jobFile('modeled.fio', job('size=1m\n')), '--scenario', 'bench/jobs/timed-lab.yaml');
    expect(modeled.code).toBe(0);
    expect(modeled.out).toMatch(/modeled time/);
    expect(modeled.err).toBe('');
  });

  it('a bad job file exits 2 naming the file, section and line', () => {
    const cases: [string, RegExp][] = [
      ['[j]\nfilename=/dev/nullb0\nrw=read\nbsize=4k\n', /u\.fio:4: \[j\] unknown option 'bsize'/],
      ['[j]\nfilename=/dev/nullb0\nsize=lots\n', /u\.fio:3: \[j\] size: 'lots' is not an fio integer/],
      ['[global]\nrw=read\n\n[nofile]\nbs=4k\n', /u\.fio:4: \[nofile\] missing filename=/],
      ['[j]\nrw=read\nfilename=/dev/nvme9n1\n', /u\.fio:3: \[j\] filename=\/dev\/nvme9n1: no such device in the lab/],
    ];
    for (const [text, re] of cases) {
      const r = copylab('bench', jobFile('u.fio', text));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.out).toBe('');
    }
    expect(copylab('bench', join(dir, 'missing.fio')).code).toBe(2);
    expect(copylab('bench', jobFile('ok.fio', '[j]\nfilename=/dev/nullb0\n'), '--output-format', 'xml').code).toBe(2);
  });

  it('a job file larger than the limit is refused before it is read', () => {
    const big = jobFile('big.fio', '[j]\nfilename=/dev/nullb0\n' + ';'.repeat(2 * 1024 * 1024));
    const r = copylab('bench', big);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/big\.fio: larger than 1048576 bytes/);
  });

  it('a job written from fio\'s documentation alone runs (new user)', () => {
    // The HOWTO's first example, with the lab's device as filename.
    const f = jobFile('howto.fio', '; -- start job file --\n[random-writers]\nioengine=copylab-ring\nrw=randwrite\nsize=32m\nbs=4k\ndirect=1\nnumjobs=4\nfilename=/dev/nullb0\n; -- end job file --\n');
    const r = copylab('bench', f, '--output-format=json');
    expect(r.code).toBe(0);
    const jobs = JSON.parse(r.out).jobs as { jobname: string; write: { io_bytes: number } }[];
    expect(jobs).toHaveLength(4);
    for (const j of jobs) expect(j.write.io_bytes).toBe(32 * 1024 * 1024);
  });

  it('heuristic --plot draws offload and emulation per size as SVG', () => {
    const svgFile = join(dir, 'heuristic.svg');
    const r = copylab('heuristic', '--timing', 'nvmevirt-zns', '--plot', svgFile);
    expect(r.code).toBe(0);
    const svg = readFileSync(svgFile, 'utf8');
    expect(XMLValidator.validate(svg)).toBe(true);
    for (const s of ['Offload vs emulation per copy size', '>offload<', '>emulated<', 'nvmevirt-zns']) expect(svg).toContain(s);
  });

  it('shows fio\'s status line at a terminal for runs over a second, and none with json', () => {
    const f = jobFile('tty.fio', '[r]\nfilename=/dev/nullb0\nrw=randread\nsize=4m\ntime_based\nruntime=2\n');
    // script(1) gives the command a pseudo-terminal, as a user's shell would.
    const atTty = (...args: string[]) => spawnSync('script', ['-qfec', [process.execPath, 'bin/copylab.js', ...args].join(' '), '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
    const normal = atTty('bench', f);
    expect(normal.status).toBe(0);
    expect(normal.stdout).toMatch(/Jobs: 1 \(f=1\): \[R\(1\)\]\[\d+\.\d%\]\[r=\d+\w+\/s\]\[r=\d+k? IOPS\]\[eta \d\dm:\d\ds\]/);
    const json = atTty('bench', f, '--output-format=json');
    expect(json.status).toBe(0);
    expect(json.stdout).not.toMatch(/Jobs:/);
  });
});
