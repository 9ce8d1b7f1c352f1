/**
 * Reading scenario values with errors that name where they are (`steps[2].copy.length`).
 * Every problem is a ScenarioError: the CLI prints it and exits 2.
 */
import { parseSize } from '../../core/util/size.js';
import { parseErrno } from '../../core/util/errno.js';
import { shownValue } from '../../core/util/escaped-prefix.js';
import { keysOf, type ObjSpec } from './keys.js';
import { resolveTiming, type TimingSpec } from '../../../devices/timing/params.js';

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

export type Obj = Record<string, unknown>;

/**
 * A key or value of the file quoted in a message: at most a short escaped prefix
 * (src/core/util/escaped-prefix.ts), so an error about a file never echoes much of it.
 */
export const quotedKey = (k: string): string => (/^[A-Za-z0-9_.\/-]{1,32}$/.test(k) ? `'${k}'` : shownValue(k));

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value at a named place in the scenario. */
export class Field {
  constructor(readonly where: string, readonly value: unknown) {}

  fail(message: string): never {
    throw new ScenarioError(`${this.where}: ${message}`);
  }

  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  /** An object whose keys must all be among `allowed` (a list, or the keys a spec declares). */
  obj(allowed: readonly string[] | ObjSpec): Obj {
    const keys = Array.isArray(allowed) ? (allowed as readonly string[]) : keysOf(allowed as ObjSpec);
    if (!isObj(this.value)) this.fail(`expected a mapping${keys.length ? ` with keys among ${keys.join(', ')}` : ''}`);
    for (const k of Object.keys(this.value)) {
      if (!keys.includes(k)) {
        const near = nearest(k, keys);
        this.fail(`unknown key ${quotedKey(k)}${near ? ` (did you mean '${near}'?)` : ''} (allowed: ${keys.join(', ')})`);
      }
    }
    return this.value;
  }

  key(k: string): Field {
    const v = isObj(this.value) ? this.value[k] : undefined;
    return new Field(`${this.where}.${k}`, v);
  }

  required(): this {
    if (!this.present) this.fail('is required');
    return this;
  }

  list(max: number): Field[] {
    if (!Array.isArray(this.value)) this.fail('expected a list');
    if (this.value.length > max) this.fail(`at most ${max} entries`);
    return this.value.map((v, i) => new Field(`${this.where}[${i}]`, v));
  }

  str(): string {
    if (typeof this.value !== 'string' || this.value.length === 0) this.fail('expected a non-empty string');
    return this.value;
  }

  /** A string or number written as text (sysfs values). */
  text(): string {
    if (typeof this.value === 'number') return String(this.value);
    if (typeof this.value !== 'string') this.fail('expected a string');
    return this.value;
  }

  bool(): boolean {
    if (typeof this.value !== 'boolean') this.fail('expected true or false');
    return this.value;
  }

  /** A byte count: an integer or "4KiB", "64MiB", … */
  size(): number {
    const n = parseSize(this.value);
    if (n === undefined) this.fail(`bad size ${shownValue(this.value)} (write bytes or 4KiB, 1MiB, 2GiB…)`);
    return n;
  }

  int(min: number, max: number): number {
    const v = this.value;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) this.fail(`expected an integer in ${min}..${max}`);
    return v;
  }

  oneOf<T extends string | number>(choices: readonly T[]): T {
    if (!choices.includes(this.value as T)) this.fail(`expected one of ${choices.join(', ')}, got ${shownValue(this.value)}`);
    return this.value as T;
  }

  /** A timing model: a preset name or `{ preset, …overrides }` (docs/timing.md), checked here. */
  timing(): TimingSpec {
    const v = this.value;
    if (typeof v !== 'string' && !isObj(v)) this.fail('expected a preset name or a mapping { preset, …overrides }');
    try {
      resolveTiming(v as TimingSpec);
    } catch (err) {
      this.fail((err as Error).message.replace(/^timing[.:]\s*/, ''));
    }
    return v as TimingSpec;
  }

  errno(): number {
    const e = typeof this.value === 'string' || typeof this.value === 'number' ? parseErrno(this.value) : undefined;
    if (e === undefined) this.fail(`unknown errno ${shownValue(this.value)} (write EINVAL, EIO, …)`);
    return e;
  }

  /** A device path as /dev/NAME. */
  devPath(): string {
    const s = this.str();
    if (!/^\/dev\/[A-Za-z0-9_.\-/]+$/.test(s)) this.fail(`expected a device path like /dev/nullb0, got ${shownValue(s)}`);
    return s;
  }
}

/** The allowed key closest to a misspelt one (edit distance at most 2), or undefined. */
export function nearest(word: string, choices: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of choices) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase(), bestD);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

/**
 * True when `name` is a few edits from a mistyped `word`: one for a word of up to five letters,
 * two for longer ones (a swap of neighbours is one edit); for did-you-mean suggestions.
 */
export function isNear(word: string, name: string): boolean {
  const max = word.length <= 5 ? 1 : 2;
  return editDistance(word.toLowerCase(), name.toLowerCase(), max + 1) <= max;
}

/** Levenshtein distance, giving up (returning `cap`) once it reaches cap; bounded inputs only. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap || a.length > 64 || b.length > 64) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  let pprev = prev;
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      // A swap of neighbours counts once (Damerau): 'cdef' is one step from 'cdfe'.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cur[j] = Math.min(cur[j]!, pprev[j - 2]! + 1);
    }
    pprev = prev;
    prev = cur;
  }
  return Math.min(prev[b.length]!, cap);
}
