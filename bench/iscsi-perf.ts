/**
 * Read throughput through iSCSI: libiscsi's iscsi-perf against `copylab serve iscsi` and
 * Debian's tgtd (file-backed LUN) in the same run, at 4 KiB and 1 MiB per request.
 *
 *   npm run build && node dist/bench/iscsi-perf.js [--seconds N] [--depth N] [--rounds N]
 *
 * Both targets run side by side; each round runs copylab then tgtd (the next round tgtd first),
 * so a change in the machine's load hits both. Prints the median IOPS and MB/s of each target,
 * the copylab/tgtd ratio, and each target's CPU time (user + system, from /proc) per command: on
 * a shared machine the throughput follows the load, the CPU cost per command much less.
 * Needs libiscsi-bin and tgt.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { requireTool, startCopylab, startTgtd, type RunningTarget } from '../src/harness/iscsi-test-cu.js';

function arg(name: string, dflt: number, max: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1 || v > max) {
    process.stderr.write(`iscsi-perf bench: ${name} must be an integer 1..${max}\n`);
    process.exit(2);
  }
  return v;
}

interface Figure {
  readonly iops: number;
  readonly mbs: number;
  /** Target CPU microseconds per command (user + system). */
  readonly cpuUs: number;
}

const CLK_TCK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

/** utime + stime of a process and its threads, seconds (proc(5): fields 14 and 15). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** Runs iscsi-perf for `seconds`; parses its final "iops average N (M MB/s)". */
function perf(t: RunningTarget, blocks: number, depth: number, seconds: number): Promise<Figure> {
  return new Promise((resolve, reject) => {
    const cpu0 = cpuSeconds(t.pid);
    const p = spawn('iscsi-perf', ['-b', String(blocks), '-m', String(depth), '-t', String(seconds), t.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out = (out + d.toString('utf8')).slice(-4096)));
    p.stderr.on('data', (d: Buffer) => (out = (out + d.toString('utf8')).slice(-4096)));
    const killer = setTimeout(() => p.kill('SIGKILL'), (seconds + 20) * 1000);
    p.on('error', reject);
    p.on('close', () => {
      clearTimeout(killer);
      const cpu = cpuSeconds(t.pid) - cpu0;
      const all = [...out.matchAll(/iops average (\d+) \((\d+) MB\/s\)/g)];
      const last = all[all.length - 1];
      if (!last) return reject(new Error(`iscsi-perf printed no figures: ${out.slice(-300)}`));
      const iops = Number(last[1]);
      resolve({ iops, mbs: Number(last[2]), cpuUs: iops > 0 ? (cpu * 1e6) / (iops * seconds) : NaN });
    });
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function main(): Promise<void> {
  requireTool('iscsi-perf');
  const seconds = arg('--seconds', 5, 60);
  const depth = arg('--depth', 32, 128);
  const rounds = arg('--rounds', 1, 9);
  const loadBefore = load();
  const targets = { copylab: await startCopylab(), tgtd: await startTgtd() };
  // The LU's block size is 512 on both targets: 8 blocks = 4 KiB, 2048 blocks = 1 MiB.
  const sizes = [
    { name: '4KiB', blocks: 8, depth },
    { name: '1MiB', blocks: 2048, depth: Math.min(depth, 8) },
  ];
  const figures = new Map<string, Figure[]>();
  try {
    for (const size of sizes) {
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? (['copylab', 'tgtd'] as const) : (['tgtd', 'copylab'] as const);
        for (const name of order) {
          const f = await perf(targets[name], size.blocks, size.depth, seconds);
          process.stderr.write(`  ${size.name} round ${r + 1}/${rounds} ${name.padEnd(7)} ${f.iops} IOPS ${f.mbs} MB/s ${f.cpuUs.toFixed(1)} us CPU/command\n`);
          const k = `${size.name}/${name}`;
          figures.set(k, [...(figures.get(k) ?? []), f]);
        }
      }
    }
  } finally {
    await targets.copylab.stop();
    await targets.tgtd.stop();
  }
  const med = (k: string): Figure => {
    const fs = figures.get(k)!;
    return { iops: median(fs.map((f) => f.iops)), mbs: median(fs.map((f) => f.mbs)), cpuUs: median(fs.map((f) => f.cpuUs)) };
  };
  const cell = (f: Figure): string => `${Math.round(f.iops)} IOPS ${Math.round(f.mbs)} MB/s`.padEnd(26);
  const cpu = (f: Figure): string => `${f.cpuUs.toFixed(1)}`.padStart(8);
  process.stdout.write(`iscsi-perf sequential reads, ${seconds} s each, ${rounds} round(s), queue depth ${depth} (4 KiB) / ${Math.min(depth, 8)} (1 MiB); medians\n`);
  process.stdout.write(`${'size'.padEnd(6)} ${'copylab'.padEnd(26)} ${'tgtd'.padEnd(26)} ${'copylab/tgtd'.padEnd(13)} CPU us/command copylab, tgtd\n`);
  for (const { name } of sizes) {
    const c = med(`${name}/copylab`);
    const g = med(`${name}/tgtd`);
    process.stdout.write(`${name.padEnd(6)} ${cell(c)} ${cell(g)} ${(c.iops / Math.max(1, g.iops)).toFixed(2).padEnd(13)} ${cpu(c)} ${cpu(g)}\n`);
  }
  process.stdout.write(`load average (1, 5, 15 min): ${loadBefore} before, ${load()} after\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`iscsi-perf bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
