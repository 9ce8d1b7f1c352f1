/** A piscina task: one GC sweep point, on the tag-only device or a lab device of a scenario (copylab gc sweep, copylab worker). */
import { runSweepPoint, type SweepPoint, type SweepTask } from '../src/app/gc/sweep-point.js';

export default function gcTask(t: SweepTask): Promise<SweepPoint> {
  // The series (at most --series-points samples) comes back for the sweep's plot; a failure comes back as data.
  return runSweepPoint(t);
}
