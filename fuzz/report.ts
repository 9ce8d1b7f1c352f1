/** The fuzz run's table and, for a failure, the seed and the command that replays it. */
import { formatTextTable } from '../src/core/util/text-table.js';
import type { FuzzReport } from './engine.js';

export function printReport(r: FuzzReport, out: (s: string) => void): void {
  const rows = r.targets.map((x) => [x.name, x.cases, (x.ms / 1000).toFixed(2), Math.round(x.cases / (x.ms / 1000)), x.heapGrowthMiB.toFixed(1), x.failure ? 'FAIL' : 'ok']);
  const head = ['target', 'cases', 'seconds', 'cases/s', 'heap Δ MiB', 'result'];
  out(`${formatTextTable(rows, { head, aligns: ['left', 'right', 'right', 'right', 'right', 'left'], color: !!process.stdout.isTTY })}\n`);
  for (const x of r.targets.filter((y) => y.failure)) {
    out(`FAIL ${x.name} at case ${x.failedCase} (seed ${r.seed}): ${x.failure}\n`);
    out(`  replay: npm run fuzz -- --seed ${r.seed} --cases ${r.cases} --only ${x.name}\n`);
  }
  out(`${r.cases} cases, seed ${r.seed}: ${r.ok ? 'every invariant held' : 'FAILED'}\n`);
}

