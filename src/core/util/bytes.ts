/**
 * The one place fields are read from and written to bytes: big-endian (SCSI, SPC-4 3.5; iSCSI,
 * RFC 7143 11.2) and little-endian (NVMe, Base 1.4 "little endian"; io_uring's structs on the
 * machines it runs on) unsigned integers of 16, 24, 32, 48 and 64 bits, ASCII fields, and hex.
 *
 * Every reader and writer checks before it touches a byte: a field that does not lie wholly
 * inside the array, or a value that does not fit the field, throws a RangeError (as a DataView
 * does) instead of reading `undefined` as 0 or wrapping the value.
 *
 * 64-bit fields are JavaScript numbers: exact up to 2^53 − 1; above that the nearest double,
 * which is not a safe integer, so `Number.isSafeInteger` and every bounds check against a real
 * size refuse it. A writer takes any integer in 0..2^64 − 1 and writes it exactly.
 */

/** A DataView on exactly the bytes of `b`. */
export function dataView(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

const TWO_32 = 0x1_0000_0000;

function span(b: Uint8Array, o: number, n: number): void {
  if (!Number.isInteger(o) || o < 0 || o + n > b.length) throw new RangeError(`a ${n * 8}-bit field at offset ${o} is outside ${b.length} bytes`);
}

function fits(v: number, bits: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new RangeError(`${v} does not fit an unsigned ${bits}-bit field`);
}

// ── big-endian ──
export function be16(b: Uint8Array, o: number): number {
  span(b, o, 2);
  return (b[o]! << 8) | b[o + 1]!;
}
export function be24(b: Uint8Array, o: number): number {
  span(b, o, 3);
  return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
}
export function be32(b: Uint8Array, o: number): number {
  span(b, o, 4);
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
export function be48(b: Uint8Array, o: number): number {
  span(b, o, 6);
  return be16(b, o) * TWO_32 + be32(b, o + 2);
}
export function be64(b: Uint8Array, o: number): number {
  span(b, o, 8);
  return be32(b, o) * TWO_32 + be32(b, o + 4);
}

export function putBe16(b: Uint8Array, o: number, v: number): void {
  span(b, o, 2);
  fits(v, 16);
  b[o] = v >>> 8;
  b[o + 1] = v & 0xff;
}
export function putBe24(b: Uint8Array, o: number, v: number): void {
  span(b, o, 3);
  fits(v, 24);
  b[o] = v >>> 16;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = v & 0xff;
}
export function putBe32(b: Uint8Array, o: number, v: number): void {
  span(b, o, 4);
  fits(v, 32);
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
export function putBe48(b: Uint8Array, o: number, v: number): void {
  span(b, o, 6);
  fits(v, 48);
  putBe16(b, o, Math.floor(v / TWO_32));
  putBe32(b, o + 2, v % TWO_32);
}
export function putBe64(b: Uint8Array, o: number, v: number): void {
  span(b, o, 8);
  fits(v, 64);
  putBe32(b, o, Math.floor(v / TWO_32));
  putBe32(b, o + 4, v % TWO_32);
}

// ── little-endian ──
export function le16(b: Uint8Array, o: number): number {
  span(b, o, 2);
  return b[o]! | (b[o + 1]! << 8);
}
export function le24(b: Uint8Array, o: number): number {
  span(b, o, 3);
  return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);
}
export function le32(b: Uint8Array, o: number): number {
  span(b, o, 4);
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
export function le48(b: Uint8Array, o: number): number {
  span(b, o, 6);
  return le32(b, o) + le16(b, o + 4) * TWO_32;
}
export function le64(b: Uint8Array, o: number): number {
  span(b, o, 8);
  return le32(b, o) + le32(b, o + 4) * TWO_32;
}

export function putLe16(b: Uint8Array, o: number, v: number): void {
  span(b, o, 2);
  fits(v, 16);
  b[o] = v & 0xff;
  b[o + 1] = v >>> 8;
}
export function putLe24(b: Uint8Array, o: number, v: number): void {
  span(b, o, 3);
  fits(v, 24);
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = v >>> 16;
}
export function putLe32(b: Uint8Array, o: number, v: number): void {
  span(b, o, 4);
  fits(v, 32);
  storeLe32(b, o, v);
}
/** The four byte stores of putLe32, for writers that have checked the span and value already. */
function storeLe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = v >>> 24;
}
export function putLe48(b: Uint8Array, o: number, v: number): void {
  span(b, o, 6);
  fits(v, 48);
  putLe32(b, o, v % TWO_32);
  putLe16(b, o + 4, Math.floor(v / TWO_32));
}
export function putLe64(b: Uint8Array, o: number, v: number): void {
  span(b, o, 8);
  fits(v, 64);
  // Both halves are whole and below 2^32 once v is (the ring writes three of these per request).
  storeLe32(b, o, v % TWO_32);
  storeLe32(b, o + 4, Math.floor(v / TWO_32));
}

// ── ASCII fields (SPC-4 4.3.1 and NVMe Identify SN/MN/FR: left-aligned, space-padded) ──
/** Writes `text` into `width` bytes at `o`, space padded; characters past `width` are cut. */
export function putAscii(b: Uint8Array, o: number, width: number, text: string): void {
  span(b, o, width);
  for (let i = 0; i < width; i++) b[o + i] = i < text.length ? text.charCodeAt(i) & 0x7f : 0x20;
}

/** Reads `width` bytes at `o` as ASCII, without trailing spaces and NULs. */
export function getAscii(b: Uint8Array, o: number, width: number): string {
  span(b, o, width);
  let s = '';
  for (let i = 0; i < width; i++) s += String.fromCharCode(b[o + i]!);
  return s.replace(/[\s\0]+$/, '');
}

// ── hex ──
/** Lower-case hex, two digits a byte, no separators ("0a0b"): what every JSON report prints. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Separators parseHex skips: white space, `:`, `,`, `_` and `-`. */
const HEX_SEPARATORS = /[\s:,_-]/g;

/**
 * Hex bytes as people write them → bytes, or null when the text is not hex. Accepted: digits in
 * either case, two a byte; `0x`/`0X` wherever it appears (so "0x0a0b", "0x0a 0x0b"); and the
 * separators white space, `:`, `,`, `_`, `-` anywhere ("0a 0b", "0a:0b", "0a,0b",
 * "0a-0b"). The empty text (after removing those) is zero bytes. This is the union of what the
 * SCSI options (`scsi raw`, `--data-out`, `--token`, the scenario's `*_hex` keys) and the NVMe
 * options (`--data-hex`, `data_hex`) accepted before they shared one parser. Callers bound the
 * text's length before calling (hexTextMax).
 */
export function parseHex(text: string): Uint8Array | null {
  const t = text.replace(/0x/gi, '').replace(HEX_SEPARATORS, '');
  if (t.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(t)) return null;
  return new Uint8Array(Buffer.from(t, 'hex'));
}

/** The parts one after another in a new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A page of zeros that zeroFill copies from. */
const ZERO_PAGE = new Uint8Array(65536);

/**
 * b.fill(0, from, to), fast on shared memory too: V8 fills a SharedArrayBuffer byte by byte
 * (several times slower than ordinary memory: 1.4-1.7 µs for 4 KiB here), while copying from a
 * page of zeros moves words (0.3 µs). Registered ring buffers and memory media are shared.
 */
export function zeroFill(b: Uint8Array, from: number, to: number): void {
  if (to - from < 256 || !(b.buffer instanceof SharedArrayBuffer)) {
    b.fill(0, from, to);
    return;
  }
  for (let at = from; at < to; at += ZERO_PAGE.length) b.set(to - at >= ZERO_PAGE.length ? ZERO_PAGE : ZERO_PAGE.subarray(0, to - at), at);
}
