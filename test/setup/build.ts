/**
 * vitest's global setup: worker threads run the compiled tree (dist/), so a test run first
 * builds it when any source under src/, devices/ or workers/ is newer than its compiled file
 * (or dist/ is missing). A run never tests stale worker code; `npm test` builds before vitest,
 * so there this finds nothing to do.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { PACKAGE_ROOT, staleBuild } from '../../src/core/thread/entries.js';

export default function setup(): void {
  const stale = staleBuild();
  if (!stale) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  process.stderr.write(`copylab tests: dist/ is older than ${stale}; building (tsc -p tsconfig.json)\n`);
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: PACKAGE_ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the build before the tests failed (tsc -p tsconfig.json)');
}
