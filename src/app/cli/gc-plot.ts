/**
 * `copylab gc --plot` and `gc sweep --plot`: refused before a run that would have nothing to draw
 * (one run without modeled time: no series over time, nothing to compare), and the SVG written
 * after it (docs/gc.md, Output).
 */
import type { Lab } from '../lab.js';
import { timingsOf } from '../gc/lab-target.js';
import { GcOptionError, type GcOptions } from '../gc/options.js';
import type { GcResult } from '../gc/result.js';
import { renderGcSvg } from '../plot/gc.js';
import { writeOutput } from '../../core/util/output-file.js';

const NO_PLOT = 'nothing to plot: one run without a timing model (throughput and latency over the run need one; a sweep compares its runs per path, and WAF against spare factor over two or more)';

/** What a --plot would draw from: the spare factors and runs of the grid. */
export interface PlotGrid {
  readonly spareFactors: number;
  readonly runs: number;
}
export const ONE_RUN: PlotGrid = { spareFactors: 1, runs: 1 };

/**
 * Refuses (a GcOptionError, exit 2) a --plot that would draw nothing: one run on a device without
 * modeled time (runs to compare, or spare factors to draw WAF against, give a chart untimed).
 * `lab`: the scenario device's lab.
 */
export function checkPlot(o: GcOptions, grid: PlotGrid, lab?: { readonly lab: Lab; readonly dev: string }): void {
  if (grid.spareFactors >= 2 || grid.runs >= 2) return;
  if (!lab) {
    if (o.timing === 'none') throw new GcOptionError('--plot', `${NO_PLOT}: give --timing PRESET (copylab gc --timing nvmevirt-zns …)`);
    return;
  }
  const dev = lab.lab.findDevice(lab.dev);
  if (dev && timingsOf(lab.lab, dev).length === 0) throw new GcOptionError('--plot', `${NO_PLOT}: ${lab.dev} has no timing model; set timing: PRESET on it in the scenario`);
}

/** Writes the SVG chart of the results; false (and why on stderr) when they had nothing to draw after all. */
export async function writePlot(file: string, results: readonly GcResult[], cmd: string): Promise<boolean> {
  const svg = await renderGcSvg(results);
  if (svg === null) {
    process.stderr.write(`copylab ${cmd}: --plot: ${NO_PLOT}; the runs had no modeled time, ${file} not written\n`);
    return false;
  }
  writeOutput(file, svg);
  return true;
}
