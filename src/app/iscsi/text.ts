/**
 * Text key=value pairs (RFC 7143 6.1): UTF-8 "key=value" strings each ended by a NUL. Keys are at
 * most 63 bytes, values at most 255 bytes except where a key says otherwise (8192 for some);
 * a malformed pair is a protocol error for the caller to answer.
 */
export const TEXT_LIMITS = { maxKeyLength: 63, maxValueLength: 8192, maxPairs: 256 } as const;

export type KeyValues = readonly (readonly [string, string])[];

/** Parses a text data segment; null when malformed (no '=', key too long, too many pairs). */
export function parseText(data: Uint8Array): KeyValues | null {
  const s = Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8');
  const parts = s.split('\0');
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  if (parts.length > TEXT_LIMITS.maxPairs) return null;
  const out: [string, string][] = [];
  for (const p of parts) {
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0 || eq > TEXT_LIMITS.maxKeyLength) return null;
    const v = p.slice(eq + 1);
    if (v.length > TEXT_LIMITS.maxValueLength) return null;
    out.push([p.slice(0, eq), v]);
  }
  return out;
}

export function encodeText(pairs: KeyValues): Uint8Array {
  if (!pairs.length) return new Uint8Array(0);
  return new Uint8Array(Buffer.from(pairs.map(([k, v]) => `${k}=${v}\0`).join(''), 'utf8'));
}
