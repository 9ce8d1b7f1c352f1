/**
 * One chunk of data read from a device checked against a seeded pattern (or zeros): the index of
 * the first differing byte, or -1. Runs on the lab's pool (workers/verify.task.ts); the chunk
 * lives in a SharedArrayBuffer, so nothing is copied to reach the pool.
 */
import { findPatternMismatch } from '../../core/util/pattern.js';

export interface VerifyTask {
  readonly sab: SharedArrayBuffer;
  readonly length: number;
  /** null: expect zeros. */
  readonly seed: number | null;
  readonly patternOffset: number;
}

export function verifyChunk(t: VerifyTask): number {
  const data = new Uint8Array(t.sab, 0, t.length);
  if (t.seed === null) return data.findIndex((b) => b !== 0);
  return findPatternMismatch(data, t.seed, t.patternOffset);
}
