/**
 * Copy throughput through the block layer: offloaded (a COPY command done inside a nullblk
 * device) and emulated (read into a bounce buffer, write back), next to a plain Buffer.copy of
 * the same size in the same run (the memcpy limit of this machine).
 *
 *   npm run bench                 # 64 KiB, 1 MiB, 16 MiB; ~0.5 s per task
 *   npm run bench -- --time=2000  # longer runs
 */
import { benchLab, flag, formatSize, measure, rate, table as makeTable, MiB, KiB } from './common.js';

const SIZES = [64 * KiB, MiB, 16 * MiB];

async function main(): Promise<void> {
  const time = flag('time', 500);
  const lab = benchLab(64 * MiB);
  for (const dev of ['nullb0', 'nullb1']) {
    await lab.write(dev, 0, new Uint8Array(16 * MiB).fill(0xa5));
  }
  const table = makeTable(['size', 'path', 'median', 'throughput', 'vs Buffer.copy', 'host bytes/op', '±rme'], ['right', 'left', 'right', 'right', 'right', 'right', 'right']);
  for (const size of SIZES) {
    const src = Buffer.alloc(size, 1);
    const dst = Buffer.alloc(size);
    let offloadHost = -1;
    let emulHost = -1;
    const results = await measure(
      [
        ['Buffer.copy', () => src.copy(dst)],
        ['offload', async () => {
          const r = await lab.copy('nullb0', [{ srcOffset: 0, dstOffset: 32 * MiB, length: size }]);
          if (r.res !== size || r.path !== 'offload') throw new Error(`offload copy: ${r.res} ${r.path}`);
          offloadHost = r.host_bytes;
        }],
        ['emulated', async () => {
          const r = await lab.copy('nullb1', [{ srcOffset: 0, dstOffset: 32 * MiB, length: size }]);
          if (r.res !== size || r.path !== 'emulated') throw new Error(`emulated copy: ${r.res} ${r.path}`);
          emulHost = r.host_bytes;
        }],
      ],
      time,
    );
    const base = results.get('Buffer.copy')!;
    for (const m of results.values()) {
      const host = m.name === 'offload' ? offloadHost : m.name === 'emulated' ? emulHost : 0;
      table.push([formatSize(size), m.name, `${(m.ms * 1000).toFixed(1)} µs`, rate(size, m.ms), `${(base.ms / m.ms).toFixed(2)}×`, formatSize(host), `${m.rme.toFixed(1)}%`]);
    }
  }
  console.log(`copy throughput, ${process.version}, median of ~${time} ms per task`);
  console.log(table.toString());
  console.log('vs Buffer.copy = Buffer.copy time / this path\'s time (1.00× = as fast as a plain memcpy of the same bytes)');
  // Keep the devices' ops visible so a reader can tell the paths really ran.
  const s0 = lab.device('nullb0').stats;
  const s1 = lab.device('nullb1').stats;
  console.log(`nullb0: ${s0.ios.copy} copy commands, ${formatSize(s0.host_bytes)} host bytes; nullb1: ${s1.ios.read} reads + ${s1.ios.write} writes, ${formatSize(s1.host_bytes)} host bytes`);
}

await main();
