/**
 * expect(actual).toEqualBytes(expected): byte equality for Uint8Arrays that compares with
 * Buffer.equals (memcmp speed on multi-MiB buffers, where toEqual walks element by element) and,
 * when the bytes differ, shows where: the first differing offset, how many bytes differ, and a
 * hex dump of both sides around that offset.
 */
import { expect } from 'vitest';

/** Bytes shown on each side of the first difference. */
const CONTEXT = 16;
/** Bytes per hex dump line. */
const LINE = 16;

function view(a: Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function hexLine(b: Uint8Array, start: number, end: number): string {
  const cells: string[] = [];
  for (let i = start; i < end; i++) cells.push(i < b.length ? b[i]!.toString(16).padStart(2, '0') : '  ');
  return cells.join(' ');
}

function markLine(a: Uint8Array, b: Uint8Array, start: number, end: number): string {
  const cells: string[] = [];
  for (let i = start; i < end; i++) cells.push(i < a.length && i < b.length && a[i] === b[i] ? '  ' : '^^');
  return cells.join(' ').trimEnd();
}

/** A hex dump of both sides on the lines around `at`, with ^^ under every differing byte. */
export function hexDiff(actual: Uint8Array, expected: Uint8Array, at: number): string {
  const from = Math.max(0, Math.floor((at - CONTEXT) / LINE) * LINE);
  const to = Math.min(Math.max(actual.length, expected.length), Math.ceil((at + CONTEXT + 1) / LINE) * LINE);
  const rows: string[] = [];
  for (let o = from; o < to; o += LINE) {
    const off = o.toString(16).padStart(8, '0');
    rows.push(`  ${off}  - ${hexLine(expected, o, o + LINE)}`);
    rows.push(`  ${off}  + ${hexLine(actual, o, o + LINE)}`);
    const marks = markLine(actual, expected, o, o + LINE);
    if (marks.trim()) rows.push(`            ${marks}`);
  }
  return rows.join('\n');
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  // Halve the range with Buffer.compare (memcmp) rather than walking it byte by byte.
  let lo = 0;
  let hi = n;
  const va = view(a);
  const vb = view(b);
  if (va.compare(vb, 0, n, 0, n) === 0) return n;
  while (hi - lo > 64) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (va.compare(vb, lo, mid, lo, mid) !== 0) hi = mid;
    else lo = mid;
  }
  for (let i = lo; i < hi; i++) if (a[i] !== b[i]) return i;
  return hi;
}

function countDifferences(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let d = Math.abs(a.length - b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) d++;
  return d;
}

expect.extend({
  toEqualBytes(received: unknown, expected: Uint8Array) {
    if (!(received instanceof Uint8Array) || !(expected instanceof Uint8Array)) {
      return { pass: false, message: () => `toEqualBytes: expected two Uint8Arrays, got ${Object.prototype.toString.call(received)} and ${Object.prototype.toString.call(expected)}` };
    }
    const pass = received.length === expected.length && view(received).equals(view(expected));
    if (pass) return { pass: true, message: () => `expected the ${received.length} bytes not to equal the expected bytes` };
    return {
      pass: false,
      message: () => {
        const at = firstDifference(received, expected);
        const head = received.length === expected.length
          ? `expected ${expected.length} bytes to be equal; first difference at offset ${at} (0x${at.toString(16)}), ${countDifferences(received, expected)} byte(s) differ`
          : `expected ${expected.length} bytes, received ${received.length}; first difference at offset ${at} (0x${at.toString(16)})`;
        return `${head}\n  (- expected, + received, ^^ under differing bytes)\n${hexDiff(received, expected, at)}`;
      },
    };
  },
});

interface BytesMatchers<R = unknown> {
  /** Byte equality of two Uint8Arrays, with a hex diff of the first difference when they differ. */
  toEqualBytes(expected: Uint8Array): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Matchers<T = any> extends BytesMatchers<T> {}
}
