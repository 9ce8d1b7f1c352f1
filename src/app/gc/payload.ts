/**
 * The payload a lab device's block carries: its tag (tag.ts) in every word of 4 KiB, each word
 * mixed with its index, so that a read is checked byte for byte (a torn, shifted or foreign block
 * carries no tag).
 */
import { GC_BLOCK_BYTES } from './constants.js';
import { dataView } from '../../core/util/bytes.js';

const WORDS = GC_BLOCK_BYTES / 4;
const GOLDEN = 0x9e3779b1;

/** The 4 KiB payload of a block whose tag is t. */
export function payloadOf(t: number, out: Uint8Array): void {
  const v = dataView(out);
  for (let i = 0; i < WORDS; i++) v.setUint32(i * 4, (t + Math.imul(i, GOLDEN)) >>> 0, true);
}

/** The tag a payload carries, or −1 when its words disagree (a torn or foreign block). */
export function tagOfPayload(b: Uint8Array): number {
  const v = dataView(b);
  const t = v.getUint32(0, true);
  for (let i = 1; i < WORDS; i++) if (v.getUint32(i * 4, true) !== ((t + Math.imul(i, GOLDEN)) >>> 0)) return -1;
  return t;
}
