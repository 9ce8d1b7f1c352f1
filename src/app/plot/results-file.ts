/**
 * What `copylab plot` was given: bench results (fio's JSON, from `copylab bench
 * --output-format=json`) or GC results (MessagePack, from `copylab gc sweep --results-out` or
 * `copylab gc --series-out`), told apart by the first byte, each checked for the fields its
 * charts read. A file that is neither is named by its first bytes (escapedPrefix), never by a
 * parser's message, which quotes as much as it likes.
 */
import { unpack } from 'msgpackr';
import type { FioResult } from '../bench/result.js';
import type { GcResult } from '../gc/result.js';
import { escapedPrefix } from '../../core/util/escaped-prefix.js';
import { resultsShapeError } from './results-shape.js';
import { gcResultsOf } from './gc-results-shape.js';

export type PlotInput = { readonly kind: 'bench'; readonly result: FioResult } | { readonly kind: 'gc'; readonly runs: GcResult[] };

/** msgpack's map markers (spec "formats"): fixmap 0x80-0x8f, map 16 0xde, map 32 0xdf. */
const isMsgpackMap = (b: number | undefined): boolean => b !== undefined && ((b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf);

/** Bytes as characters one for one (escapedPrefix then shows the control bytes escaped). */
const latin1 = (b: Uint8Array): string => String.fromCharCode(...b);

/** Bench results in `text`, or why they are not. */
export function parseBenchResults(text: string): FioResult | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `not JSON (it starts with ${escapedPrefix(text)})`;
  }
  return resultsShapeError(parsed) ?? (parsed as FioResult);
}

/** The results in `bytes`, or why they are neither kind. */
export function parsePlotInput(bytes: Uint8Array): PlotInput | string {
  if (isMsgpackMap(bytes[0])) {
    let doc: unknown;
    try {
      doc = unpack(bytes);
    } catch {
      return `not MessagePack GC results (it starts with ${escapedPrefix(latin1(bytes.subarray(0, 64)))})`;
    }
    const runs = gcResultsOf(doc);
    return typeof runs === 'string' ? runs : { kind: 'gc', runs };
  }
  const result = parseBenchResults(new TextDecoder().decode(bytes));
  return typeof result === 'string' ? result : { kind: 'bench', result };
}
