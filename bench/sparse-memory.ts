/**
 * What a 1 TiB sparse nullblk costs after 1 GiB of writes: allocated chunk bytes, and the
 * process's resident and ArrayBuffer memory before and after.
 *
 * Then the same terabyte as a scenario in a fresh process (fill 1 GiB, verify it on the worker
 * pool): its peak RSS (getrusage maxrss), which the reused verify buffers keep near the data.
 *
 *   npm run bench:sparse
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseScenarioText } from '../src/app/scenario/parse.js';
import { runScenario } from '../src/app/scenario/run.js';
import { Lab } from '../src/app/lab.js';
import type { SparseBacking } from '../devices/backing/sparse.js';
import { fillPattern } from '../src/core/util/pattern.js';
import { formatSize, MiB } from './common.js';

const TiB = 1024 ** 4;
const GiB = 1024 ** 3;

function mem(): { rss: number; arrayBuffers: number } {
  global.gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, arrayBuffers: m.arrayBuffers };
}

async function main(): Promise<void> {
  const written = GiB;
  const before = mem();
  const lab = new Lab();
  const dev = lab.addNullBlk({ name: 'nullb0', size: TiB, lbs: 4096, backing: 'sparse' });
  const chunk = new Uint8Array(4 * MiB);
  // 256 writes of 4 MiB spread over the whole terabyte.
  const writes = written / chunk.length;
  const stride = Math.floor(TiB / writes / chunk.length) * chunk.length;
  for (let i = 0; i < writes; i++) {
    fillPattern(chunk, 1, i * stride);
    await lab.write('nullb0', i * stride, chunk);
  }
  const after = mem();
  const backing = dev.backing as SparseBacking;
  console.log(`1 TiB sparse nullblk after ${formatSize(written)} of writes (${writes} × 4 MiB spread over the device):`);
  console.log(`  allocated chunks:   ${backing.allocatedChunks} × 64 KiB = ${formatSize(backing.allocatedBytes)} (${((backing.allocatedBytes / written) * 100).toFixed(1)}% of bytes written)`);
  console.log(`  process ArrayBuffers: ${(before.arrayBuffers / MiB).toFixed(1)} MiB → ${(after.arrayBuffers / MiB).toFixed(1)} MiB`);
  console.log(`  process RSS:          ${(before.rss / MiB).toFixed(1)} MiB → ${(after.rss / MiB).toFixed(1)} MiB`);
  console.log(`  device capacity:      ${formatSize(TiB)} (${((after.arrayBuffers - before.arrayBuffers) / TiB * 100).toFixed(4)}% of it in memory)`);
}

const SCENARIO = `
devices:
  - { kind: nullblk, name: nullb0, size: 1TiB, lbs: 4096, backing: sparse }
steps:
  - fill:   { dev: /dev/nullb0, offset: 900GiB, length: 1GiB, seed: 9 }
  - verify: { dev: /dev/nullb0, offset: 900GiB, length: 1GiB, seed: 9 }
`;

/** In a child process: runs SCENARIO and prints its peak RSS (bytes) and wall time as JSON. */
async function scenarioChild(): Promise<void> {
  const t0 = performance.now();
  const r = await runScenario(parseScenarioText(SCENARIO, 'sparse terabyte'));
  if (!r.ok) throw new Error(`scenario failed: ${JSON.stringify(r.steps)}`);
  process.stdout.write(JSON.stringify({ maxRss: process.resourceUsage().maxRSS * 1024, ms: performance.now() - t0 }));
}

function scenarioPeak(): void {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--scenario-child'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scenario child failed: ${r.stderr}`);
  const { maxRss, ms } = JSON.parse(r.stdout) as { maxRss: number; ms: number };
  console.log(`\n1 TiB sparse nullblk as a scenario (fill 1 GiB, verify 1 GiB), fresh process:`);
  console.log(`  peak RSS:             ${(maxRss / MiB).toFixed(0)} MiB (${(maxRss / GiB).toFixed(2)} GiB; target under 1.6 GiB), ${(ms / 1000).toFixed(1)} s`);
}

if (process.argv.includes('--scenario-child')) await scenarioChild();
else {
  await main();
  scenarioPeak();
}
