/**
 * The measurement behind copy_offload_min_bytes' default: offloaded vs emulated copy time per
 * size on nullblk devices of the same geometry, side by side in one run. The crossover is the
 * smallest size from which offload is at least as fast as emulation at every larger size.
 *
 *   npm run bench:heuristic
 */
import { benchLab, flag, formatSize, measure, table, KiB, MiB } from './common.js';

const SIZES = [4, 8, 16, 32, 64, 128, 256, 512, 1024].map((k) => k * KiB);

async function main(): Promise<void> {
  const time = flag('time', 250);
  const lab = benchLab(8 * MiB);
  for (const dev of ['nullb0', 'nullb1']) await lab.write(dev, 0, new Uint8Array(MiB).fill(0x5a));
  const t = table(['size', 'offload', 'emulated', 'emulated / offload'], ['right', 'right', 'right', 'right']);
  const wins: boolean[] = [];
  for (const size of SIZES) {
    const m = await measure(
      [
        ['offload', () => lab.copy('nullb0', [{ srcOffset: 0, dstOffset: 4 * MiB, length: size }])],
        ['emulated', () => lab.copy('nullb1', [{ srcOffset: 0, dstOffset: 4 * MiB, length: size }])],
      ],
      time,
    );
    const off = m.get('offload')!.ms;
    const emu = m.get('emulated')!.ms;
    wins.push(off <= emu);
    t.push([formatSize(size), `${(off * 1000).toFixed(2)} µs`, `${(emu * 1000).toFixed(2)} µs`, `${(emu / off).toFixed(2)}×`]);
  }
  console.log(`offload vs emulation per copy size (nullblk, 4 KiB blocks, ${process.version}, median of ~${time} ms per task)`);
  console.log(t.toString());
  let cross = SIZES.length;
  while (cross > 0 && wins[cross - 1]) cross--;
  console.log(cross === SIZES.length
    ? 'offload never beat emulation here: copy_offload_min_bytes should be above 1MiB for this device'
    : cross === 0
      ? `offload is at least as fast from the smallest size (${formatSize(SIZES[0]!)}): the default copy_offload_min_bytes of 0 offloads every copy`
      : `crossover: offload wins from ${formatSize(SIZES[cross]!)} upward; set copy_offload_min_bytes to ${SIZES[cross]} for this device`);
}

await main();
