/**
 * `copylab heuristic [DEV] [--scenario F | --timing PRESET] [--apply] [--json]`: the size
 * heuristic measured in modeled time (src/app/heuristic/measure.ts, docs/heuristics.md).
 */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { Lab } from '../../lab.js';
import { buildLab } from '../../scenario/run.js';
import { measureHeuristic, type HeuristicResult } from '../../heuristic/measure.js';
import { presetNames, resolveTiming, TIMING_NONE } from '../../../../devices/timing/params.js';
import { formatSize } from '../../../core/util/size.js';
import { ErrnoError } from '../../../core/util/errno.js';
import { checkOutput, writeOutput } from '../../../core/util/output-file.js';
import { allowOutsidePathsOption, EXIT_OK, EXIT_USAGE, fail, scenarioFrom, type SetExit } from '../common.js';

const us = (v: number | null): string => (v === null ? '-' : v < 1000 ? `${v.toFixed(1)} µs` : `${(v / 1000).toFixed(2)} ms`);

export function formatHeuristic(r: HeuristicResult): string {
  const t = new Table({
    head: ['size', 'offload', 'emulated', 'offload speed-up', 'host bytes saved', 'note'],
    colAligns: ['right', 'right', 'right', 'right', 'right', 'left'],
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: [], border: [] },
  });
  for (const row of r.rows) {
    t.push([formatSize(row.size), us(row.offload_us), us(row.emulated_us), row.speedup === null ? '-' : `${row.speedup.toFixed(2)}×`, formatSize(row.host_bytes_saved), row.note ?? '']);
  }
  const cross = r.crossover === null
    ? r.loses_from !== null
      ? `offload pays below ${formatSize(r.loses_from)} and loses from there up (the copy path is slower than the host path for bulk data); copy_offload_min_bytes sets only a floor, so nothing is applied`
      : 'offload never pays at the measured sizes'
    : r.crossover === 0 ? 'offload pays at every measured size (crossover 0)' : `offload pays from ${formatSize(r.crossover)} (crossover)`;
  return `${r.device} (timing preset ${r.preset}), modeled time per copy on an idle device:\n${t.toString()}\n${cross}`;
}

/** A lab with one memory nullblk of the preset, for `--timing` (256 MiB: sizes up to 64 MiB fit twice). */
function presetLab(preset: string): Lab {
  resolveTiming(preset);
  const lab = new Lab();
  lab.addNullBlk({ name: 'nullb0', size: 256 << 20, lbs: 4096, backing: 'sparse', timing: preset });
  return lab;
}

export function registerHeuristic(program: Command, setExit: SetExit): void {
  allowOutsidePathsOption(program.command('heuristic [dev]'))
    .description('measure offload against emulation per copy size in modeled time; print the crossover (--apply sets copy_offload_min_bytes)')
    .option('-s, --scenario <file>', 'scenario whose devices make up the lab')
    .option('-t, --timing <preset>', `a nullblk with this timing preset (${presetNames().filter((p) => p !== TIMING_NONE).join(', ')}, or "all")`)
    .option('--apply', "write the crossover to the device's copy_offload_min_bytes")
    .option('--json', 'one JSON object per device')
    .option('--plot <file>', 'also draw time per copy vs size, offloaded and emulated, as an SVG chart')
    .action(async (dev: string | undefined, opts: { scenario?: string; timing?: string; apply?: boolean; json?: boolean; plot?: string; allowOutsidePaths?: boolean }) => {
      if (opts.timing && opts.scenario) {
        process.stderr.write('copylab: heuristic: give --scenario with a device, or --timing, not both\n');
        return setExit(EXIT_USAGE);
      }
      if (opts.plot !== undefined) checkOutput(opts.plot);
      const presets = opts.timing === 'all' ? presetNames().filter((p) => p !== TIMING_NONE) : opts.timing ? [opts.timing] : [];
      const jobs: { lab: Lab; dev: string }[] = [];
      try {
        if (presets.length) for (const p of presets) jobs.push({ lab: presetLab(p), dev: '/dev/nullb0' });
        else {
          if (!dev) {
            process.stderr.write('copylab: heuristic: name a device (with --scenario) or a preset (--timing PRESET)\n');
            return setExit(EXIT_USAGE);
          }
          jobs.push({ lab: buildLab(scenarioFrom(opts.scenario, opts)), dev });
        }
      } catch (err) {
        process.stderr.write(`copylab: heuristic: ${(err as Error).message}\n`);
        return setExit(EXIT_USAGE);
      }
      let code = EXIT_OK;
      const measured: HeuristicResult[] = [];
      for (const job of jobs) {
        try {
          const r = await measureHeuristic(job.lab, job.dev);
          measured.push(r);
          if (opts.apply && r.crossover !== null) {
            const w = job.lab.writeSysfs(`/sys/block/${r.device}/queue/copy_offload_min_bytes`, String(r.crossover));
            if (w.res < 0) code = fail(w.message ?? 'copy_offload_min_bytes', w.res);
          }
          process.stdout.write(opts.json ? `${JSON.stringify({ ...r, applied: Boolean(opts.apply && r.crossover !== null) })}\n` : `${formatHeuristic(r)}${opts.apply && r.crossover !== null ? `\n${r.device}: copy_offload_min_bytes = ${r.crossover}` : ''}\n\n`);
        } catch (err) {
          if (err instanceof ErrnoError) {
            process.stderr.write(`copylab: heuristic: ${err.message}\n`);
            code = EXIT_USAGE;
          } else throw err;
        } finally {
          await job.lab.close();
        }
      }
      if (opts.plot !== undefined && measured.length) {
        const { renderHeuristicSvg } = await import('../../plot/heuristic.js');
        writeOutput(opts.plot, await renderHeuristicSvg(measured));
      }
      setExit(code);
    });
}
