/**
 * fio's per-job distributions (io_u.c, stat.c): the queue depth each I/O was issued at
 * (iodepth_level), the I/Os handed over per submit call and reaped per completion call
 * (iodepth_submit, iodepth_complete), and the completion latency of each I/O in fio's coarse
 * buckets (latency_ns, latency_us, latency_ms). The bucket edges and key names are fio's; the
 * JSON gives each bucket's share of the I/Os in percent, as fio's stat_calc_dist and
 * stat_calc_lat do (a non-empty bucket shows at least 0.1 and 0.01 percent).
 */

/** fio stat.h FIO_IO_U_MAP_NR: buckets of the depth, submit and complete maps. */
export const FIO_IO_U_MAP_NR = 7;
/** fio stat.h FIO_IO_U_LAT_N_NR, FIO_IO_U_LAT_U_NR, FIO_IO_U_LAT_M_NR. */
export const FIO_IO_U_LAT_N_NR = 10;
export const FIO_IO_U_LAT_U_NR = 10;
export const FIO_IO_U_LAT_M_NR = 12;

/** io_u_mark_depth: depth 1, 2-3, 4-7, 8-15, 16-31, 32-63, 64 and more; keyed as show_thread_status_json names them. */
const DEPTH_KEYS = ['1', '2', '4', '8', '16', '32', '>=64'] as const;
/** __io_u_mark_map: 0, 1-4, 5-8, 9-16, 17-32, 33-64, more than 64 I/Os per call. */
const MAP_KEYS = ['0', '4', '8', '16', '32', '64', '>=64'] as const;
/** io_u_mark_lat_nsec / _usec / _msec: a bucket holds values below its key (0-1 in "2", 2-3 in "4", …). */
const LAT_EDGES = [2, 4, 10, 20, 50, 100, 250, 500, 750, 1000] as const;
const LAT_KEYS = LAT_EDGES.map(String);
const LAT_M_KEYS = [...LAT_KEYS, '2000', '>=2000'];
/** stat_calc_dist shows a non-empty depth bucket as at least this percent, stat_calc_lat a latency bucket at least this. */
const DIST_FLOOR_PCT = 0.1;
const LAT_FLOOR_PCT = 0.01;

function depthIdx(depth: number): number {
  if (depth >= 64) return 6;
  if (depth >= 32) return 5;
  if (depth >= 16) return 4;
  if (depth >= 8) return 3;
  if (depth >= 4) return 2;
  return depth >= 2 ? 1 : 0;
}

function mapIdx(n: number): number {
  if (n > 64) return 6;
  if (n > 32) return 5;
  if (n > 16) return 4;
  if (n > 8) return 3;
  if (n > 4) return 2;
  return n >= 1 ? 1 : 0;
}

/** Bucket of v among LAT_EDGES (v below 1000). */
function latIdx(v: number): number {
  let i = 0;
  while (i < LAT_EDGES.length - 1 && v >= LAT_EDGES[i]!) i++;
  return i;
}

function percents(keys: readonly string[], counts: Float64Array, total: number, floor: number): Record<string, number> {
  const out: Record<string, number> = {};
  keys.forEach((k, i) => {
    const c = counts[i]!;
    let p = total ? (c / total) * 100 : 0;
    if (c && p < floor) p = floor;
    out[k] = p;
  });
  return out;
}

export interface FioDistJson {
  iodepth_level: Record<string, number>;
  iodepth_submit: Record<string, number>;
  iodepth_complete: Record<string, number>;
  latency_ns: Record<string, number>;
  latency_us: Record<string, number>;
  latency_ms: Record<string, number>;
}

export class FioDist {
  readonly depth = new Float64Array(FIO_IO_U_MAP_NR);
  readonly submit = new Float64Array(FIO_IO_U_MAP_NR);
  readonly complete = new Float64Array(FIO_IO_U_MAP_NR);
  readonly latN = new Float64Array(FIO_IO_U_LAT_N_NR);
  readonly latU = new Float64Array(FIO_IO_U_LAT_U_NR);
  readonly latM = new Float64Array(FIO_IO_U_LAT_M_NR);
  /** I/Os issued (the depth map's total), submit and reap calls, latencies marked. */
  issued = 0;
  submits = 0;
  completes = 0;
  latencies = 0;

  /** `n` I/Os issued with `depth` in flight once they are (fio counts at commit, after queueing). */
  markDepth(depth: number, n: number): void {
    this.depth[depthIdx(depth)]! += n;
    this.issued += n;
  }

  markSubmit(n: number): void {
    this.submit[mapIdx(n)]!++;
    this.submits++;
  }

  markComplete(n: number): void {
    this.complete[mapIdx(n)]!++;
    this.completes++;
  }

  /** Completion latency of one I/O (io_u_mark_latency). */
  markLatency(ns: number): void {
    const v = Math.max(0, Math.floor(ns));
    this.latencies++;
    if (v < 1000) this.latN[latIdx(v)]!++;
    else if (v < 1e6) this.latU[latIdx(Math.floor(v / 1e3))]!++;
    else {
      const ms = Math.floor(v / 1e6);
      this.latM[ms >= 2000 ? 11 : ms >= 1000 ? 10 : latIdx(ms)]!++;
    }
  }

  add(o: FioDist): void {
    for (const k of ['depth', 'submit', 'complete', 'latN', 'latU', 'latM'] as const) for (let i = 0; i < this[k].length; i++) this[k][i]! += o[k][i]!;
    this.issued += o.issued;
    this.submits += o.submits;
    this.completes += o.completes;
    this.latencies += o.latencies;
  }

  toJson(): FioDistJson {
    return {
      iodepth_level: percents(DEPTH_KEYS, this.depth, this.issued, DIST_FLOOR_PCT),
      iodepth_submit: percents(MAP_KEYS, this.submit, this.submits, DIST_FLOOR_PCT),
      iodepth_complete: percents(MAP_KEYS, this.complete, this.completes, DIST_FLOOR_PCT),
      latency_ns: percents(LAT_KEYS, this.latN, this.latencies, LAT_FLOOR_PCT),
      latency_us: percents(LAT_KEYS, this.latU, this.latencies, LAT_FLOOR_PCT),
      latency_ms: percents(LAT_M_KEYS, this.latM, this.latencies, LAT_FLOOR_PCT),
    };
  }
}
