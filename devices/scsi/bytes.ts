/** Big-endian field access for CDBs and parameter lists (SCSI is big-endian throughout, SPC-4 3.5). */

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export const be16 = (b: Uint8Array, o: number): number => ((b[o]! << 8) | b[o + 1]!) >>> 0;
export const be24 = (b: Uint8Array, o: number): number => ((b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!) >>> 0;
export const be32 = (b: Uint8Array, o: number): number => view(b).getUint32(o);
/** 64-bit field as a number; values above 2^53 come back as Infinity so bounds checks fail safely. */
export function be64(b: Uint8Array, o: number): number {
  const v = view(b).getBigUint64(o);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
}

export const put16 = (b: Uint8Array, o: number, v: number): void => view(b).setUint16(o, v);
export const put24 = (b: Uint8Array, o: number, v: number): void => {
  b[o] = (v >>> 16) & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = v & 0xff;
};
export const put32 = (b: Uint8Array, o: number, v: number): void => view(b).setUint32(o, v >>> 0);
export const put64 = (b: Uint8Array, o: number, v: number): void => view(b).setBigUint64(o, BigInt(v));

export function ascii(b: Uint8Array, o: number, text: string, width: number): void {
  for (let i = 0; i < width; i++) b[o + i] = i < text.length ? text.charCodeAt(i) & 0x7f : 0x20;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Parses hex with optional spaces, colons or 0x; returns null when it is not hex. */
export function fromHex(text: string): Uint8Array | null {
  const t = text.replace(/0x/gi, '').replace(/[\s:_-]/g, '');
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
