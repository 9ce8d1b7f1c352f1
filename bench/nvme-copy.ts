/**
 * NVMe Copy offload vs host read + write through the nvme driver, 4 KiB … 16 MiB, side by side
 * in one run. Both go through the same copy engine onto the same namespace; the emulated run has
 * copy offload switched off in sysfs (copy_max_bytes = 0), so the engine reads into its bounce
 * buffer and writes back: every byte crosses the host DMA arena twice. The offloaded run moves
 * only the descriptor lists (32 bytes per range) across the bus.
 *
 *   npm run build && node dist/bench/nvme-copy.js [--time=MS]
 */
import { Lab } from '../src/lab.js';
import { addNvmeController } from '../devices/nvme/attach.js';
import { flag, formatSize, KiB, MiB, measure, rate, table } from './common.js';

const SIZES = [4 * KiB, 64 * KiB, 512 * KiB, 1 * MiB, 4 * MiB, 16 * MiB];

async function main(): Promise<void> {
  const timeMs = flag('time', 300);
  const lab = new Lab();
  const att = addNvmeController(lab, { name: 'nvme0', namespaces: [{ size: 64 * MiB, lbs: 4096, backing: 'memory' }] });
  await lab.write('nvme0n1', 0, new Uint8Array(16 * MiB).fill(0x5a));
  const t = table(['size', 'offload', 'MB/s', 'host bytes', 'Copy cmds', 'emulated', 'MB/s', 'host bytes', 'R/W cmds', 'speedup'], ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
  const dev = att.devices[0]!;
  for (const size of SIZES) {
    const one = async (): Promise<{ host: number }> => {
      const r = await lab.copy('nvme0n1', [{ srcOffset: 0, dstOffset: 32 * MiB, length: size }]);
      if (r.res !== size) throw new Error(`copy failed: ${r.res}`);
      return { host: r.host_bytes };
    };
    lab.writeSysfs('/sys/block/nvme0n1/queue/copy_max_bytes', String(64 * MiB));
    const c0 = dev.commands.copy;
    const offHost = (await one()).host;
    const offCmds = dev.commands.copy - c0;
    const off = (await measure([['offload', one]], timeMs)).get('offload')!;
    lab.writeSysfs('/sys/block/nvme0n1/queue/copy_max_bytes', '0');
    const rw0 = dev.commands.read + dev.commands.write;
    const emuHost = (await one()).host;
    const emuCmds = dev.commands.read + dev.commands.write - rw0;
    const emu = (await measure([['emulated', one]], timeMs)).get('emulated')!;
    t.push([formatSize(size), `${off.ms.toFixed(3)} ms`, rate(size, off.ms), formatSize(offHost), offCmds, `${emu.ms.toFixed(3)} ms`, rate(size, emu.ms), formatSize(emuHost), emuCmds, `${(emu.ms / off.ms).toFixed(2)}x`]);
  }
  await lab.close();
  process.stdout.write('NVMe Copy offload vs host read+write through the driver (median per copy, one namespace, 4 KiB blocks, MCL 128 blocks)\n');
  process.stdout.write(t.toString() + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
