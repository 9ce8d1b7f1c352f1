/**
 * `npm run bench:gc`: the GC lab at scale. A 1 TiB zoned namespace (2 MiB zones) on the tag-only
 * device, spare factor 0.1, filled once, then 2 capacities of uniform random 4 KiB overwrites
 * with greedy victims on the copy path: about two billion block moves, every GC read checked
 * and every logical block read back at the end. Target: ≤ 120 s wall, ≤ 2.5 GiB peak RSS.
 * A second, smaller run on the NVMeVirt-like timing model gives modeled time (a timing-model
 * reservation per command costs more than the tag-only move itself, so the terabyte run is
 * untimed). Options: --size BYTES, --overwrites N, --timed-size BYTES (0 skips the timed run).
 */
import { runGc } from '../src/gc/run.js';
import { GC_DEFAULTS, type GcOptions } from '../src/gc/options.js';
import { progressBar } from '../src/cli/commands/gc.js';
import { parseSize } from '../src/util/size.js';
import { table } from './common.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const size = parseSize(arg('--size') ?? '1TiB')!;
const overwrites = Number(arg('--overwrites') ?? 2);
const timedSize = parseSize(arg('--timed-size') ?? '8GiB')!;
const mapWorkerArg = arg('--map-worker') ?? 'auto';
const mapWorker = mapWorkerArg === 'on' ? true : mapWorkerArg === 'off' ? false : undefined;

const big: GcOptions = { ...GC_DEFAULTS, size, zoneBytes: 2 * 1024 ** 2, zoneCapacityBytes: 2 * 1024 ** 2, spareFactor: 0.1, overwrites, policy: 'greedy', path: 'copy', workload: 'uniform', seed: 1, timing: 'none', seriesPoints: 10 };
const gib = (b: number): string => (b / 1024 ** 3).toFixed(2);

process.stderr.write(`GC bench: ${gib(size)} GiB zoned tag-only, Sf 0.1, ${overwrites}× capacity of uniform 4 KiB overwrites, greedy, copy path\n`);
const bar = progressBar(process.stderr.isTTY === true);
// Not at a terminal (a log file): a line per 5%, with wall and CPU seconds so far.
let nextLine = 0.05;
const t0 = performance.now();
const onProgress = (d: number): void => {
  bar.update(d);
  if (!process.stderr.isTTY && d >= nextLine) {
    nextLine += 0.05;
    const cpu = process.cpuUsage();
    process.stderr.write(`  ${(d * 100).toFixed(0)}%  wall ${((performance.now() - t0) / 1000).toFixed(0)} s  cpu ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s  rss ${(process.memoryUsage.rss() / 1024 ** 3).toFixed(2)} GiB\n`);
  }
};
const r = runGc(big, { onProgress, ...(mapWorker !== undefined ? { mapWorker } : {}) });
bar.end();
const peak = process.resourceUsage().maxRSS * 1024;
const moves = (r.gc_moved_bytes + r.user_bytes + r.fill_bytes) / 4096;

const t = table(['run', 'wall s', 'modeled s', 'WAF', 'Desnoyers greedy', 'GC moves', 'block writes/s', 'GC commands', 'peak RSS GiB'], ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
const cpu = process.cpuUsage();
t.push([`${gib(size)} GiB, untimed`, `${r.wall_s.toFixed(1)} (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(1)})`, '-', r.waf.toFixed(3), r.waf_desnoyers_greedy.toFixed(3), (r.gc_moved_bytes / 4096).toExponential(3), (moves / r.wall_s / 1e6).toFixed(1) + ' M', r.commands, gib(peak)]);

if (timedSize > 0) {
  const small: GcOptions = { ...big, size: timedSize, timing: 'nvmevirt-zns' };
  const s = runGc(small);
  const sm = (s.gc_moved_bytes + s.user_bytes + s.fill_bytes) / 4096;
  t.push([`${gib(timedSize)} GiB, nvmevirt-zns`, s.wall_s.toFixed(1), s.modeled_s.toFixed(1), s.waf.toFixed(3), s.waf_desnoyers_greedy.toFixed(3), (s.gc_moved_bytes / 4096).toExponential(3), (sm / s.wall_s / 1e6).toFixed(1) + ' M', s.commands, gib(process.resourceUsage().maxRSS * 1024)]);
}
process.stdout.write(t.toString() + '\n');
process.stdout.write(`${size === 1024 ** 4 ? 'targets' : 'targets (set for 1 TiB; this run is smaller)'}: wall ≤ 120 s (${r.wall_s <= 120 ? 'met' : 'missed'}), peak RSS ≤ 2.5 GiB (${peak <= 2.5 * 1024 ** 3 ? 'met' : 'missed'}); ${r.verified_blocks} logical blocks verified\n`);
