/**
 * `copylab gc`: the GC lab (docs/gc.md). One run on the tag-only device or, with --scenario and
 * --dev, on a lab block device; `gc sweep` runs a grid on the worker pool; `gc import-blkparse`
 * turns blkparse text into a GC trace file.
 */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { pack } from 'msgpackr';
import { GC_DEFAULTS, GcOptionError, checkGcOptions, type GcOptions } from '../../gc/options.js';
import { runGc } from '../../gc/run.js';
import { runGcOnLab } from '../../gc/lab-backend.js';
import { LayoutError } from '../../gc/layout.js';
import { GcIntegrityError } from '../../gc/tag.js';
import { NoSpaceError } from '../../gc/lfs.js';
import { WorkloadError } from '../../gc/workload.js';
import { openTraceFile, type TraceWriter } from '../../../core/trace/writer.js';
import { checkOutput, writeOutput } from '../../../core/util/output-file.js';
import { TraceFileError, encodeTrace, readBounded, readTraceFile, type GcTrace } from '../../gc/trace-file.js';
import { GC_BLKPARSE_MAX_BYTES, formatImport, importBlkparse } from '../../gc/blkparse.js';
import { GC_PATHS, type GcPathName } from '../../gc/paths.js';
import { VICTIM_POLICIES, type VictimPolicyName } from '../../gc/policies.js';
import type { GcResult } from '../../gc/result.js';
import { runSweep, sweepRuns } from '../../gc/sweep.js';
import { renderGcSvg } from '../../plot/gc.js';
import { fmt, formatBytes, printSweep } from '../sweep-table.js';
import { buildLab, loadScenario } from '../../scenario/run.js';
import { formatSize, parseSize } from '../../../core/util/size.js';
import type { QueueCliOptions } from '../queued-sweep.js';
import { ALLOW_OUTSIDE_PATHS_HELP, EXIT_FAILED, EXIT_OK, EXIT_USAGE, type SetExit } from '../common.js';

interface GcCliOptions {
  size?: string;
  zoned?: boolean;
  zoneSize?: string;
  zoneCapacity?: string;
  segsPerSection?: string;
  spareFactor?: string;
  policy?: string;
  path?: string;
  workload?: string;
  overwrites?: string;
  seed?: string;
  timing?: string;
  allocation?: string;
  ageThreshold?: string;
  seriesPoints?: string;
  scenario?: string;
  allowOutsidePaths?: boolean;
  dev?: string;
  json?: boolean;
  seriesOut?: string;
  traceOut?: string;
  plot?: string;
}

const usage = (option: string, message: string): never => {
  throw new GcOptionError(option, message);
};

function num(v: string | undefined, option: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) usage(option, `expected a number, got "${v}"`);
  return n;
}

function size(v: string | undefined, option: string, dflt?: number): number | undefined {
  if (v === undefined) return dflt;
  const n = parseSize(v);
  if (n === undefined || n === 0) usage(option, `expected a size such as 4GiB, got "${v}"`);
  return n;
}

/** Command-line options → GcOptions (checked; a bad one is a GcOptionError naming it). */
export function gcOptionsFrom(c: GcCliOptions): GcOptions {
  const zoned = c.zoned || c.zoneSize !== undefined;
  const zoneBytes = zoned ? size(c.zoneSize, '--zone-size', 2 * 1024 * 1024)! : undefined;
  const zoneCap = zoned ? size(c.zoneCapacity, '--zone-capacity', zoneBytes) : undefined;
  if (!zoned && c.zoneCapacity !== undefined) usage('--zone-capacity', 'needs --zoned');
  const policy = (c.policy ?? GC_DEFAULTS.policy) as VictimPolicyName;
  const path = (c.path ?? GC_DEFAULTS.path) as GcPathName;
  const o: GcOptions = {
    ...GC_DEFAULTS,
    size: size(c.size, '--size', GC_DEFAULTS.size)!,
    ...(zoneBytes !== undefined ? { zoneBytes, zoneCapacityBytes: zoneCap! } : {}),
    segsPerSection: num(c.segsPerSection, '--segs-per-section', 1),
    spareFactor: num(c.spareFactor, '--spare-factor', GC_DEFAULTS.spareFactor),
    policy,
    path,
    workload: c.workload ?? GC_DEFAULTS.workload,
    overwrites: num(c.overwrites, '--overwrites', GC_DEFAULTS.overwrites),
    seed: num(c.seed, '--seed', GC_DEFAULTS.seed),
    timing: c.timing ?? GC_DEFAULTS.timing,
    allocation: (c.allocation ?? GC_DEFAULTS.allocation) as GcOptions['allocation'],
    ageThreshold: num(c.ageThreshold, '--age-threshold', GC_DEFAULTS.ageThreshold),
    seriesPoints: num(c.seriesPoints, '--series-points', GC_DEFAULTS.seriesPoints),
  };
  if (c.scenario === undefined || !(path === 'append' || path === 'izc')) checkGcOptions(o);
  return o;
}

/** A progress bar with ETA on stderr, shown at a terminal once a run has taken a second. */
export function progressBar(enabled: boolean): { update: (done: number) => void; end: () => void } {
  const t0 = performance.now();
  let shown = false;
  let last = 0;
  return {
    update(done) {
      if (!enabled) return;
      const now = performance.now();
      if (now - t0 < 1000 || now - last < 100) return;
      last = now;
      shown = true;
      const width = 30;
      const filled = Math.round(done * width);
      const eta = done > 0 ? ((now - t0) / done - (now - t0)) / 1000 : 0;
      process.stderr.write(`\r  [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(done * 100).toFixed(0).padStart(3)}%  ETA ${eta.toFixed(0)} s `);
    },
    end() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}


function printResult(r: GcResult): void {
  const t = new Table({ chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' }, style: { head: [], border: [] } });
  const dev = r.device === 'tag-only' ? `tag-only ${formatSize(r.size)}` : `${r.device} (${formatSize(r.size)})`;
  t.push(
    ['device', `${dev}, ${r.zoned ? 'zoned' : 'conventional'}, ${r.sections} sections of ${formatSize(r.section_bytes)}`],
    ['run', `${r.policy} victims, ${r.path} path, ${r.workload}, spare factor ${r.spare_factor}, seed ${r.seed}, timing ${r.timing}`],
    ['WAF', `${fmt(r.waf, 3)} (steady, 2nd half: ${fmt(r.waf_steady, 3)})`],
    ["Desnoyers greedy", `${fmt(r.waf_desnoyers_greedy, 3)} (LRU ${fmt(r.waf_desnoyers_lru, 3)}); steady / greedy = ${fmt(r.waf_steady / r.waf_desnoyers_greedy, 3)}`],
    ['user bytes', formatBytes(r.user_bytes)],
    ['GC moved', `${formatBytes(r.gc_moved_bytes)} in ${r.victims} victims`],
    ['GC commands', `${r.commands} (reads ${r.gc.reads}, writes ${r.gc.writes}, copies ${r.gc.copies}, appends ${r.gc.appends}, compactions ${r.gc.compactions}); resets ${r.resets}`],
    ['host bytes (GC)', formatBytes(r.host_bytes)],
    ['victim valid %', r.victim_valid_histogram.map((c, i) => `${i * 10}:${c}`).filter((s) => !s.endsWith(':0')).join(' ')],
    ...(r.modeled_s > 0 && r.device_copy_pages > 0 ? [['device copy', `${r.device_copy_pages} destination pages, ${r.copyback_pages} by copyback (${fmt((100 * r.copyback_pages) / r.device_copy_pages, 1)}%), allocation ${r.allocation}`] as [string, string]] : []),
    ['modeled', r.modeled_s > 0 ? `${fmt(r.modeled_s, 3)} s (GC ${fmt(r.gc_modeled_s, 3)} s); write p50 ${fmt(r.p50_us, 1)} µs, p99 ${fmt(r.p99_us, 1)} µs, p99.9 ${fmt(r.p999_us, 1)} µs, max ${fmt(r.max_us, 0)} µs` : 'no timing model (--timing none)'],
    ['wall', `${fmt(r.wall_s, 2)} s, ${fmt(r.block_moves_per_s / 1e6, 1)} M block writes/s, peak RSS ${formatBytes(r.peak_rss_bytes)}`],
    ['verified', `${r.verified_blocks} logical blocks read back`],
  );
  process.stdout.write(t.toString() + '\n');
}

function loadTrace(o: GcOptions): GcTrace | undefined {
  return o.workload.startsWith('trace:') ? readTraceFile(o.workload.slice('trace:'.length)) : undefined;
}

/** Exit code for what a run threw: usage errors 2 with the message, integrity failures 1. */
function reportError(err: unknown): number {
  if (err instanceof GcOptionError || err instanceof LayoutError || err instanceof WorkloadError || err instanceof TraceFileError) {
    process.stderr.write(`copylab gc: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof GcIntegrityError || err instanceof NoSpaceError) {
    process.stderr.write(`copylab gc: FAILED: ${err.message}\n`);
    return EXIT_FAILED;
  }
  throw err;
}

async function gcCommand(c: GcCliOptions): Promise<number> {
  try {
    const o = gcOptionsFrom(c);
    if ((c.scenario === undefined) !== (c.dev === undefined)) usage(c.scenario === undefined ? '--dev' : '--scenario', '--scenario FILE and --dev PATH go together');
    if (c.traceOut !== undefined && c.scenario === undefined) {
      usage('--trace-out', 'the tag-only device has no block layer to trace: run on a lab device (--scenario FILE --dev PATH)');
    }
    // Every output is checked before the run (which may take minutes), not after it.
    for (const f of [c.seriesOut, c.traceOut, c.plot]) if (f !== undefined) checkOutput(f);
    const trace = loadTrace(o);
    const bar = progressBar(!c.json && process.stderr.isTTY === true);
    let r: GcResult;
    let sink: TraceWriter | undefined;
    if (c.scenario !== undefined) {
      const lab = buildLab(loadScenario(c.scenario, { allowOutsidePaths: c.allowOutsidePaths === true }));
      try {
        sink = c.traceOut !== undefined ? openTraceFile(c.traceOut, `copylab gc --dev ${c.dev!}`, () => lab.clock.now()) : undefined;
        r = await runGcOnLab({ lab, dev: c.dev! }, o, { onProgress: bar.update, ...(trace ? { trace } : {}), ...(sink ? { traceSink: sink } : {}) });
      } finally {
        sink?.close();
        await lab.close();
      }
    } else r = runGc(o, { onProgress: bar.update, ...(trace ? { trace } : {}) });
    bar.end();
    // The result first: a file that then fails to be written (a full disk) does not hide it.
    if (c.json) process.stdout.write(JSON.stringify({ ...r, series: undefined }) + '\n');
    else printResult(r);
    if (c.seriesOut !== undefined) writeOutput(c.seriesOut, pack(r));
    if (c.plot !== undefined) await writePlot(c.plot, [r]);
    if (sink?.error) throw sink.error;
    return EXIT_OK;
  } catch (err) {
    return reportError(err);
  }
}

/** Writes the SVG chart of the results, or says why there is none. */
async function writePlot(file: string, results: readonly GcResult[]): Promise<void> {
  const svg = await renderGcSvg(results);
  if (svg === null) {
    process.stderr.write('copylab gc: nothing to plot: one run without a timing model (--timing draws it over time; a sweep compares runs, and WAF against spare factor over two or more)\n');
    return;
  }
  writeOutput(file, svg);
}

const list = (v: string | undefined, dflt: string): string[] => (v ?? dflt).split(',').map((s) => s.trim()).filter(Boolean);

type SweepCliOptions = GcCliOptions & { policies?: string; paths?: string; spareFactors?: string; workloads?: string; resultsOut?: string } & QueueCliOptions;

async function sweepCommand(c: SweepCliOptions): Promise<number> {
  try {
    const base = gcOptionsFrom(c);
    if (c.seriesOut !== undefined) usage('--series-out', 'a sweep writes no time series (run one gc for that; --json prints every run)');
    if (c.traceOut !== undefined) usage('--trace-out', 'a sweep runs on the tag-only device, which has no block layer to trace');
    if (c.plot !== undefined) checkOutput(c.plot);
    const policies = list(c.policies, 'greedy,cost-benefit') as VictimPolicyName[];
    for (const p of policies) if (!VICTIM_POLICIES.includes(p)) usage('--policies', `unknown policy ${p} (${VICTIM_POLICIES.join(', ')})`);
    const paths = list(c.paths, base.path) as GcPathName[];
    for (const p of paths) if (!GC_PATHS.includes(p)) usage('--paths', `unknown path ${p} (${GC_PATHS.join(', ')})`);
    const sfs = list(c.spareFactors, '0.07,0.1,0.2,0.28').map((s) => num(s, '--spare-factors', 0));
    const workloads = list(c.workloads, base.workload);
    let runs: GcOptions[];
    try {
      runs = sweepRuns(base, { policies, paths, spareFactors: sfs, workloads });
    } catch (err) {
      if (err instanceof RangeError) usage('--spare-factors', err.message);
      throw err;
    }
    if (c.resultsOut !== undefined) checkOutput(c.resultsOut);
    if (c.queue !== undefined) {
      // Loaded only here: without --queue a sweep needs no Redis and no queue code.
      const { queuedSweep } = await import('../queued-sweep.js');
      return await queuedSweep(runs, c, async (results) => {
        printSweep(results, c.json === true);
        if (c.resultsOut !== undefined) writeOutput(c.resultsOut, pack({ results }));
        if (c.plot !== undefined) await writePlot(c.plot, results);
      });
    }
    if (c.detach || c.retention !== undefined || c.timeout !== undefined) usage(c.detach ? '--detach' : c.retention !== undefined ? '--retention' : '--timeout', 'needs --queue URL');
    const tty = !c.json && process.stderr.isTTY === true;
    const results = await runSweep(runs, (d, n) => tty && process.stderr.write(`\r  ${d}/${n} runs`));
    if (tty) process.stderr.write('\r\x1b[K');
    printSweep(results, c.json === true);
    if (c.resultsOut !== undefined) writeOutput(c.resultsOut, pack({ results }));
    if (c.plot !== undefined) await writePlot(c.plot, results);
    return EXIT_OK;
  } catch (err) {
    return reportError(err);
  }
}

function importCommand(input: string, output: string, opts: { action?: string }): number {
  const action = opts.action ?? 'Q';
  if (!/^[A-Z]{1,2}$/.test(action)) {
    process.stderr.write('copylab gc import-blkparse: --action: expected a blkparse action letter (Q, D, C, …)\n');
    return EXIT_USAGE;
  }
  checkOutput(output);
  let text: string;
  try {
    text = new TextDecoder().decode(readBounded(input, GC_BLKPARSE_MAX_BYTES));
  } catch (err) {
    if (!(err instanceof TraceFileError)) throw err;
    process.stderr.write(`copylab gc import-blkparse: ${err.message}\n`);
    return EXIT_USAGE;
  }
  const imported = importBlkparse(text, action);
  const report = formatImport(input, output, imported, action);
  if (imported.trace.op.length === 0) {
    process.stderr.write(`copylab gc import-blkparse: ${report}\n`);
    return EXIT_USAGE;
  }
  writeOutput(output, encodeTrace(imported.trace));
  process.stdout.write(`${report}\n`);
  return EXIT_OK;
}

function runOptions(cmd: Command): Command {
  return cmd
    .option('--size <bytes>', 'device size (tag-only device)', '4GiB')
    .option('--zoned', 'zoned layout: one section per zone')
    .option('--zone-size <bytes>', 'zone size (implies --zoned; default 2MiB)')
    .option('--zone-capacity <bytes>', 'zone capacity (default: the zone size)')
    .option('--segs-per-section <n>', 'conventional layout: 2 MiB segments per section', '1')
    .option('--spare-factor <f>', 'spare factor (T−U)/T', '0.1')
    .option('--policy <name>', `victim policy: ${VICTIM_POLICIES.join('|')}`, 'greedy')
    .option('--path <name>', `GC copy path: ${GC_PATHS.join('|')}`, 'copy')
    .option('--workload <spec>', 'uniform | zipf:θ | zoned:a/r:… | seq | trace:FILE', 'uniform')
    .option('--overwrites <n>', 'overwrites after the fill, in capacities', '4')
    .option('--seed <n>', 'seed', '1')
    .option('--timing <preset>', 'timing preset for modeled time (none, nvmevirt-zns, femu, …)', 'none')
    .option('--allocation <name>', 'where the device puts a copy\'s destination pages: frontier | copyback-aware (on the source page\'s die, ZNS+\'s CAB; needs --timing)', 'frontier')
    .option('--age-threshold <capacities>', 'age-threshold policy: minimum age, in capacities of writes', '0.5')
    .option('--series-points <n>', 'time-series samples', '100')
    .option('--json', 'print one JSON object')
    .option('--series-out <file>', 'write the result with its time series (MessagePack, msgpackr)')
    .option('--trace-out <file>', 'lab devices: stream every block-layer trace event of the run to FILE (read with copylab trace)')
    .option('--plot <file>', 'SVG chart: per spare factor, GC seconds, host bytes, commands and write latency per path beside throughput, p99.9 and max latency over the run (with --timing); a sweep adds WAF vs spare factor with Desnoyers beside');
}

export function registerGc(program: Command, setExit: SetExit): void {
  const gc = runOptions(program.command('gc').enablePositionalOptions().description('the GC lab: an F2FS-like log-structured layer whose GC copies through the lab (docs/gc.md)'))
    .option('--scenario <file>', 'run on a device of this scenario (with --dev)')
    .option('--dev <path>', 'the scenario device to run on (/dev/nvme0n2, /dev/nullb0, /dev/mapper/x, /dev/sda)')
    .option('--allow-outside-paths', ALLOW_OUTSIDE_PATHS_HELP)
    .action(async (opts: GcCliOptions) => setExit(await gcCommand(opts)));
  runOptions(gc.command('sweep').description('run a grid of GC runs on the worker pool and print a table'))
    .option('--policies <list>', 'policies, comma-separated', 'greedy,cost-benefit')
    .option('--paths <list>', 'paths, comma-separated')
    .option('--spare-factors <list>', 'spare factors, comma-separated', '0.07,0.1,0.2,0.28')
    .option('--workloads <list>', 'workloads, comma-separated')
    .option('--results-out <file>', 'write every result with its time series to FILE (one MessagePack object, msgpackr)')
    .option('--queue <url>', 'run the grid on `copylab worker` processes through Redis: redis://[user:password@]HOST:PORT[/db], rediss:// for TLS (docs/sweeps.md)')
    .option('--detach', 'with --queue: submit, print the sweep id and return (copylab sweep status|results|cancel ID)')
    .option('--retention <time>', 'with --queue: how long Redis keeps the sweep and its results (12h, 7d; 60 s to 90 days; default 7d)')
    .option('--timeout <time>', 'with --queue: stop waiting after this long (the sweep goes on; default: the retention)')
    .action(async (opts) => setExit(await sweepCommand(opts)));
  gc.command('import-blkparse <input> <output>')
    .description("turn blkparse's text output into a GC trace file (MessagePack) for --workload trace:FILE")
    .option('--action <letter>', 'blkparse action to take (Q queued, D issued, C completed)', 'Q')
    .action((input: string, output: string, opts: { action?: string }) => setExit(importCommand(input, output, opts)));
}
