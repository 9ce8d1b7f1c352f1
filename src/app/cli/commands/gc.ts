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
import { openLabDevice } from '../../gc/lab-target.js';
import { knownFailure } from '../../gc/failure.js';
import { isFailedPoint, type SweepPoint } from '../../gc/sweep-point.js';
import { RUN_STEP_KEYS, SWEEP_STEP_KEYS, withStepDefaults, type Given } from '../gc-step-defaults.js';
import { checkPlot, ONE_RUN, writePlot, type PlotGrid } from '../gc-plot.js';
import type { Scenario } from '../../scenario/parse.js';
import { openTraceFile, type TraceWriter } from '../../../core/trace/writer.js';
import { checkOutput, writeOutput } from '../../../core/util/output-file.js';
import { TraceFileError, encodeTrace, readBounded, readTraceFile, type GcTrace } from '../../gc/trace-file.js';
import { COMMAND_KINDS } from '../../gc/paths.js';
import { GC_BLKPARSE_MAX_BYTES, formatImport, importBlkparse } from '../../gc/blkparse.js';
import { GC_PATHS, type GcPathName } from '../../gc/paths.js';
import { VICTIM_POLICIES, type VictimPolicyName } from '../../gc/policies.js';
import type { GcResult } from '../../gc/result.js';
import { runSweep, sweepRuns } from '../../gc/sweep.js';
import { fmt, formatBytes, printSweep } from '../sweep-table.js';
import { buildLab, loadScenario } from '../../scenario/run.js';
import { formatSize, parseSize } from '../../../core/util/size.js';
import { wrapText } from '../../../core/util/text-table.js';
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


/** The command breakdown: every kind (reads … reset commands), together the total. */
function commandsLine(r: GcResult): string {
  const names: Record<(typeof COMMAND_KINDS)[number], string> = { reads: 'reads', writes: 'writes', copies: 'copies', appends: 'appends', compactions: 'compactions', reset_commands: 'resets' };
  return `${r.commands} (${COMMAND_KINDS.map((k) => `${names[k]} ${r.gc[k]}`).join(', ')}); ${r.resets} sections reset`;
}

/** Widest text in the result table's second column before it wraps. */
const RESULT_TEXT_WIDTH = 96;

function printResult(r: GcResult): void {
  const t = new Table({ chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' }, style: { head: [], border: [] } });
  const dev = r.device === 'tag-only' ? `tag-only ${formatSize(r.size)}` : `${r.device} (${formatSize(r.size)})`;
  const emulated = r.copy_emulation.map((e) => `${e.code}, ${formatBytes(e.bytes)}: ${e.detail}`).join('; ');
  /** A long cell in lines, so the table keeps to a terminal's width. */
  const wrap = (text: string): string => wrapText(text, RESULT_TEXT_WIDTH).join('\n');
  t.push(
    ['device', `${dev}, ${r.zoned ? 'zoned' : 'conventional'}, ${r.sections} sections of ${formatSize(r.section_bytes)}`],
    ['run', `${r.policy} victims, ${r.path} path, ${r.workload}, spare factor ${r.spare_factor}, seed ${r.seed}, timing ${r.timing}`],
    ...r.notes.map((n): [string, string] => ['note', wrap(n)]),
    ['WAF', `${fmt(r.waf, 3)} (steady, 2nd half: ${fmt(r.waf_steady, 3)})`],
    ["Desnoyers greedy", `${fmt(r.waf_desnoyers_greedy, 3)} (LRU ${fmt(r.waf_desnoyers_lru, 3)}); steady / greedy = ${fmt(r.waf_steady / r.waf_desnoyers_greedy, 3)}`],
    ['user bytes', formatBytes(r.user_bytes)],
    ['GC moved', `${formatBytes(r.gc_moved_bytes)} in ${r.victims} victims`],
    ['GC commands', commandsLine(r)],
    ...(r.copy_emulated_bytes > 0 ? [['copies emulated', wrap(`${formatBytes(r.copy_emulated_bytes)}, read and written by the host: ${emulated}`)] as [string, string]] : []),
    ['host bytes (GC)', formatBytes(r.host_bytes)],
    ['victim valid %', r.victim_valid_histogram.map((c, i) => `${i * 10}:${c}`).filter((s) => !s.endsWith(':0')).join(' ')],
    ...(r.modeled_s > 0 && r.device_copy_pages > 0 ? [['device copy', `${r.device_copy_pages} destination pages, ${r.copyback_pages} by copyback (${fmt((100 * r.copyback_pages) / r.device_copy_pages, 1)}%), allocation ${r.allocation}`] as [string, string]] : []),
    ['modeled', r.modeled_s > 0 ? `${fmt(r.modeled_s, 3)} s (GC ${fmt(r.gc_modeled_s, 3)} s); write p50 ${fmt(r.p50_us, 1)} µs, p99 ${fmt(r.p99_us, 1)} µs, p99.9 ${fmt(r.p999_us, 1)} µs, max ${fmt(r.max_us, 0)} µs` : r.device === 'tag-only' ? 'no timing model (--timing none)' : 'no timing model (the device has none in the scenario)'],
    ['wall', `${fmt(r.wall_s, 2)} s, ${fmt(r.block_moves_per_s / 1e6, 1)} M block writes/s, peak RSS ${formatBytes(r.peak_rss_bytes)}`],
    ['verified', `${r.verified_blocks} logical blocks read back`],
  );
  process.stdout.write(t.toString() + '\n');
}

function loadTrace(o: GcOptions): GcTrace | undefined {
  return o.workload.startsWith('trace:') ? readTraceFile(o.workload.slice('trace:'.length)) : undefined;
}

/** Exit code for what a run threw: usage errors 2 with the message, failed runs 1 (failure.ts). */
function reportError(err: unknown): number {
  const kind = knownFailure(err);
  if (kind === 'usage') {
    process.stderr.write(`copylab gc: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  if (kind === 'failed') {
    process.stderr.write(`copylab gc: FAILED: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  }
  throw err;
}

async function gcCommand(c0: GcCliOptions, given: Given): Promise<number> {
  try {
    if ((c0.scenario === undefined) !== (c0.dev === undefined)) usage(c0.scenario === undefined ? '--dev' : '--scenario', '--scenario FILE and --dev PATH go together');
    const scenario = c0.scenario !== undefined ? loadScenario(c0.scenario, { allowOutsidePaths: c0.allowOutsidePaths === true }) : undefined;
    const c = scenario ? withStepDefaults(c0, scenario, c0.dev!, given, RUN_STEP_KEYS, 'gc') : c0;
    const o = gcOptionsFrom(c);
    if (c.traceOut !== undefined && c.scenario === undefined) {
      usage('--trace-out', 'the tag-only device has no block layer to trace: run on a lab device (--scenario FILE --dev PATH)');
    }
    // Every output is checked before the run (which may take minutes), not after it.
    for (const f of [c.seriesOut, c.traceOut, c.plot]) if (f !== undefined) checkOutput(f);
    if (c.plot !== undefined && !scenario) checkPlot(o, ONE_RUN);
    const trace = loadTrace(o);
    const bar = progressBar(!c.json && process.stderr.isTTY === true);
    let r: GcResult;
    let sink: TraceWriter | undefined;
    if (scenario) {
      const lab = buildLab(scenario);
      try {
        if (c.plot !== undefined) checkPlot(o, ONE_RUN, { lab, dev: c.dev! });
        sink = c.traceOut !== undefined ? openTraceFile(c.traceOut, `copylab gc --dev ${c.dev!}`, () => lab.clock.now()) : undefined;
        const onNote = (n: string): void => void process.stderr.write(`copylab gc: note: ${n}\n`);
        r = await runGcOnLab({ lab, dev: c.dev! }, o, { onProgress: bar.update, onNote, ...(trace ? { trace } : {}), ...(sink ? { traceSink: sink } : {}) });
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
    const plotted = c.plot === undefined || (await writePlot(c.plot, [r], 'gc'));
    if (sink?.error) throw sink.error;
    return plotted ? EXIT_OK : EXIT_FAILED;
  } catch (err) {
    return reportError(err);
  }
}

const list = (v: string | undefined, dflt: string): string[] => (v ?? dflt).split(',').map((s) => s.trim()).filter(Boolean);

type SweepCliOptions = GcCliOptions & { policies?: string; paths?: string; spareFactors?: string; workloads?: string; resultsOut?: string } & QueueCliOptions;

/** A sweep's exit code: 0 when every point gave a result, else the worst failure's (usage 2, failed 1). */
function sweepExit(points: readonly SweepPoint[]): number {
  let code = EXIT_OK;
  for (const p of points) if (isFailedPoint(p)) code = Math.max(code, p.error_kind === 'usage' ? EXIT_USAGE : EXIT_FAILED);
  return code;
}

/** The grid's points from the sweep's lists: a tag-only device's checked here, a lab device's by checkLabPoints. */
function gridOf(c: SweepCliOptions, base: GcOptions, onLab: boolean): GcOptions[] {
  const policies = list(c.policies, 'greedy,cost-benefit') as VictimPolicyName[];
  for (const p of policies) if (!VICTIM_POLICIES.includes(p)) usage('--policies', `unknown policy ${p} (${VICTIM_POLICIES.join(', ')})`);
  const paths = list(c.paths, base.path) as GcPathName[];
  for (const p of paths) if (!GC_PATHS.includes(p)) usage('--paths', `unknown path ${p} (${GC_PATHS.join(', ')})`);
  const spareFactors = list(c.spareFactors, '0.07,0.1,0.2,0.28').map((s) => num(s, '--spare-factors', 0));
  const workloads = list(c.workloads, base.workload);
  try {
    return sweepRuns(base, { policies, paths, spareFactors, workloads }, onLab ? () => {} : undefined);
  } catch (err) {
    if (err instanceof RangeError) usage('--spare-factors', err.message);
    throw err;
  }
}

/** Every point as a pool thread will open it on the scenario's device, before any runs (a refused one stops the sweep), and --plot against the device. */
async function checkLabPoints(scenario: Scenario, dev: string, runs: readonly GcOptions[], plot: boolean): Promise<void> {
  const lab = buildLab(scenario);
  try {
    for (const o of runs) await openLabDevice({ lab, dev }, o);
    if (plot) checkPlot(runs[0]!, gridOfRuns(runs), { lab, dev });
  } finally {
    await lab.close();
  }
}

/** What a sweep's chart has to compare: its spare factors and runs. */
const gridOfRuns = (runs: readonly GcOptions[]): PlotGrid => ({ spareFactors: new Set(runs.map((o) => o.spareFactor)).size, runs: runs.length });

async function sweepCommand(c0: SweepCliOptions, given: Given): Promise<number> {
  try {
    if ((c0.scenario === undefined) !== (c0.dev === undefined)) usage(c0.scenario === undefined ? '--dev' : '--scenario', '--scenario FILE and --dev PATH go together');
    if (c0.scenario !== undefined && c0.queue !== undefined) usage('--queue', 'a sweep on a scenario device runs on this machine (the queue takes tag-only points)');
    const scenario = c0.scenario !== undefined ? loadScenario(c0.scenario, { allowOutsidePaths: c0.allowOutsidePaths === true }) : undefined;
    const c = scenario ? withStepDefaults(c0, scenario, c0.dev!, given, SWEEP_STEP_KEYS, 'gc sweep') : c0;
    const base = gcOptionsFrom(c);
    if (c.seriesOut !== undefined) usage('--series-out', 'a sweep writes no time series (run one gc for that; --json prints every run)');
    if (c.traceOut !== undefined) usage('--trace-out', 'a sweep writes no trace (run one gc on a lab device for that)');
    for (const f of [c.plot, c.resultsOut]) if (f !== undefined) checkOutput(f);
    const runs = gridOf(c, base, scenario !== undefined);
    if (scenario) await checkLabPoints(scenario, c.dev!, runs, c.plot !== undefined);
    else if (c.plot !== undefined) checkPlot(base, gridOfRuns(runs));
    const print = async (points: readonly SweepPoint[]): Promise<boolean> => {
      printSweep(points, c.json === true);
      if (c.resultsOut !== undefined) writeOutput(c.resultsOut, pack({ results: points }));
      return c.plot === undefined || (await writePlot(c.plot, points.filter((p): p is GcResult => !isFailedPoint(p)), 'gc sweep'));
    };
    if (c.queue !== undefined) {
      // Loaded only here: without --queue a sweep needs no Redis and no queue code.
      const { queuedSweep } = await import('../queued-sweep.js');
      return await queuedSweep(runs, c, print);
    }
    if (c.detach || c.retention !== undefined || c.timeout !== undefined) usage(c.detach ? '--detach' : c.retention !== undefined ? '--retention' : '--timeout', 'needs --queue URL');
    const tty = !c.json && process.stderr.isTTY === true;
    const lab = scenario ? { scenario: c.scenario!, allowOutsidePaths: c.allowOutsidePaths === true, dev: c.dev! } : undefined;
    const points = await runSweep(runs, (d, n) => tty && process.stderr.write(`\r  ${d}/${n} runs`), lab);
    if (tty) process.stderr.write('\r\x1b[K');
    const plotted = await print(points);
    for (const p of points) if (isFailedPoint(p)) process.stderr.write(`copylab gc sweep: ${p.workload} ${p.policy} ${p.path} Sf ${p.spare_factor}: ${p.error}\n`);
    const code = sweepExit(points);
    return code !== EXIT_OK ? code : plotted ? EXIT_OK : EXIT_FAILED;
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
    .action(async (opts: GcCliOptions, cmd: Command) => setExit(await gcCommand(opts, (o) => cmd.getOptionValueSource(o) === 'cli')));
  runOptions(gc.command('sweep').description('run a grid of GC runs on the worker pool and print a table'))
    .option('--scenario <file>', 'run every point on a device of this scenario, each in a lab of its own (with --dev)')
    .option('--dev <path>', 'the scenario device the points run on')
    .option('--allow-outside-paths', ALLOW_OUTSIDE_PATHS_HELP)
    .option('--policies <list>', 'policies, comma-separated', 'greedy,cost-benefit')
    .option('--paths <list>', 'paths, comma-separated')
    .option('--spare-factors <list>', 'spare factors, comma-separated', '0.07,0.1,0.2,0.28')
    .option('--workloads <list>', 'workloads, comma-separated')
    .option('--results-out <file>', 'write every result with its time series to FILE (one MessagePack object, msgpackr)')
    .option('--queue <url>', 'run the grid on `copylab worker` processes through Redis: redis://[user:password@]HOST:PORT[/db], rediss:// for TLS (docs/sweeps.md)')
    .option('--detach', 'with --queue: submit, print the sweep id and return (copylab sweep status|results|cancel ID)')
    .option('--retention <time>', 'with --queue: how long Redis keeps the sweep and its results (12h, 7d; 60 s to 90 days; default 7d)')
    .option('--timeout <time>', 'with --queue: stop waiting after this long (the sweep goes on; default: the retention)')
    .action(async (opts: SweepCliOptions, cmd: Command) => setExit(await sweepCommand(opts, (o) => cmd.getOptionValueSource(o) === 'cli')));
  gc.command('import-blkparse <input> <output>')
    .description("turn blkparse's text output into a GC trace file (MessagePack) for --workload trace:FILE")
    .option('--action <letter>', 'blkparse action to take (Q queued, D issued, C completed)', 'Q')
    .action((input: string, output: string, opts: { action?: string }) => setExit(importCommand(input, output, opts)));
}
