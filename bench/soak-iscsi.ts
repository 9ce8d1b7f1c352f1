/**
 * `npm run soak:iscsi -- [--sessions N] [--depth D] [--seconds T] [--io-bytes B] [--seed S]`:
 * N iSCSI sessions × D commands in flight writing and verifying distinct regions for T seconds
 * against an in-process target (src/harness/iscsi-soak.ts); prints progress, then throughput and
 * the lost and corrupted block counts. Exit 0 when nothing was lost, corrupted or failed, 1
 * otherwise, 2 for a bad option.
 */
import { SOAK_DEFAULTS, SOAK_LIMITS, soakIscsi, type SoakOptions, type SoakReport } from '../src/harness/iscsi-soak.js';
import { table } from './common.js';

function opt(name: string, def: number, lo: number, hi: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = process.argv[i + 1] ?? '';
  if (!/^\d{1,10}$/.test(v) || Number(v) < lo || Number(v) > hi) {
    process.stderr.write(`soak iscsi: --${name}: expected ${lo}-${hi}, got ${v}\n`);
    process.exit(2);
  }
  return Number(v);
}

export function soakTable(r: SoakReport): string {
  const t = table(['sessions × depth', 'seconds', 'writes', 'reads', 'write MiB/s', 'read MiB/s', 'IOPS', 'blocks verified', 'lost', 'corrupted', 'failed cmds'], ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
  t.push([`${r.sessions} × ${r.depth}`, r.seconds.toFixed(1), r.writes, r.reads, (r.bytesWritten / 2 ** 20 / r.seconds).toFixed(1), (r.bytesRead / 2 ** 20 / r.seconds).toFixed(1), Math.round((r.writes + r.reads) / r.seconds), r.blocksVerified, r.lostBlocks, r.corruptedBlocks, r.failedCommands]);
  return t.toString();
}

const ioBytes = opt('io-bytes', SOAK_DEFAULTS.ioBytes, 512, SOAK_LIMITS.maxIoBytes);
if (ioBytes % 512) {
  process.stderr.write('soak iscsi: --io-bytes: expected a multiple of 512\n');
  process.exit(2);
}
const o: SoakOptions = {
  sessions: opt('sessions', SOAK_DEFAULTS.sessions, 1, SOAK_LIMITS.maxSessions),
  depth: opt('depth', SOAK_DEFAULTS.depth, 1, SOAK_LIMITS.maxDepth),
  seconds: opt('seconds', SOAK_DEFAULTS.seconds, 1, SOAK_LIMITS.maxSeconds),
  seed: opt('seed', SOAK_DEFAULTS.seed, 0, 0xffffffff),
  ioBytes,
  progress: (l) => process.stderr.write(`  ${l}\n`),
};
process.stdout.write(`soak: ${o.sessions} sessions × ${o.depth} in flight, ${o.ioBytes}-byte writes verified by reads, ${o.seconds} s, seed ${o.seed}\n`);
const r = await soakIscsi(o);
process.stdout.write(`${soakTable(r)}\n`);
if (r.firstError) process.stdout.write(`first failure: ${r.firstError}\n`);
const ok = r.lostBlocks === 0 && r.corruptedBlocks === 0 && r.failedCommands === 0 && r.blocksVerified > 0;
process.stdout.write(`${r.blocksVerified} blocks verified, ${r.lostBlocks} lost, ${r.corruptedBlocks} corrupted: ${ok ? 'ok' : 'FAILED'}\n`);
process.exitCode = ok ? 0 : 1;
