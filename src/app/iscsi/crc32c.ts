/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the iSCSI header and data digest
 * (RFC 7143 13.1, RFC 3720 appendix B.4). The digest goes on the wire least significant byte
 * first: 32 zero bytes digest to aa 36 91 8a (RFC 3720 B.4).
 */
const POLY = 0x82f63b78;

/** Slice-by-4 tables. */
const T = Array.from({ length: 4 }, () => new Uint32Array(256));
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[0]![n] = c >>> 0;
}
for (let n = 0; n < 256; n++) {
  for (let s = 1; s < 4; s++) T[s]![n] = ((T[s - 1]![n]! >>> 8) ^ T[0]![T[s - 1]![n]! & 0xff]!) >>> 0;
}
const [T0, T1, T2, T3] = T as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];

/** Continues a CRC32C over `data` (start with 0xffffffff, finish with crc32cFinish). */
export function crc32cUpdate(crc: number, data: Uint8Array): number {
  let c = crc >>> 0;
  let i = 0;
  const n = data.length;
  for (; i + 4 <= n; i += 4) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c = T3[c & 0xff]! ^ T2[(c >>> 8) & 0xff]! ^ T1[(c >>> 16) & 0xff]! ^ T0[c >>> 24]!;
  }
  for (; i < n; i++) c = T0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

export function crc32c(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const p of parts) c = crc32cUpdate(c, p);
  return (c ^ 0xffffffff) >>> 0;
}

/** The 4 digest bytes as sent on the wire. */
export function digestBytes(...parts: Uint8Array[]): Uint8Array {
  const d = new Uint8Array(4);
  new DataView(d.buffer).setUint32(0, crc32c(...parts), true);
  return d;
}
