/** A piscina task: one GC run on the tag-only device (copylab gc sweep runs one per grid point). */
import { runGc } from '../src/app/gc/run.js';
import type { GcOptions } from '../src/app/gc/options.js';
import type { GcResult } from '../src/app/gc/result.js';

export default function gcTask(o: GcOptions): GcResult {
  // The series (at most --series-points samples) comes back for the sweep's plot.
  return runGc(o);
}
