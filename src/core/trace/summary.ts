/**
 * A btt-like summary of a trace: events per action and device, Q→C latency per request (first
 * queue to last completion of the request), splits (X), remaps (A), emulations (E) with their
 * reasons, and failed completions.
 */
import { LatencyStats } from '../util/latency.js';
import { OP_RWBS } from '../block/ops.js';
import type { TraceRecord } from './record.js';

/** Requests whose Q time is held while waiting for their C (a bound on the summary's memory). */
export const SUMMARY_MAX_OPEN_REQUESTS = 1_000_000;

export class TraceSummary {
  events = 0;
  readonly actions = new Map<string, number>();
  readonly devices = new Map<string, Map<string, number>>();
  readonly ops = new Map<string, number>();
  readonly reasons = new Map<string, number>();
  readonly errors = new Map<string, number>();
  readonly q2c = new LatencyStats();
  readonly q2cModeled = new LatencyStats();
  private readonly open = new Map<number, { w: number; m?: number; lastW: number; lastM?: number; done: boolean }>();
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
      this.open.set(r.req, { w: r.wns, ...(r.mns !== undefined ? { m: r.mns } : {}), lastW: r.wns, done: false });
      return;
    }
    if (r.action === 'C') {
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
    }
    this.open.clear();
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
    return out.join('\n');
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}
