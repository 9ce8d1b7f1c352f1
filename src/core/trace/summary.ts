/**
 * A btt-like summary of a trace: events per action and device, Q→C latency per request (first
 * queue to last completion of the request), splits (X), remaps (A), emulations (E) with their
 * reasons, and failed completions; then btt's Q2D, D2C and Q2C per device (the device the
 * request was queued on), each with percentiles, on wall and modeled time.
 *
 * D2C pairs as btt pairs it (trace_complete.c: the D on the C's device at the C's sector, of its
 * size): a request's D2C runs from the issue of the extent its last C completes to that C, and
 * its Q2D from its first Q to that issue. A request carried out in pieces (split, emulated in
 * chunks, remapped through dm) has no issue of its own extent, so neither, as in btt.
 */
import { LatencyStats } from '../util/latency.js';
import { OP_RWBS } from '../block/ops.js';
import type { TraceRecord } from './record.js';

/** Requests whose Q time is held while waiting for their C (a bound on the summary's memory). */
export const SUMMARY_MAX_OPEN_REQUESTS = 1_000_000;
/** Devices given their own latency rows; requests queued on others are counted under "(other)". */
export const SUMMARY_MAX_DEVICES = 64;
/** Issues (D) of one request waiting for their completion; past it the oldest is forgotten. */
export const SUMMARY_MAX_ISSUES_PER_REQUEST = 1024;

interface Stamp {
  readonly w: number;
  readonly m?: number;
}

interface OpenRequest {
  dev: string;
  w: number;
  m?: number;
  /** Issues not yet completed, by device, sector and size. */
  issued: Map<string, Stamp>;
  /** The issue the last C completed (undefined: it completed no D of its own extent). */
  d?: Stamp;
  lastW: number;
  lastM?: number;
  done: boolean;
}

const extentKey = (r: TraceRecord): string => `${r.dev} ${r.sector} ${r.sectors}`;

/** btt's per-device latencies on one clock. */
class DeviceLatency {
  readonly q2d = new LatencyStats();
  readonly d2c = new LatencyStats();
  readonly q2c = new LatencyStats();
}

export class TraceSummary {
  events = 0;
  readonly actions = new Map<string, number>();
  readonly devices = new Map<string, Map<string, number>>();
  readonly ops = new Map<string, number>();
  readonly reasons = new Map<string, number>();
  readonly errors = new Map<string, number>();
  readonly q2c = new LatencyStats();
  readonly q2cModeled = new LatencyStats();
  private readonly open = new Map<number, OpenRequest>();
  /** Per device of the Q: wall and modeled latencies. */
  readonly perDevice = new Map<string, { wall: DeviceLatency; modeled: DeviceLatency }>();
  dropped = 0;

  add(r: TraceRecord): void {
    this.events++;
    bump(this.actions, r.action);
    let d = this.devices.get(r.dev);
    if (!d) this.devices.set(r.dev, (d = new Map()));
    bump(d, r.action);
    if (r.action === 'Q') bump(this.ops, OP_RWBS[r.op] ?? String(r.op));
    if (r.action === 'E') bump(this.reasons, (r.info ?? 'unknown').split(':')[0]!.trim());
    if (r.action === 'C' && r.res !== undefined && r.res < 0) bump(this.errors, String(r.res));
    if (r.req === undefined) return;
    const o = this.open.get(r.req);
    if (!o) {
      if (r.action !== 'Q') return;
      if (this.open.size >= SUMMARY_MAX_OPEN_REQUESTS) {
        this.dropped++;
        return;
      }
      this.open.set(r.req, { dev: r.dev, w: r.wns, ...(r.mns !== undefined ? { m: r.mns } : {}), issued: new Map(), lastW: r.wns, done: false });
      return;
    }
    if (r.action === 'D') {
      if (o.issued.size >= SUMMARY_MAX_ISSUES_PER_REQUEST) o.issued.delete(o.issued.keys().next().value!);
      o.issued.set(extentKey(r), { w: r.wns, ...(r.mns !== undefined ? { m: r.mns } : {}) });
    }
    if (r.action === 'C') {
      const key = extentKey(r);
      o.d = o.issued.get(key);
      o.issued.delete(key);
      o.lastW = r.wns;
      if (r.mns !== undefined) o.lastM = r.mns;
      o.done = true;
    }
  }

  /** Closes the open requests into the Q→C distribution (call once, after the last record). */
  finish(): void {
    for (const o of this.open.values()) {
      if (!o.done) continue;
      this.q2c.record(o.lastW - o.w);
      if (o.m !== undefined && o.lastM !== undefined) this.q2cModeled.record(o.lastM - o.m);
      const d = this.deviceOf(o.dev);
      d.wall.q2c.record(o.lastW - o.w);
      if (o.d) {
        d.wall.q2d.record(o.d.w - o.w);
        d.wall.d2c.record(o.lastW - o.d.w);
      }
      if (o.m !== undefined && o.lastM !== undefined) {
        d.modeled.q2c.record(o.lastM - o.m);
        if (o.d?.m !== undefined) {
          d.modeled.q2d.record(o.d.m - o.m);
          d.modeled.d2c.record(o.lastM - o.d.m);
        }
      }
    }
    this.open.clear();
  }

  private deviceOf(dev: string): { wall: DeviceLatency; modeled: DeviceLatency } {
    const key = this.perDevice.has(dev) || this.perDevice.size < SUMMARY_MAX_DEVICES ? dev : '(other)';
    let d = this.perDevice.get(key);
    if (!d) this.perDevice.set(key, (d = { wall: new DeviceLatency(), modeled: new DeviceLatency() }));
    return d;
  }

  format(): string {
    const out: string[] = [];
    const us = (ns: number): string => (ns / 1000).toFixed(3);
    out.push(`events: ${this.events}`);
    out.push(`actions: ${[...this.actions].map(([k, v]) => `${k}=${v}`).join(' ') || '-'}`);
    out.push(`queued by op: ${[...this.ops].map(([k, v]) => `${k}=${v}`).join(' ') || '-'}`);
    out.push(`splits (X): ${this.actions.get('X') ?? 0}   remaps (A): ${this.actions.get('A') ?? 0}   emulations (E): ${this.actions.get('E') ?? 0}`);
    if (this.reasons.size) out.push(`emulation reasons: ${[...this.reasons].map(([k, v]) => `${k}=${v}`).join(' ')}`);
    if (this.errors.size) out.push(`failed completions: ${[...this.errors].map(([k, v]) => `${k}×${v}`).join(' ')}`);
    out.push('', 'per device:', `  ${'device'.padEnd(12)} ${['Q', 'X', 'A', 'D', 'C', 'E'].map((a) => a.padStart(8)).join('')}`);
    for (const [dev, m] of this.devices) out.push(`  ${dev.padEnd(12)} ${['Q', 'X', 'A', 'D', 'C', 'E'].map((a) => String(m.get(a) ?? 0).padStart(8)).join('')}`);
    // No completed request (a trace without Q events, or none completed): '-' rather than min = Infinity.
    const line = (name: string, l: LatencyStats): string =>
      `  ${name.padEnd(10)} ${String(l.count).padStart(8)} ${[l.min, l.mean, l.percentile(50), l.percentile(99), l.max].map((v) => (l.count ? us(v) : '-').padStart(12)).join(' ')}`;
    out.push('', 'Q2C latency per request (µs):', `  ${''.padEnd(10)} ${'N'.padStart(8)} ${'min'.padStart(12)} ${'avg'.padStart(12)} ${'p50'.padStart(12)} ${'p99'.padStart(12)} ${'max'.padStart(12)}`);
    out.push(line('wall', this.q2c));
    if (this.q2cModeled.max > 0) out.push(line('modeled', this.q2cModeled));
    if (this.dropped) out.push(`(${this.dropped} requests beyond ${SUMMARY_MAX_OPEN_REQUESTS} open not timed)`);
    out.push(...this.perDeviceLines('wall'));
    if (this.q2cModeled.max > 0) out.push(...this.perDeviceLines('modeled'));
    return out.join('\n');
  }

  /** btt's Q2D, D2C, Q2C per device on one clock; '-' where a device has no such interval. */
  private perDeviceLines(clock: 'wall' | 'modeled'): string[] {
    if (!this.perDevice.size) return [];
    const us = (ns: number): string => (ns / 1000).toFixed(3);
    const cols = ['N', 'min', 'avg', 'p50', 'p90', 'p99', 'max'];
    const out = ['', `Q2D, D2C, Q2C per device, ${clock} time (µs):`, `  ${'device'.padEnd(12)} ${'   '} ${cols.map((c, i) => c.padStart(i ? 12 : 8)).join(' ')}`];
    for (const [dev, d] of this.perDevice) {
      const c = d[clock];
      for (const [name, l] of [['Q2D', c.q2d], ['D2C', c.d2c], ['Q2C', c.q2c]] as const) {
        const vals = [l.min, l.mean, l.percentile(50), l.percentile(90), l.percentile(99), l.max].map((v) => (l.count ? us(v) : '-').padStart(12));
        out.push(`  ${(name === 'Q2D' ? dev : '').padEnd(12)} ${name} ${String(l.count).padStart(8)} ${vals.join(' ')}`);
      }
    }
    return out;
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}
