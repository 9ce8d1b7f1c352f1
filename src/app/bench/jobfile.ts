/**
 * fio job files (HOWTO "Job file format"): INI sections, `[global]` options apply to the jobs
 * after them, `;` and `#` start comment lines, an option without `=` is a boolean flag. Every
 * problem is a JobFileError naming the file, the section and the line.
 */
import { readFileBounded, BoundedReadError } from '../../core/util/read-bounded.js';
import { escapedPrefix } from '../../core/util/escaped-prefix.js';
import { applyOption, defaultDraft, type JobDraft } from './options.js';
import type { JobSpec } from './job.js';

export const JOBFILE_LIMITS = {
  /** A job file is read only up to this size (checked before reading). */
  bytes: 1024 * 1024,
  lineChars: 8192,
  /** Job sections per file and jobs (after numjobs) per run. */
  sections: 256,
} as const;

export class JobFileError extends Error {
  constructor(readonly file: string, readonly section: string | null, readonly line: number | null, readonly detail: string) {
    super(`${file}${line !== null ? `:${line}` : ''}:${section !== null ? ` [${section}]` : ''} ${detail}`);
    this.name = 'JobFileError';
  }
}

/** Reads a job file ("-" is the standard input), refusing one larger than the limit before holding it. */
export function readJobFile(file: string, limit: number = JOBFILE_LIMITS.bytes): string {
  try {
    return new TextDecoder().decode(readFileBounded(file, limit));
  } catch (err) {
    if (err instanceof BoundedReadError) throw new JobFileError(file, null, null, err.message);
    throw err;
  }
}

interface RawOption {
  readonly name: string;
  readonly value: string | undefined;
  readonly line: number;
}

interface RawSection {
  readonly name: string;
  readonly line: number;
  readonly options: RawOption[];
}

/** Splits INI text into sections of options, checking the syntax. */
function splitSections(text: string, file: string): RawSection[] {
  const sections: RawSection[] = [];
  let current: RawSection | null = null;
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const n = i + 1;
    if (raw.length > JOBFILE_LIMITS.lineChars) throw new JobFileError(file, current?.name ?? null, n, `line longer than ${JOBFILE_LIMITS.lineChars} characters`);
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      const m = /^\[([^\]\s]+)\]$/.exec(line);
      if (!m) throw new JobFileError(file, current?.name ?? null, n, `bad section header ${escapedPrefix(line)}`);
      if (sections.length >= JOBFILE_LIMITS.sections) throw new JobFileError(file, m[1]!, n, `more than ${JOBFILE_LIMITS.sections} sections`);
      current = { name: m[1]!, line: n, options: [] };
      sections.push(current);
      continue;
    }
    // A file that is not a job file (another format, a secret) is quoted by its first bytes only.
    if (!current) throw new JobFileError(file, null, n, `option ${escapedPrefix(line)} before any [section] (not a fio job file?)`);
    const eq = line.indexOf('=');
    const name = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new JobFileError(file, current.name, n, `bad option name ${escapedPrefix(name)}`);
    current.options.push({ name, value: eq < 0 ? undefined : line.slice(eq + 1).trim(), line: n });
  }
  return sections;
}

/** kb_base changes how later sizes parse: apply it first, as fio's option priority does. */
function ordered(options: readonly RawOption[]): RawOption[] {
  return [...options.filter((o) => o.name === 'kb_base'), ...options.filter((o) => o.name !== 'kb_base')];
}

/** Parses a job file's text into jobs (one per job section; numjobs clones are made at run time). */
export function parseJobText(text: string, file: string, firstGroup = 0): JobSpec[] {
  const jobs: JobSpec[] = [];
  const globals: RawOption[] = [];
  let group = firstGroup;
  for (const section of splitSections(text, file)) {
    if (section.name === 'global') {
      // Validate now so the error names this section and line.
      const probe = defaultDraft();
      for (const o of ordered([...globals, ...section.options])) {
        const msg = applyOption(probe, o.name, o.value);
        if (msg) throw new JobFileError(file, section.name, o.line, msg);
      }
      globals.push(...section.options);
      continue;
    }
    const d: JobDraft = defaultDraft();
    for (const o of ordered(globals)) applyOption(d, o.name, o.value);
    const options: Record<string, string> = {};
    const lines: Record<string, number> = {};
    for (const o of ordered(section.options)) {
      const msg = applyOption(d, o.name, o.value);
      if (msg) throw new JobFileError(file, section.name, o.line, msg);
    }
    for (const o of section.options) {
      options[o.name] = o.value ?? '';
      lines[o.name] = o.line;
    }
    for (const o of globals) if (!(o.name in lines)) lines[o.name] = o.line;
    if (d.stonewall && jobs.length > 0) group++;
    jobs.push(finish(d, section, file, group, options, lines));
  }
  if (jobs.length === 0) throw new JobFileError(file, null, null, 'no job sections (only [global] or nothing)');
  return jobs;
}

function finish(d: JobDraft, section: RawSection, file: string, group: number, options: Record<string, string>, lines: Record<string, number>): JobSpec {
  const fail = (key: string, msg: string): never => {
    throw new JobFileError(file, section.name, lines[key] ?? section.line, msg);
  };
  if (d.filename === undefined) fail('filename', 'missing filename= (a lab device such as /dev/nullb0)');
  if (d.time_based && d.runtime_ns === undefined) fail('time_based', 'time_based needs runtime=');
  if (d.zonemode === 'zbd' && d.zonesize === undefined) fail('zonemode', 'zonemode=zbd needs zonesize= (lab devices report no zone size to the block layer)');
  if (d.max_open_zones > 0 && d.zonemode !== 'zbd') fail('max_open_zones', 'max_open_zones needs zonemode=zbd');
  if ((d.rw === 'copy' || d.rw === 'randcopy') && d.ioengine === 'copylab-sync' && d.iodepth > 1) fail('iodepth', 'copylab-sync runs one request at a time (iodepth=1)');
  if (d.copy_src !== undefined && d.rw !== 'copy' && d.rw !== 'randcopy') fail('copy_src', 'copy_src needs rw=copy or rw=randcopy');
  return {
    name: d.name ?? section.name,
    file,
    line: section.line,
    group,
    filename: d.filename,
    rw: d.rw,
    rwmixread: d.rwmixread,
    bs: d.bs,
    bssplit: d.bssplit,
    iodepth: d.ioengine === 'copylab-sync' ? 1 : d.iodepth,
    numjobs: d.numjobs,
    size: d.size,
    offset: d.offset,
    io_size: d.io_size,
    runtime_ns: d.runtime_ns,
    time_based: d.time_based,
    zero_buffers: d.zero_buffers,
    ramp_time_ns: d.ramp_time_ns,
    random_distribution: d.random_distribution,
    zonemode: d.zonemode,
    zonesize: d.zonesize,
    max_open_zones: d.max_open_zones,
    ioengine: d.ioengine,
    rate: d.rate,
    rate_iops: d.rate_iops,
    randseed: d.randseed,
    copy_ranges: d.copy_ranges,
    copy_src: d.copy_src,
    percentile_list: d.percentile_list,
    group_reporting: d.group_reporting,
    kb_base: d.kb_base,
    logs: {
      ...(d.write_bw_log !== undefined ? { bw: d.write_bw_log } : {}),
      ...(d.write_lat_log !== undefined ? { lat: d.write_lat_log } : {}),
      ...(d.write_iops_log !== undefined ? { iops: d.write_iops_log } : {}),
      avg_msec: d.log_avg_msec,
      offset: d.log_offset,
      max: d.log_max_value,
    },
    bw_avg_ms: d.bw_avg_ms,
    iops_avg_ms: d.iops_avg_ms,
    percentiles: { clat: d.clat_percentiles, lat: d.lat_percentiles, slat: d.slat_percentiles },
    options,
    lines,
  };
}

/** Reads and parses job files in order; groups continue across files (each file starts a new one). */
export function loadJobFiles(files: readonly string[]): JobSpec[] {
  const jobs: JobSpec[] = [];
  for (const f of files) {
    const first = jobs.length ? jobs[jobs.length - 1]!.group + 1 : 0;
    jobs.push(...parseJobText(readJobFile(f), f, first));
    if (jobs.length > JOBFILE_LIMITS.sections) throw new JobFileError(f, null, null, `more than ${JOBFILE_LIMITS.sections} jobs in one run`);
  }
  return jobs;
}
