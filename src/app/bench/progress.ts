/** fio's status line (`Jobs: 1 (f=1): [R(1)][45.0%][r=2532MiB/s][r=648k IOPS][eta 00m:01s]`), for a terminal. */
import type { Progress } from './engine.js';

/** Progress shows only for runs longer than this (ns), as fio's does not flash for short jobs. */
export const PROGRESS_AFTER_NS = 1e9;

function rate(bytes: number, s: number): string {
  let v = s > 0 ? bytes / s : 0;
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (v >= 10000 && i < units.length - 1) (v /= 1024), i++;
  return `${Math.round(v)}${units[i]}/s`;
}

function count(n: number): string {
  return n >= 10000 ? `${Math.round(n / 1000)}k` : String(Math.round(n));
}

function eta(ns: number): string {
  const s = Math.max(0, Math.round(ns / 1e9));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}m:${String(s % 60).padStart(2, '0')}s`;
}

/** The line for a progress report; rates are averages since the group started. */
export function progressLine(p: Progress): string {
  const s = p.elapsed_ns / 1e9;
  const parts: string[] = [];
  const bw: string[] = [];
  const io: string[] = [];
  for (const [d, letter] of [['read', 'r'], ['write', 'w'], ['trim', 't'], ['copy', 'c']] as const) {
    if (!p.ios[d]) continue;
    parts.push(letter.toUpperCase());
    bw.push(`${letter}=${rate(p.bytes[d], s)}`);
    io.push(`${letter}=${count(p.ios[d] / Math.max(s, 1e-9))} IOPS`);
  }
  const pct = p.done === null ? '' : `[${(p.done * 100).toFixed(1)}%]`;
  const left = p.done && p.done > 0 ? (p.elapsed_ns / p.done) * (1 - p.done) : 0;
  return `Jobs: ${p.jobs} (f=${p.jobs}): [${parts.join('') || '_'}(${p.jobs})]${pct}[${bw.join(',')}][${io.join(',')}][eta ${eta(left)}]`;
}
