/** A piscina task: one job file on one scenario, queued by copylab bench --queue (copylab worker). */
import { runBenchTask, type BenchOutcome } from '../src/app/bench/task.js';

export default function benchTask(data: unknown): Promise<BenchOutcome> {
  // The payload is checked here again, as it arrives: a failure comes back as data.
  return runBenchTask(data);
}
