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

/** fio prints latencies in nsec, usec or msec depending on their size. */
function latUnit(l: FioLatency): { name: string; div: number } {
  if (l.max < 10_000) return { name: 'nsec', div: 1 };
  if (l.max < 10_000_000) return { name: 'usec', div: 1e3 };
  return { name: 'msec', div: 1e6 };
}

function latLine(label: string, l: FioLatency): string {
  const u = latUnit(l);
  const f = (x: number): string => (u.div === 1 ? String(Math.round(x)) : (x / u.div).toFixed(2).replace(/\.00$/, ''));
  return `${label} (${u.name}): min=${f(l.min)}, max=${f(l.max)}, avg=${(l.mean / u.div).toFixed(2)}, stdev=${(l.stddev / u.div).toFixed(2)}`;
}

function percentileLines(l: FioLatency): string[] {
  if (!l.percentile) return [];
  const u = latUnit(l);
  const cells = Object.entries(l.percentile).map(([p, v]) => `${Number(p).toFixed(2).padStart(5)}th=[${String(Math.round(v / u.div)).padStart(5)}]`);
  const out = [`    clat percentiles (${u.name}):`];
  for (let i = 0; i < cells.length; i += 4) out.push(`     | ${cells.slice(i, i + 4).join(', ')}${i + 4 < cells.length ? ',' : ''}`);
  return out;
}

function dirBlock(name: string, d: FioDir): string[] {
  if (!d.total_ios) return [];
  const lines = [`  ${name}: IOPS=${iops(d.iops)}, BW=${bin(d.bw_bytes)}/s (${dec(d.bw_bytes)}/s)(${bin(d.io_bytes)}/${d.runtime}msec)`];
  lines.push(`    ${latLine('slat', d.slat_ns)}`, `    ${latLine('clat', d.clat_ns)}`, `    ${latLine(' lat', d.lat_ns)}`);
  lines.push(...percentileLines(d.clat_ns));
  if (d.wall) lines.push(`    wall clock: IOPS=${iops(d.wall.iops)}, BW=${bin(d.wall.bw_bytes)}/s, clat p50=${Math.round(d.wall.clat_ns.percentile?.['50.000000'] ?? 0)}ns, ${d.wall.runtime}msec`);
  return lines;
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
  return lines;
}

/** fio's terse v3 per-direction fields: kB, bw KiB/s, iops, runtime ms; slat, clat (µs); 20 percentiles; lat; bw stats. */
function terseDir(d: FioDir): string[] {
  const us = (l: FioLatency): string[] => [String(Math.round(l.min / 1000)), String(Math.round(l.max / 1000)), (l.mean / 1000).toFixed(6), (l.stddev / 1000).toFixed(6)];
  const pct = Object.entries(d.clat_ns.percentile ?? {}).map(([p, v]) => `${Number(p).toFixed(6)}%=${Math.round(v / 1000)}`);
  while (pct.length < 20) pct.push('0%=0');
  return [
    String(d.io_kbytes), String(d.bw), String(Math.round(d.iops)), String(d.runtime),
    ...us(d.slat_ns), ...us(d.clat_ns), ...pct, ...us(d.lat_ns),
    String(d.bw), String(d.bw), '100.000000%', d.bw.toFixed(6), '0.000000',
  ];
}

export function formatTerse(result: FioResult): string {
  return result.jobs.map((j) => ['3', result['fio version'], j.jobname, String(j.groupid), String(j.error), ...DIRS.flatMap((d) => terseDir(j[d]))].join(';')).join('\n') + '\n';
}
