/**
 * The start of a file or value quoted for a message: at most a few bytes, JSON-escaped (control
 * characters, C1 controls and quotes escaped), so an error about a file that is not in the
 * expected format never echoes more than that, and never sends terminal control bytes.
 */

/** Bytes of a file's start a message may quote. */
export const ESCAPED_PREFIX_BYTES = 32;

/** JSON.stringify escapes C0 controls, quotes and lone surrogates; DEL, the C1 controls (such as the one-byte CSI) and the line separators it leaves as they are. */
const escapeControls = (s: string): string => s.replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** `"root:x:0:0"…`: the first `max` bytes as a JSON string, with … when there were more. */
export function escapedPrefix(data: Uint8Array | string, max = ESCAPED_PREFIX_BYTES): string {
  // A string is cut to `max` characters first (at least `max` bytes), not encoded whole.
  const bytes = typeof data === 'string' ? Buffer.from(data.slice(0, max)) : data;
  const more = bytes.length > max || (typeof data === 'string' && data.length > max);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, max));
  const quoted = escapeControls(JSON.stringify(text));
  return more ? `${quoted}…` : quoted;
}

/** A value from a file quoted for a message: strings as escapedPrefix, others as JSON cut to `max` characters. */
export function shownValue(v: unknown, max = ESCAPED_PREFIX_BYTES): string {
  if (typeof v === 'string') return escapedPrefix(v, max);
  const json = JSON.stringify(v) ?? String(v);
  return escapeControls(json.length > max ? `${json.slice(0, max)}…` : json);
}
