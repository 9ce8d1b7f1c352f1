/**
 * The fio options copylab understands, by fio's names (HOWTO "Job file parameters"), each with
 * its parser. An option fio has but copylab does not run is an error, never silently ignored:
 * a result must mean what the job file says. `direct` and `thread` are accepted because every
 * lab request is direct and every job runs in the lab's thread (their fio meaning holds).
 */
import {
  DDIR, parseFioBool, parseFioInt, parseFioTime, parsePerDdir, parseRangedInt,
  type KbBase, type Parsed, type PerDdir,
} from './units.js';
import {
  FIO_DEFAULT_PERCENTILES, IO_ENGINES, RW_MODES,
  type BsSplitEntry, type Distribution, type IoEngine, type RwMode,
} from './job.js';
import { FIO_OPTION_NAMES } from './fio-option-names.js';

/** Limits (a limit on everything). */
export const JOB_LIMITS = {
  /** fio's thread_options iodepth has no hard cap; the ring's SQ holds at most 32768. */
  iodepth: 4096,
  numjobs: 64,
  /** fio's BSSPLIT_MAX. */
  bssplit: 64,
  /** fio: up to 256 zones for zoned / zoned_abs (ZONESPLIT_MAX). */
  zones: 256,
  /** fio's percentile_list holds at most 20 (FIO_IO_U_LIST_MAX_LEN). */
  percentiles: 20,
  copyRanges: 256,
  maxOpenZones: 4096,
  /** log_avg_msec, bwavgtime, iopsavgtime: at most an hour (ms). */
  logMsec: 3_600_000,
  /** A log file name prefix (write_bw_log=NAME). */
  logName: 1024,
  /** Largest block size, 128 MiB (the block layer's copy bio cap; far above fio's usual). */
  bs: 128 * 1024 * 1024,
} as const;

/** The mutable job a section's options build. */
export interface JobDraft {
  name?: string;
  filename?: string;
  rw: RwMode;
  rwmixread: number;
  bs: PerDdir<number>;
  bssplit: PerDdir<readonly BsSplitEntry[]> | null;
  iodepth: number;
  numjobs: number;
  size?: number;
  offset: number;
  io_size?: number;
  runtime_ns?: number;
  time_based: boolean;
  ramp_time_ns: number;
  zero_buffers: boolean;
  random_distribution: Distribution;
  zonemode: 'none' | 'zbd';
  zonesize?: number;
  max_open_zones: number;
  ioengine: IoEngine;
  rate: PerDdir<number>;
  rate_iops: PerDdir<number>;
  randseed: number;
  copy_ranges: number;
  copy_src?: string;
  percentile_list: readonly number[];
  group_reporting: boolean;
  stonewall: boolean;
  kb_base: KbBase;
  /** write_bw_log / write_lat_log / write_iops_log: the file prefix ('' = the job's name). */
  write_bw_log?: string;
  write_lat_log?: string;
  write_iops_log?: string;
  log_avg_msec: number;
  log_offset: boolean;
  log_max_value: boolean;
  /** bwavgtime / iopsavgtime: the bandwidth and IOPS sampling windows (ms). */
  bw_avg_ms: number;
  iops_avg_ms: number;
  /** clat_percentiles / lat_percentiles / slat_percentiles: which latencies get percentiles (and json+ bins). */
  clat_percentiles: boolean;
  lat_percentiles: boolean;
  slat_percentiles: boolean;
}

/** fio's defaults (HOWTO) for what a job does not say. */
export function defaultDraft(): JobDraft {
  return {
    rw: 'read',
    rwmixread: 50,
    bs: { read: 4096, write: 4096, trim: 4096 },
    bssplit: null,
    iodepth: 1,
    numjobs: 1,
    offset: 0,
    time_based: false,
    ramp_time_ns: 0,
    zero_buffers: false,
    random_distribution: { kind: 'random' },
    zonemode: 'none',
    max_open_zones: 0,
    ioengine: 'copylab-ring',
    rate: { read: 0, write: 0, trim: 0 },
    rate_iops: { read: 0, write: 0, trim: 0 },
    // fio's default randseed (0x89): the same workload every run unless the file says otherwise.
    randseed: 0x89,
    copy_ranges: 1,
    percentile_list: FIO_DEFAULT_PERCENTILES,
    group_reporting: false,
    stonewall: false,
    kb_base: 1024,
    log_avg_msec: 0,
    log_offset: false,
    log_max_value: false,
    // fio's options.c: bwavgtime and iopsavgtime default to 500 ms.
    bw_avg_ms: 500,
    iops_avg_ms: 500,
    // fio's defaults: completion latency percentiles on, total and submission off.
    clat_percentiles: true,
    lat_percentiles: false,
    slat_percentiles: false,
  };
}

type Setter = (d: JobDraft, value: string | undefined) => string | undefined;

const ok = undefined;
const need = (value: string | undefined): Parsed<string> =>
  value === undefined || value.trim() === '' ? { ok: false, message: 'needs a value' } : { ok: true, value: value.trim() };

function size(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (d: JobDraft, v: string | undefined): Parsed<number> => {
    const s = need(v);
    if (!s.ok) return s;
    const p = parseFioInt(s.value, d.kb_base);
    if (!p.ok) return p;
    if (p.value < min || p.value > max) return { ok: false, message: `${s.value} is out of range ${min}..${max}` };
    return p;
  };
}

function intIn(min: number, max: number) {
  return (_d: JobDraft, v: string | undefined): Parsed<number> => {
    const s = need(v);
    return s.ok ? parseRangedInt(s.value, min, max) : s;
  };
}

function time(unit: 's' | 'us' = 's') {
  return (_d: JobDraft, v: string | undefined): Parsed<number> => {
    const s = need(v);
    return s.ok ? parseFioTime(s.value, unit) : s;
  };
}

function oneOf<T extends string>(values: readonly T[]) {
  return (_d: JobDraft, v: string | undefined): Parsed<T> => {
    const s = need(v);
    if (!s.ok) return s;
    return (values as readonly string[]).includes(s.value) ? { ok: true, value: s.value as T } : { ok: false, message: `'${s.value}' is not one of ${values.join(', ')}` };
  };
}

/** Sets `key` from a parser's value, or returns its message. */
function set<K extends keyof JobDraft>(key: K, parse: (d: JobDraft, v: string | undefined) => Parsed<JobDraft[K]>): Setter {
  return (d, v) => {
    const p = parse(d, v);
    if (!p.ok) return p.message;
    d[key] = p.value;
    return ok;
  };
}

/** bssplit=4k/10:64k/50:32k/40[,…]: blank percentages share what is left (HOWTO "bssplit"). */
function parseBssplitList(text: string, kbBase: KbBase): Parsed<readonly BsSplitEntry[]> {
  const items = text.split(':').filter((x) => x.trim() !== '');
  if (items.length === 0) return { ok: false, message: 'an empty bssplit' };
  if (items.length > JOB_LIMITS.bssplit) return { ok: false, message: `at most ${JOB_LIMITS.bssplit} block sizes` };
  const out: { bs: number; pct: number | null }[] = [];
  for (const item of items) {
    const [b, p] = item.split('/') as [string, string | undefined];
    const bs = parseFioInt(b, kbBase);
    if (!bs.ok) return bs;
    if (bs.value < 1 || bs.value > JOB_LIMITS.bs) return { ok: false, message: `block size ${b} out of range` };
    if (p === undefined || p.trim() === '') out.push({ bs: bs.value, pct: null });
    else {
      const pct = Number(p);
      if (!Number.isFinite(pct) || pct < 0 || pct > 100) return { ok: false, message: `'${p}' is not a percentage` };
      out.push({ bs: bs.value, pct });
    }
  }
  const given = out.reduce((s, e) => s + (e.pct ?? 0), 0);
  const blanks = out.filter((e) => e.pct === null).length;
  if (given > 100 + 1e-9) return { ok: false, message: `the percentages add up to ${given}, more than 100` };
  if (blanks === 0 && Math.abs(given - 100) > 1e-9) return { ok: false, message: `the percentages add up to ${given}, not 100` };
  const share = blanks ? (100 - given) / blanks : 0;
  return { ok: true, value: out.map((e) => ({ bs: e.bs, pct: e.pct ?? share })) };
}

/** random_distribution=random | zipf:θ | pareto:h | normal:dev | zoned:p/r:… | zoned_abs:p/size:… */
function parseDistribution(text: string, kbBase: KbBase): Parsed<Distribution> {
  const t = text.trim();
  if (t === 'random') return { ok: true, value: { kind: 'random' } };
  const m = /^(zipf|pareto|normal|zoned|zoned_abs)[:=](.+)$/.exec(t);
  if (!m) return { ok: false, message: `'${t}' is not random, zipf:θ, pareto:h, normal:dev, zoned:… or zoned_abs:…` };
  const [, kind, arg] = m as unknown as [string, string, string];
  if (kind === 'zipf' || kind === 'pareto' || kind === 'normal') {
    const parts = arg.split(':');
    if (parts.length > 1) return { ok: false, message: `${kind}: a center other than the default is not supported` };
    const x = Number(parts[0]);
    if (kind === 'zipf' && !(x > 0 && x !== 1 && x <= 100)) return { ok: false, message: `zipf theta must be > 0 and not 1 (got '${arg}')` };
    if (kind === 'pareto' && !(x > 0 && x < 1)) return { ok: false, message: `pareto h must be in (0, 1) (got '${arg}')` };
    if (kind === 'normal' && !(x >= 0 && x <= 100)) return { ok: false, message: `normal deviation must be in 0..100 (got '${arg}')` };
    return { ok: true, value: kind === 'zipf' ? { kind, theta: x } : kind === 'pareto' ? { kind, h: x } : { kind, dev: x } };
  }
  // fio allows per-direction zone lists; copylab takes one list for all directions.
  if (arg.includes(',')) return { ok: false, message: `${kind}: one zone list for all directions (no commas)` };
  const items = arg.split(':');
  if (items.length > JOB_LIMITS.zones) return { ok: false, message: `at most ${JOB_LIMITS.zones} zones` };
  let pctSum = 0;
  let rangeSum = 0;
  const zones: { pct: number; r: number }[] = [];
  for (const item of items) {
    const [p, r] = item.split('/') as [string, string | undefined];
    const pct = Number(p);
    if (!Number.isFinite(pct) || pct < 0 || pct > 100 || r === undefined) return { ok: false, message: `'${item}' is not access%/range` };
    let rv: number;
    if (kind === 'zoned') {
      rv = Number(r);
      if (!Number.isFinite(rv) || rv <= 0 || rv > 100) return { ok: false, message: `'${r}' is not a range percentage` };
    } else {
      const s = parseFioInt(r, kbBase);
      if (!s.ok || s.value <= 0) return { ok: false, message: `'${r}' is not a size` };
      rv = s.value;
    }
    pctSum += pct;
    rangeSum += rv;
    zones.push({ pct, r: rv });
  }
  if (Math.abs(pctSum - 100) > 1e-9) return { ok: false, message: `the access percentages add up to ${pctSum}, not 100` };
  if (kind === 'zoned') {
    if (Math.abs(rangeSum - 100) > 1e-9) return { ok: false, message: `the range percentages add up to ${rangeSum}, not 100` };
    return { ok: true, value: { kind, zones: zones.map((z) => ({ pct: z.pct, rangePct: z.r })) } };
  }
  return { ok: true, value: { kind: 'zoned_abs', zones: zones.map((z) => ({ pct: z.pct, bytes: z.r })) } };
}

function perDdirSize(min: number, max: number, fallback: number) {
  return (d: JobDraft, v: string | undefined): Parsed<PerDdir<number>> => {
    const s = need(v);
    if (!s.ok) return s;
    return parsePerDdir(s.value, (x) => {
      const p = parseFioInt(x, d.kb_base);
      if (p.ok && (p.value < min || p.value > max)) return { ok: false, message: `${x.trim()} is out of range ${min}..${max}` };
      return p;
    }, fallback);
  };
}

/** write_*_log=NAME (or the bare flag: the job's name): a file prefix without control characters. */
function logName(_d: JobDraft, v: string | undefined): Parsed<string> {
  const t = (v ?? '').trim();
  if (t.length > JOB_LIMITS.logName) return { ok: false, message: `a log name of at most ${JOB_LIMITS.logName} characters` };
  if (/[\x00-\x1f\x7f]/.test(t)) return { ok: false, message: 'a log name without control characters' };
  return { ok: true, value: t };
}

const SETTERS: Readonly<Record<string, Setter>> = {
  name: set('name', (_d, v) => need(v)),
  description: () => ok,
  filename: set('filename', (_d, v) => need(v)),
  rw: set('rw', oneOf(RW_MODES)),
  rwmixread: set('rwmixread', intIn(0, 100)),
  rwmixwrite: (d, v) => {
    const p = intIn(0, 100)(d, v);
    if (!p.ok) return p.message;
    d.rwmixread = 100 - p.value;
    return ok;
  },
  bs: set('bs', perDdirSize(1, JOB_LIMITS.bs, 4096)),
  bssplit: (d, v) => {
    const s = need(v);
    if (!s.ok) return s.message;
    const p = parsePerDdir(s.value, (x) => parseBssplitList(x, d.kb_base), [] as readonly BsSplitEntry[]);
    if (!p.ok) return p.message;
    d.bssplit = p.value;
    return ok;
  },
  iodepth: set('iodepth', intIn(1, JOB_LIMITS.iodepth)),
  numjobs: set('numjobs', intIn(1, JOB_LIMITS.numjobs)),
  size: set('size', size(1)),
  offset: set('offset', size(0)),
  io_size: set('io_size', size(1)),
  runtime: set('runtime_ns', time('s')),
  time_based: set('time_based', (_d, v) => parseFioBool(v)),
  zero_buffers: set('zero_buffers', (_d, v) => parseFioBool(v)),
  ramp_time: set('ramp_time_ns', time('s')),
  random_distribution: set('random_distribution', (d, v) => {
    const s = need(v);
    return s.ok ? parseDistribution(s.value, d.kb_base) : s;
  }),
  zonemode: set('zonemode', oneOf(['none', 'zbd'] as const)),
  zonesize: set('zonesize', size(4096)),
  max_open_zones: set('max_open_zones', intIn(0, JOB_LIMITS.maxOpenZones)),
  ioengine: set('ioengine', oneOf(IO_ENGINES)),
  rate: set('rate', perDdirSize(0, Number.MAX_SAFE_INTEGER, 0)),
  rate_iops: set('rate_iops', (_d, v) => {
    const s = need(v);
    return s.ok ? parsePerDdir(s.value, (x) => parseRangedInt(x, 0, 1e9), 0) : s;
  }),
  randseed: set('randseed', intIn(0, 2 ** 32 - 1)),
  copy_ranges: set('copy_ranges', intIn(1, JOB_LIMITS.copyRanges)),
  copy_src: set('copy_src', (_d, v) => need(v)),
  percentile_list: set('percentile_list', (_d, v) => {
    const s = need(v);
    if (!s.ok) return s;
    const list = s.value.split(':').map(Number);
    if (list.length > JOB_LIMITS.percentiles) return { ok: false, message: `at most ${JOB_LIMITS.percentiles} percentiles` };
    if (list.some((x) => !(x > 0 && x <= 100))) return { ok: false, message: `'${s.value}': each percentile must be in (0, 100]` };
    return { ok: true, value: [...list].sort((a, b) => a - b) };
  }),
  group_reporting: set('group_reporting', (_d, v) => parseFioBool(v)),
  stonewall: set('stonewall', (_d, v) => parseFioBool(v)),
  kb_base: set('kb_base', (_d, v) => {
    const s = need(v);
    if (!s.ok) return s;
    return s.value === '1000' || s.value === '1024' ? { ok: true, value: Number(s.value) as KbBase } : { ok: false, message: `'${s.value}' is not 1000 or 1024` };
  }),
  // Every lab request bypasses any cache and every job runs in the lab's thread: fio's meaning holds.
  direct: (_d, v) => {
    const p = parseFioBool(v);
    if (!p.ok) return p.message;
    return p.value ? ok : 'direct=0 (buffered I/O) is not modelled: lab devices have no page cache';
  },
  thread: (_d, v) => (parseFioBool(v).ok ? ok : `'${v}' is not a boolean`),
  write_bw_log: set('write_bw_log', logName),
  write_lat_log: set('write_lat_log', logName),
  write_iops_log: set('write_iops_log', logName),
  log_avg_msec: set('log_avg_msec', intIn(0, JOB_LIMITS.logMsec)),
  log_offset: set('log_offset', (_d, v) => parseFioBool(v)),
  log_max_value: set('log_max_value', (_d, v) => parseFioBool(v)),
  bwavgtime: set('bw_avg_ms', intIn(1, JOB_LIMITS.logMsec)),
  iopsavgtime: set('iops_avg_ms', intIn(1, JOB_LIMITS.logMsec)),
  clat_percentiles: set('clat_percentiles', (_d, v) => parseFioBool(v)),
  lat_percentiles: set('lat_percentiles', (_d, v) => parseFioBool(v)),
  slat_percentiles: set('slat_percentiles', (_d, v) => parseFioBool(v)),
};

/** fio's other spellings of the same options. */
const ALIASES: Readonly<Record<string, string>> = {
  readwrite: 'rw',
  blocksize: 'bs',
  io_limit: 'io_size',
  wait_for_previous: 'stonewall',
};

/** Names copylab accepts (fio's spelling, then its aliases), for messages. */
export const OPTION_NAMES: readonly string[] = [...Object.keys(SETTERS), ...Object.keys(ALIASES)];

/** The supported names, as the refusal of another option lists them. */
export function supportedList(): string {
  return `copylab supports: ${OPTION_NAMES.join(', ')}`;
}

/** Applies one option; returns a message when the name or value is not accepted. */
export function applyOption(d: JobDraft, rawName: string, value: string | undefined): string | undefined {
  const name = ALIASES[rawName] || rawName;
  const setter = SETTERS[name];
  if (!setter) {
    // An fio option copylab does not run is refused by name; anything else is not fio's either.
    if (FIO_OPTION_NAMES.has(rawName)) return `${rawName}: not supported (an fio option copylab does not run; ${supportedList()})`;
    return `unknown option '${rawName}' (not an fio option; ${supportedList()})`;
  }
  const msg = setter(d, value);
  return msg === undefined ? undefined : `${rawName}: ${msg}`;
}

/** Directions in fio's order, for iterating per-direction values. */
export { DDIR };
