/**
 * fio's value syntax (HOWTO "Parameter types"): integers with unit suffixes, times, booleans,
 * and the comma-separated read,write,trim triplets. Each parser returns the value or a message
 * saying what was expected; the job file parser adds file, section and line.
 */

/** kb_base=1024 (fio's default): k/m/g/t/p (optionally with b or i) are powers of 1024 and the
 *  explicit IEC spellings kib/mib/... are powers of 1000, fio's "opposite" compatibility mode.
 *  kb_base=1000 follows SI and IEC: k = 1000, ki/kib = 1024. */
export type KbBase = 1000 | 1024;

const POWERS: Readonly<Record<string, number>> = { '': 0, k: 1, m: 2, g: 3, t: 4, p: 5 };

/** Largest integer a job file may give (2^53; sizes beyond it are not representable exactly). */
export const MAX_JOB_INT = Number.MAX_SAFE_INTEGER;

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** An fio integer with an optional unit suffix ("4k", "1m", "1mib", "0x1000", "512"). */
export function parseFioInt(text: string, kbBase: KbBase = 1024): Parsed<number> {
  const t = text.trim().toLowerCase();
  if (/^0x[0-9a-f]+$/.test(t)) return checkInt(parseInt(t.slice(2), 16), text);
  const m = /^(\d+(?:\.\d+)?)([kmgtp]?)(i?b?|b)$/.exec(t);
  if (!m) return bad(`'${text}' is not an fio integer (a number with an optional k/m/g/t/p suffix)`);
  const [, num, prefix, tail] = m as unknown as [string, string, string, string];
  if (prefix === '' && tail !== '' && tail !== 'b') return bad(`'${text}' is not an fio integer`);
  const iec = tail === 'ib';
  // kb_base=1024: plain prefixes are binary, "kib" is decimal; kb_base=1000 swaps them, with "ki" binary too.
  let base: number;
  if (kbBase === 1024) base = iec ? 1000 : 1024;
  else base = iec || tail === 'i' ? 1024 : 1000;
  return checkInt(Number(num) * base ** POWERS[prefix]!, text);
}

function checkInt(v: number, text: string): Parsed<number> {
  if (!Number.isFinite(v) || v > MAX_JOB_INT) return bad(`'${text}' is too large`);
  return ok(Math.round(v));
}

/** Time suffixes fio takes (HOWTO "time" type); nanoseconds per unit. */
const TIME_UNITS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, usec: 1e3, ms: 1e3 * 1e3, msec: 1e6, s: 1e9, sec: 1e9, m: 60e9, min: 60e9, h: 3600e9, d: 86400e9 };

/** An fio time ("30", "500ms", "2m"); a bare number is in `defaultUnit` (seconds for runtime). Returns ns. */
export function parseFioTime(text: string, defaultUnit: 's' | 'us' = 's'): Parsed<number> {
  const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(text.trim().toLowerCase());
  if (!m) return bad(`'${text}' is not a time (a number with an optional ns/us/ms/s/m/h/d suffix)`);
  const unit = m[2] || defaultUnit;
  const per = TIME_UNITS[unit];
  if (per === undefined) return bad(`'${text}': unknown time unit '${unit}'`);
  return ok(Math.round(Number(m[1]) * per));
}

/** fio booleans: 1/0, true/false, yes/no, on/off; a bare option name means true. */
export function parseFioBool(text: string | undefined): Parsed<boolean> {
  if (text === undefined) return ok(true);
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return ok(true);
  if (['0', 'false', 'no', 'off'].includes(t)) return ok(false);
  return bad(`'${text}' is not a boolean (0 or 1)`);
}

/** A plain decimal integer within [min, max]. */
export function parseRangedInt(text: string, min: number, max: number): Parsed<number> {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return bad(`'${text}' is not an integer`);
  const v = Number(t);
  if (v < min || v > max) return bad(`${v} is out of range ${min}..${max}`);
  return ok(v);
}

/** Data directions of fio's comma-separated values: read, write, trim (HOWTO "blocksize"). */
export const DDIR = ['read', 'write', 'trim'] as const;
export type Ddir = (typeof DDIR)[number];
export type PerDdir<T> = Readonly<Record<Ddir, T>>;

/**
 * `a[,b][,c]` as fio reads it (HOWTO "blocksize"): values for reads, writes and trims; an empty
 * field keeps `fallback` for that direction, and a value not terminated by a comma applies to
 * the directions after it ("bs=8k,32k" is 32k for writes and trims; "bs=8k,32k," leaves trims).
 */
export function parsePerDdir<T>(text: string, parse: (s: string) => Parsed<T>, fallback: T): Parsed<PerDdir<T>> {
  const parts = text.split(',');
  if (parts.length > 3) return bad(`'${text}' has more than three comma-separated values (read,write,trim)`);
  const out: Record<Ddir, T> = { read: fallback, write: fallback, trim: fallback };
  for (const [i, part] of parts.entries()) {
    if (part.trim() === '') continue;
    const p = parse(part);
    if (!p.ok) return p;
    out[DDIR[i]!] = p.value;
    if (i === parts.length - 1) for (let j = i + 1; j < DDIR.length; j++) out[DDIR[j]!] = p.value;
  }
  return ok(out);
}
