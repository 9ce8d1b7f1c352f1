/**
 * fio's own tools read what copylab bench writes: fio_jsonplus_clat2csv converts its json+ (and
 * validates it), fio2gnuplot reads its bandwidth log, and its log lines have the shape fio 3.33's
 * have for the same options.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { platValToIdx } from '../../src/app/bench/fio-histogram.js';

const root = process.cwd();
function copylab(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/copylab.js'), ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function tool(cwd: string, cmd: string, ...args: string[]) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const fresh = (): string => mkdtempSync(join(tmpdir(), 'copylab-fio-peers-'));

/** fio 3.33's own log lines for a null-engine job with `opts` (the shape to match). */
function fioLogLines(opts: string[]): string[] {
  const dir = fresh();
  const r = tool(dir, 'fio', '--name=ref', '--ioengine=null', '--size=1m', '--bs=4k', '--rw=randread', '--io_size=64k', '--write_lat_log=ref', '--output=/dev/null', ...opts);
  expect(r.code).toBe(0);
  return readFileSync(join(dir, 'ref_clat.1.log'), 'utf8').trim().split('\n');
}

interface Lat { percentile?: Record<string, number>; bins?: Record<string, number>; N: number }
interface Dir { total_ios: number; bw: number; clat_ns: Lat; lat_ns: Lat; slat_ns: Lat; bw_min: number; bw_max: number; bw_mean: number; bw_dev: number; bw_agg: number; bw_samples: number; iops: number; iops_mean: number; iops_samples: number; iops_min: number; iops_max: number }
interface Job { jobname: string; read: Dir; write: Dir; usr_cpu: number; sys_cpu: number; ctx: number; minf: number; iodepth_level: Record<string, number>; iodepth_submit: Record<string, number>; iodepth_complete: Record<string, number>; latency_ns: Record<string, number>; latency_us: Record<string, number>; latency_ms: Record<string, number> }
const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);

describe("fio's tools read copylab bench's output", () => {
  it('fio_jsonplus_clat2csv converts and validates json+, and its percentiles are copylab\'s within one bucket', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'j.fio'), '[global]\nfilename=/dev/nullb0\nsize=8m\nio_size=2m\niodepth=4\n[rr]\nrw=randread\n[rw]\nrw=randwrite\nbs=8k\n');
    const r = copylab(dir, 'bench', 'j.fio', '--output-format=json+');
    expect(r.code).toBe(0);
    writeFileSync(join(dir, 'plus.json'), r.out);
    const jobs = JSON.parse(r.out).jobs as Job[];
    expect(tool(dir, 'fio_jsonplus_clat2csv', 'plus.json', 'clat.csv').code).toBe(0);
    const v = tool(dir, 'fio_jsonplus_clat2csv', 'plus.json', 'clat.csv', '--validate');
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/clat_job0\.csv validated\nclat_job1\.csv validated/);
    jobs.forEach((job, n) => {
      const dirName = job.jobname === 'rr' ? 'read' : 'write';
      const d = job[dirName];
      // json+ puts bins on clat only (fio's defaults: clat_percentiles=1, lat and slat 0).
      expect(Object.values(d.clat_ns.bins!).reduce((a, b) => a + b, 0)).toBe(d.total_ios);
      expect(d.lat_ns.bins).toBeUndefined();
      const lines = readFileSync(join(dir, `clat_job${n}.csv`), 'utf8').trim().split('\n');
      const cols = lines[0]!.split(',').map((c) => c.trim());
      const at = cols.indexOf(`${dirName}_clat_ns_percentile`);
      const rows = lines.slice(1).map((l) => l.split(',').map((c) => c.trim())).filter((c) => c[at] !== '').map((c) => [Number(c[0]), Number(c[at])] as const);
      for (const [p, ours] of Object.entries(d.clat_ns.percentile!)) {
        const theirs = rows.find(([, frac]) => frac >= Number(p) / 100 - 1e-12)![0];
        expect(Math.abs(platValToIdx(theirs) - platValToIdx(ours)), `${job.jobname} p${p}: csv ${theirs} ns, copylab ${ours} ns`).toBeLessThanOrEqual(1);
      }
    });
  });

  it('fio2gnuplot reads the bandwidth log; the JSON carries fio\'s sample, CPU, depth and latency fields', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'm.fio'), '[m]\nfilename=/dev/nullb0\nrw=randread\nsize=32m\ntime_based\nruntime=500ms\niodepth=4\nwrite_bw_log=m\nwrite_iops_log=m\nwrite_lat_log=m\nlog_avg_msec=50\n');
    const r = copylab(dir, 'bench', 'm.fio', '--scenario', join(root, 'bench/jobs/timed-lab.yaml'), '--output-format=json');
    expect(r.code).toBe(0);
    const job = (JSON.parse(r.out).jobs as Job[])[0]!;
    const d = job.read;
    // Modeled time: ten windows of 50 ms (bwavgtime follows log_avg_msec down, as in fio).
    expect(d.bw_samples).toBeGreaterThanOrEqual(9);
    expect(d.bw_samples).toBeLessThanOrEqual(10);
    expect(d.bw_min).toBeLessThanOrEqual(d.bw_mean);
    expect(d.bw_mean).toBeLessThanOrEqual(d.bw_max);
    expect(Math.abs(d.bw_mean - d.bw) / d.bw).toBeLessThan(0.05);
    expect(d.bw_agg).toBeGreaterThan(95);
    expect(d.bw_agg).toBeLessThanOrEqual(100);
    expect(d.iops_samples).toBe(d.bw_samples);
    expect(Math.abs(d.iops_mean - d.iops) / d.iops).toBeLessThan(0.05);
    expect(job.iodepth_level['4']).toBeGreaterThan(99);
    for (const m of [job.iodepth_level, job.iodepth_submit, job.iodepth_complete]) expect(sum(m)).toBeCloseTo(100, 0);
    expect(sum(job.latency_ns) + sum(job.latency_us) + sum(job.latency_ms)).toBeCloseTo(100, 0);
    expect(job.usr_cpu).toBeGreaterThan(0);
    expect(Number.isFinite(job.sys_cpu) && job.ctx >= 0 && job.minf >= 0).toBe(true);

    // The log files fio would write, in fio's windowed shape (bs and offset 0).
    expect(readdirSync(dir).filter((f) => f.endsWith('.log')).sort()).toEqual(['m_bw.1.log', 'm_clat.1.log', 'm_iops.1.log', 'm_lat.1.log', 'm_slat.1.log']);
    const bwRows = readFileSync(join(dir, 'm_bw.1.log'), 'utf8').trim().split('\n').map((l) => l.split(', ').map(Number));
    const ref = fioLogLines(['--log_avg_msec=100', '--runtime=250ms', '--time_based']);
    for (const row of bwRows) expect(row).toHaveLength(ref[0]!.split(', ').length);
    expect(bwRows.map((x) => x.slice(2))).toEqual(bwRows.map(() => [0, 0, 0]));
    expect(bwRows.map((x) => x[1])).toHaveLength(d.bw_samples);

    const g = tool(dir, 'fio2gnuplot', '-b', '-k');
    expect(g.code).toBe(0);
    expect(g.out).toMatch(/\|-> m_bw\.1\.log/);
    const global = Object.fromEntries(readFileSync(join(dir, 'result.global'), 'utf8').trim().split('\n').map((l) => l.split('=')));
    expect(Number(global.min)).toBe(d.bw_min);
    expect(Number(global.max)).toBe(d.bw_max);
    expect(Number(global.avg)).toBeCloseTo(d.bw_mean, 1);
    expect(Number(global.values_count)).toBe(d.bw_samples);
  });

  it('logs every I/O without log_avg_msec, the offset column with log_offset=1, as fio 3.33 does; normal output in fio\'s units', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'p.fio'), '[p]\nfilename=/dev/nullb0\nrw=randread\nsize=1m\nio_size=256k\niodepth=2\nwrite_lat_log=p\nwrite_bw_log=p\nlog_offset=1\n');
    const r = copylab(dir, 'bench', 'p.fio', '--output-format=json');
    expect(r.code).toBe(0);
    const d = (JSON.parse(r.out).jobs as Job[])[0]!.read;
    const ref = fioLogLines(['--log_offset=1']);
    const rows = readFileSync(join(dir, 'p_clat.1.log'), 'utf8').trim().split('\n').map((l) => l.split(', ').map(Number));
    expect(rows).toHaveLength(64);
    for (const [t, v, ddir, bs, off, prio] of rows) {
      expect(rows[0]).toHaveLength(ref[0]!.split(', ').length);
      expect(Number.isInteger(t) && v! > 0 && ddir === 0 && bs === 4096 && prio === 0).toBe(true);
      expect(off! % 4096 === 0 && off! < 1024 * 1024).toBe(true);
    }
    // A bandwidth row per I/O: its bytes over its completion latency (fio's add_bw_sample).
    const bw = readFileSync(join(dir, 'p_bw.1.log'), 'utf8').trim().split('\n').map((l) => l.split(', ').map(Number));
    expect(bw.map((x) => x[1])).toEqual(rows.map((x) => Math.floor((4096 * 1e6) / x[1]!)));
    expect(d.bw_samples).toBe(64);
    // Without log_offset fio writes one column less.
    expect(fioLogLines([])[0]!.split(', ')).toHaveLength(5);

    const n = copylab(dir, 'bench', 'p.fio');
    expect(n.code).toBe(0);
    expect(n.out).toMatch(/\n {4}clat \((n|u|m)sec\): min=\d+, max=\d+, avg= *\d+\.\d\d, stdev= *\d+\.\d\d\n/);
    // Four to a line while the values fit 5 digits, as fio's show_clat_percentiles lays them out.
    expect(n.out).toMatch(/\n {4}clat percentiles \((n|u|m)sec\):\n {5}\| {2}1\.00th=\[ *\d+\], {2}5\.00th=\[ *\d+\], 10\.00th=\[ *\d+\],( 20\.00th=\[ *\d+\],)?\n/);
    // Per-I/O samples are wall-clock rates: KiB/s, or MiB/s when the mean passes 1 GiB/s (fio's rule).
    expect(n.out).toMatch(/\n {3}bw \( {2}[KM]iB\/s\): min= *\d+, max= *\d+, per=\d+\.\d\d%, avg= *\d+\.\d\d, stdev= *\d+\.\d\d, samples=64\n/);
    expect(n.out).toMatch(/\n {2}cpu {10}: usr=\d+\.\d\d%, sys=\d+\.\d\d%, ctx=\d+, majf=\d+, minf=\d+\n/);
    expect(n.out).toMatch(/\n {2}IO depths {4}: 1=\d+\.\d%, 2=\d+\.\d%, 4=\d+\.\d%, 8=\d+\.\d%, 16=\d+\.\d%, 32=\d+\.\d%, >=64=\d+\.\d%\n/);
    expect(n.out).toMatch(/\n {5}issued rwts: total=64,0,0,0 short=0,0,0,0 dropped=0,0,0,0\n/);
  });
});
