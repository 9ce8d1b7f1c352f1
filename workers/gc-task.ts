/** A piscina task: one GC run on the tag-only device (copylab gc sweep runs one per grid point). */
import { runGc } from '../src/gc/run.js';
import type { GcOptions } from '../src/gc/options.js';
import type { GcResult } from '../src/gc/result.js';

export default function gcTask(o: GcOptions): GcResult {
  const r = runGc(o);
  // The series stays with the worker: a sweep prints and plots the summary figures.
  return { ...r, series: [] };
}
