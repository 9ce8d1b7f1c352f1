/** Target Transfer Tags for R2Ts and Text continuations: any value but the reserved 0xffffffff (RFC 7143 11.7.4, 11.11.4). */
import { RESERVED_TAG } from './constants.js';

let tttCounter = 1;

export function nextTtt(): number {
  tttCounter = (tttCounter + 1) >>> 0;
  if (tttCounter === RESERVED_TAG) tttCounter = 1;
  return tttCounter;
}
