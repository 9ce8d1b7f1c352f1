/**
 * What a 1 TiB sparse nullblk costs after 1 GiB of writes: allocated chunk bytes, and the
 * process's resident and ArrayBuffer memory before and after.
 *
 *   npm run bench:sparse
 */
import { Lab } from '../src/lab.js';
import type { SparseBacking } from '../devices/backing/sparse.js';
import { fillPattern } from '../src/util/pattern.js';
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

await main();
