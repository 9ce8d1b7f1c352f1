/**
 * Read throughput through iSCSI: libiscsi's iscsi-perf against `copylab serve iscsi` and
 * Debian's tgtd (file-backed LUN) in the same run, at 4 KiB and 1 MiB per request.
 *
 *   npm run build && node dist/bench/iscsi-perf.js [--seconds N] [--depth N]
 *
 * Prints IOPS and MB/s for both targets and the copylab/tgtd ratio. Needs libiscsi-bin and tgt.
 */
import { spawn } from 'node:child_process';
import { requireTool, startCopylab, startTgtd, type RunningTarget } from './iscsi/conformance.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

interface Figure {
  readonly iops: number;
  readonly mbs: number;
}

/** Runs iscsi-perf for `seconds`; parses its final "iops average N (M MB/s)". */
function perf(url: string, blocks: number, depth: number, seconds: number): Promise<Figure> {
  return new Promise((resolve, reject) => {
    const p = spawn('iscsi-perf', ['-b', String(blocks), '-m', String(depth), '-t', String(seconds), url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    p.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const killer = setTimeout(() => p.kill('SIGKILL'), (seconds + 20) * 1000);
    p.on('error', reject);
    p.on('close', () => {
      clearTimeout(killer);
      const all = [...out.matchAll(/iops average (\d+) \((\d+) MB\/s\)/g)];
      const last = all[all.length - 1];
      if (!last) return reject(new Error(`iscsi-perf printed no figures: ${out.slice(-300)}`));
      resolve({ iops: Number(last[1]), mbs: Number(last[2]) });
    });
  });
}

async function measure(start: () => Promise<RunningTarget>, seconds: number, depth: number): Promise<Record<string, Figure>> {
  const t = await start();
  try {
    // The LU's block size is 512 on both targets: 8 blocks = 4 KiB, 2048 blocks = 1 MiB.
    return { '4KiB': await perf(t.url, 8, depth, seconds), '1MiB': await perf(t.url, 2048, Math.min(depth, 8), seconds) };
  } finally {
    await t.stop();
  }
}

async function main(): Promise<void> {
  requireTool('iscsi-perf');
  const seconds = arg('--seconds', 5);
  const depth = arg('--depth', 32);
  const c = await measure(() => startCopylab(), seconds, depth);
  const g = await measure(() => startTgtd(), seconds, depth);
  const row = (k: string) => `${k.padEnd(6)} ${`${c[k]!.iops} IOPS ${c[k]!.mbs} MB/s`.padEnd(26)} ${`${g[k]!.iops} IOPS ${g[k]!.mbs} MB/s`.padEnd(26)} ${(c[k]!.iops / Math.max(1, g[k]!.iops)).toFixed(2)}`;
  process.stdout.write(`iscsi-perf sequential reads, ${seconds} s each, queue depth ${depth} (4 KiB) / ${Math.min(depth, 8)} (1 MiB)\n`);
  process.stdout.write(`${'size'.padEnd(6)} ${'copylab'.padEnd(26)} ${'tgtd'.padEnd(26)} copylab/tgtd\n${row('4KiB')}\n${row('1MiB')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`iscsi-perf bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
