/**
 * Whether a parsed JSON document has what the bench chart (plot.ts) reads of copylab bench
 * results: checked before drawing, so a document of another shape is one line naming the first
 * field that is missing or of the wrong type, not an exception inside the renderer.
 */
/** Jobs a results file may hold (bench runs at most 256 sections, each up to numjobs clones). */
export const PLOT_MAX_JOBS = 65_536;

const DIRS = ['read', 'write', 'trim', 'copy'] as const;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Why `v` is not copylab bench results (the first problem, naming its place), or undefined. */
export function resultsShapeError(v: unknown): string | undefined {
  if (!isObj(v) || !Array.isArray(v.jobs)) return 'not copylab bench results (an object with jobs[]; copylab bench --output-format=json writes them)';
  if (v.jobs.length > PLOT_MAX_JOBS) return `more than ${PLOT_MAX_JOBS} jobs`;
  for (const [i, j] of v.jobs.entries()) {
    const at = `jobs[${i}]`;
    if (!isObj(j)) return `${at}: not an object`;
    if (typeof j.jobname !== 'string') return `${at}.jobname: not a string`;
    const c = j.copylab;
    if (!isObj(c)) return `${at}.copylab: missing (results of copylab bench, not of fio?)`;
    if (!isNum(c.iodepth)) return `${at}.copylab.iodepth: not a number`;
    if (!isObj(c.bs)) return `${at}.copylab.bs: not an object`;
    if (c.rw !== undefined && typeof c.rw !== 'string') return `${at}.copylab.rw: not a string`;
    if (c.rw === undefined && !isObj(j['job options'])) return `${at}: neither copylab.rw nor job options`;
    for (const dir of DIRS) {
      const d = j[dir];
      if (!isObj(d)) return `${at}.${dir}: not an object`;
      for (const k of ['total_ios', 'io_bytes', 'bw_bytes', 'iops'] as const) if (!isNum(d[k])) return `${at}.${dir}.${k}: not a number`;
      if (!isObj(d.clat_ns)) return `${at}.${dir}.clat_ns: not an object`;
      if (d.clat_ns.percentile !== undefined && !isObj(d.clat_ns.percentile)) return `${at}.${dir}.clat_ns.percentile: not an object`;
      if (d.clat_ns.mean !== undefined && !isNum(d.clat_ns.mean)) return `${at}.${dir}.clat_ns.mean: not a number`;
      if (dir === 'copy') {
        for (const k of ['offloaded_bytes', 'emulated_bytes'] as const) if (!isNum(d[k])) return `${at}.copy.${k}: not a number`;
      } else if (d.total_ios !== 0 && !isNum(c.bs[dir])) return `${at}.copylab.bs.${dir}: not a number`;
    }
  }
  return undefined;
}

