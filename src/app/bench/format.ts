/**
 * fio's human output (--output-format=normal) and its semicolon-separated terse format (v3
 * field order for the per-direction fields), both written from the JSON result so the three
 * formats always agree.
 */
import type { FioDir, FioJob, FioResult } from './result.js';
import type { FioLatency } from '../../core/util/latency.js';
import type { JobSpec } from './job.js';

const DIRS = ['read', 'write', 'trim'] as const;

/** fio-like scaling: the largest unit that keeps the value under 10000 (2532MiB/s, 648k). */
function scaled(v: number, base: 1000 | 1024, units: readonly string[]): string {
  let i = 0;
  while (v >= 10000 && i < units.length - 1) {
    v /= base;
    i++;
  }
  return `${v >= 100 || Number.isInteger(v) ? Math.round(v) : v.toFixed(v >= 10 ? 1 : 2)}${units[i]}`;
}

const iops = (v: number): string => scaled(v, 1000, ['', 'k', 'M', 'G']);
const bin = (v: number): string => scaled(v, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB']);
const dec = (v: number): string => scaled(v, 1000, ['B', 'kB', 'MB', 'GB', 'TB']);

/**
 * fio's display_lat (stat.c) and its nsec_to_usec / nsec_to_msec (stat.h): a latency line is in
 * usec when min > 2000 ns, max > 99999 ns and stdev > 1000 ns, in msec past 2 000 000,
 * 99 999 999 and 1 000 000 ns; min and max are whole units (truncated), avg and stdev two decimals.
 */
export function latLine(label: string, l: FioLatency): string {
  let div = 1;
  let unit = 'nsec';
  if (l.min > 2e6 && l.max > 99_999_999 && l.stddev > 1e6) (div = 1e6), (unit = 'msec');
  else if (l.min > 2000 && l.max > 99_999 && l.stddev > 1000) (div = 1e3), (unit = 'usec');
  const whole = (x: number): string => String(Math.floor(x / div));
  return `${label} (${unit}): min=${whole(l.min)}, max=${whole(l.max)}, avg=${(l.mean / div).toFixed(2).padStart(5)}, stdev=${(l.stddev / div).toFixed(2).padStart(5)}`;
}

/** fio's show_clat_percentiles: two decimals of the percentile, room for the widest value. */
const PERCENTILE_PRECISION = 2;
/** Columns show_clat_percentiles fills per line. */
const PERCENTILE_LINE_CHARS = 80 - 7;

/**
 * The percentile block as fio prints it (show_clat_percentiles): in usec when the smallest
 * percentile value is over 2000 ns and the largest over 99999 ns, msec past 2 000 000 and
 * 99 999 999 ns, each value then rounded up to whole units.
 */
export function percentileLines(name: string, l: FioLatency): string[] {
  if (!l.percentile) return [];
  const entries = Object.entries(l.percentile).map(([p, v]) => [Number(p), v] as const);
  if (!entries.length) return [];
  const values = entries.map(([, v]) => v);
  const minv = Math.min(...values);
  const maxv = Math.max(...values);
  let steps = 0;
  let unit = 'nsec';
  if (minv > 2_000_000 && maxv > 99_999_999) (steps = 2), (unit = 'msec');
  else if (minv > 2000 && maxv > 99_999) (steps = 1), (unit = 'usec');
  const scaled = (v: number): number => {
    let x = Math.round(v);
    for (let i = 0; i < steps; i++) x = Math.floor((x + 999) / 1000);
    return x;
  };
  const width = Math.max(5, Math.floor(Math.log10(Math.max(1, maxv / 1000 ** steps))) + 1);
  const perLine = Math.floor(PERCENTILE_LINE_CHARS / (PERCENTILE_PRECISION + 10 + width));
  const out = [`    ${name} percentiles (${unit}):`];
  let line = '     |';
  entries.forEach(([p, v], j) => {
    const last = j === entries.length - 1;
    line += ` ${p.toFixed(PERCENTILE_PRECISION).padStart(PERCENTILE_PRECISION + 3)}th=[${String(scaled(v)).padStart(width)}]${last ? '' : ','}`;
    if (last || j % perLine === perLine - 1) {
      out.push(line);
      line = '     |';
    }
  });
  return out;
}

/** fio's bw and iops sample lines (show_ddir_status): KiB/s, or MiB/s once the mean passes 1 GiB/s in KiB. */
function sampleLines(d: FioDir): string[] {
  const out: string[] = [];
  if (d.bw_samples) {
    let div = 1;
    let unit = 'KiB';
    if (d.bw_mean > 1024 * 1024) (div = 1024), (unit = 'MiB');
    out.push(`   bw (${unit.padStart(5)}/s): min=${String(Math.floor(d.bw_min / div)).padStart(5)}, max=${String(Math.floor(d.bw_max / div)).padStart(5)}, per=${d.bw_agg.toFixed(2)}%, avg=${(d.bw_mean / div).toFixed(2).padStart(5)}, stdev=${(d.bw_dev / div).toFixed(2).padStart(5)}, samples=${d.bw_samples}`);
  }
  if (d.iops_samples) out.push(`   iops        : min=${String(d.iops_min).padStart(5)}, max=${String(d.iops_max).padStart(5)}, avg=${d.iops_mean.toFixed(2).padStart(5)}, stdev=${d.iops_stddev.toFixed(2).padStart(5)}, samples=${d.iops_samples}`);
  return out;
}

function dirBlock(name: string, d: FioDir): string[] {
  if (!d.total_ios) return [];
  const lines = [`  ${name}: IOPS=${iops(d.iops)}, BW=${bin(d.bw_bytes)}/s (${dec(d.bw_bytes)}/s)(${bin(d.io_bytes)}/${d.runtime}msec)`];
  lines.push(`    ${latLine('slat', d.slat_ns)}`, `    ${latLine('clat', d.clat_ns)}`, `    ${latLine(' lat', d.lat_ns)}`);
  lines.push(...percentileLines('slat', d.slat_ns), ...percentileLines('clat', d.clat_ns), ...percentileLines('lat', d.lat_ns));
  lines.push(...sampleLines(d));
  if (d.wall) lines.push(`    wall clock: IOPS=${iops(d.wall.iops)}, BW=${bin(d.wall.bw_bytes)}/s, clat p50=${Math.round(d.wall.clat_ns.percentile?.['50.000000'] ?? 0)}ns, ${d.wall.runtime}msec`);
  return lines;
}

/** fio's show_lat: the non-empty latency buckets of a unit, five to a line. */
function latBucketLines(unit: string, buckets: Record<string, number>): string[] {
  const cells = Object.entries(buckets).filter(([, v]) => v > 0).map(([k, v]) => `${k}=${v.toFixed(2)}%`);
  const out: string[] = [];
  for (let i = 0; i < cells.length; i += 5) out.push(`  lat (${unit})   : ${cells.slice(i, i + 5).join(', ')}`);
  return out;
}

/** fio's depth lines: each bucket's share with one decimal. */
function distLine(label: string, m: Record<string, number>): string {
  return `${label}: ${Object.entries(m).map(([k, v]) => `${k}=${v.toFixed(1)}%`).join(', ')}`;
}

/** The job-wide lines after the directions (show_thread_status_normal). */
function jobTail(j: FioJob): string[] {
  const dirs = [j.read, j.write, j.trim];
  return [
    ...latBucketLines('nsec', j.latency_ns),
    ...latBucketLines('usec', j.latency_us),
    ...latBucketLines('msec', j.latency_ms),
    `  cpu          : usr=${j.usr_cpu.toFixed(2)}%, sys=${j.sys_cpu.toFixed(2)}%, ctx=${j.ctx}, majf=${j.majf}, minf=${j.minf}`,
    distLine('  IO depths    ', j.iodepth_level),
    distLine('     submit    ', j.iodepth_submit),
    distLine('     complete  ', j.iodepth_complete),
    // fio's fourth column is sync; copylab issues no syncs (copies are counted on the copy lines).
    `     issued rwts: total=${dirs.map((d) => d.total_ios).join(',')},0 short=${dirs.map((d) => d.short_ios).join(',')},0 dropped=${dirs.map((d) => d.drop_ios).join(',')},0`,
  ];
}

function header(spec: JobSpec): string {
  const b = spec.bs;
  return `${spec.name}: (g=${spec.group}): rw=${spec.rw}, bs=(R) ${b.read}B-${b.read}B, (W) ${b.write}B-${b.write}B, (T) ${b.trim}B-${b.trim}B, ioengine=${spec.ioengine}, iodepth=${spec.iodepth}`;
}

export function formatNormal(result: FioResult, specs: readonly JobSpec[]): string {
  const out: string[] = [];
  const seen = new Set<JobSpec>();
  for (const s of specs) if (!seen.has(s)) (seen.add(s), out.push(header(s)));
  out.push(result['fio version']);
  const total = specs.reduce((n, s) => n + s.numjobs, 0);
  out.push(`Starting ${total} job${total === 1 ? '' : 's'}`, '');
  for (const j of result.jobs) out.push(...jobBlock(j), '');
  const groups = [...new Set(result.jobs.map((j) => j.groupid))];
  for (const g of groups) {
    const jobs = result.jobs.filter((j) => j.groupid === g);
    out.push(`Run status group ${g} (all jobs):`);
    for (const d of [...DIRS, 'copy'] as const) {
      const ds = jobs.map((j) => j[d]).filter((x) => x.total_ios);
      if (!ds.length) continue;
      const io = ds.reduce((s, x) => s + x.io_bytes, 0);
      const runs = ds.map((x) => x.runtime);
      const maxRun = Math.max(...runs);
      const agg = maxRun ? io / (maxRun / 1000) : 0;
      const bws = ds.map((x) => x.bw_bytes);
      out.push(`${d.toUpperCase().padStart(7)}: bw=${bin(agg)}/s (${dec(agg)}/s), ${bin(Math.min(...bws))}/s-${bin(Math.max(...bws))}/s (${dec(Math.min(...bws))}/s-${dec(Math.max(...bws))}/s), io=${bin(io)} (${dec(io)}), run=${Math.min(...runs)}-${maxRun}msec`);
    }
  }
  return out.join('\n') + '\n';
}

function jobBlock(j: FioJob): string[] {
  const lines = [`${j.jobname}: (groupid=${j.groupid}, jobs=${j.copylab.jobs}): err=${String(j.error).padStart(2)}: ${j.copylab.device}, ${j.copylab.clock} time`];
  if (j.copylab.error_message) lines.push(`  error: ${j.copylab.error_message}`);
  for (const d of DIRS) lines.push(...dirBlock(d, j[d]));
  const c = j.copy;
  if (c.total_ios) {
    lines.push(...dirBlock('copy', c));
    const reasons = Object.entries(c.reasons).map(([k, v]) => `${k}=${v}`).join(', ');
    lines.push(`    copy engine: offloaded=${bin(c.offloaded_bytes)}, emulated=${bin(c.emulated_bytes)}, host=${bin(c.host_bytes)}, pieces=${c.pieces}${reasons ? `, reasons: ${reasons}` : ''}`);
  }
  if (j.copylab.zone_resets !== undefined) lines.push(`  zones: resets=${j.copylab.zone_resets}`);
  lines.push(...jobTail(j));
  return lines;
}

/** fio's terse v3 per-direction fields: kB, bw KiB/s, iops, runtime ms; slat, clat (µs); 20 percentiles; lat; bw samples. */
function terseDir(d: FioDir): string[] {
  const us = (l: FioLatency): string[] => [String(Math.floor(l.min / 1000)), String(Math.floor(l.max / 1000)), (l.mean / 1000).toFixed(6), (l.stddev / 1000).toFixed(6)];
  const pct = Object.entries((d.lat_ns.percentile ? d.lat_ns : d.clat_ns).percentile ?? {}).map(([p, v]) => `${Number(p).toFixed(6)}%=${Math.floor(v / 1000)}`);
  while (pct.length < TERSE_PERCENTILES) pct.push('0%=0');
  return [
    String(d.io_kbytes), String(d.bw), String(Math.floor(d.iops)), String(d.runtime),
    ...us(d.slat_ns), ...us(d.clat_ns), ...pct, ...us(d.lat_ns),
    String(d.bw_min), String(d.bw_max), `${d.bw_agg.toFixed(6)}%`, d.bw_mean.toFixed(6), d.bw_dev.toFixed(6),
  ];
}

/** fio writes FIO_IO_U_LIST_MAX_LEN percentile fields per direction, padded with 0%=0. */
const TERSE_PERCENTILES = 20;

/**
 * fio's terse version 3 (show_thread_status_terse_all): read and write (v3 has no trim fields),
 * then CPU, the 7 depth buckets, 10 usec latency buckets (the nsec ones counted in the first)
 * and 12 msec buckets.
 */
function terseJob(j: FioJob, version: string): string {
  const usec = Object.values(j.latency_us);
  usec[0] = (usec[0] ?? 0) + Object.values(j.latency_ns).reduce((a, b) => a + b, 0);
  return [
    '3', version, j.jobname, String(j.groupid), String(j.error),
    ...terseDir(j.read), ...terseDir(j.write),
    `${j.usr_cpu.toFixed(6)}%`, `${j.sys_cpu.toFixed(6)}%`, String(j.ctx), String(j.majf), String(j.minf),
    ...Object.values(j.iodepth_level).map((v) => `${v.toFixed(1)}%`),
    ...usec.map((v) => `${v.toFixed(2)}%`),
    ...Object.values(j.latency_ms).map((v) => `${v.toFixed(2)}%`),
  ].join(';');
}

export function formatTerse(result: FioResult): string {
  return result.jobs.map((j) => terseJob(j, result['fio version'])).join('\n') + '\n';
}
