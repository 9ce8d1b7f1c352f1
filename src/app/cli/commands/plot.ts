/**
 * `copylab plot RESULTS -o FILE.svg`: bench results (fio's JSON shape) or GC results (MessagePack
 * from `gc sweep --results-out` or `gc --series-out`) as an SVG chart.
 */
import type { Command } from 'commander';
import { BoundedReadError, readFileBounded } from '../../../core/util/read-bounded.js';
import { checkOutput, writeOutput } from '../../../core/util/output-file.js';
import { parsePlotInput } from '../../plot/results-file.js';
import { EXIT_OK, EXIT_USAGE, type SetExit } from '../common.js';

/** Results files are read up to this size (checked before reading). */
export const PLOT_MAX_INPUT_BYTES = 64 * 1024 * 1024;

async function plot(file: string, opts: { output: string; title?: string }): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = readFileBounded(file, PLOT_MAX_INPUT_BYTES);
  } catch (err) {
    if (!(err instanceof BoundedReadError)) throw err;
    process.stderr.write(`copylab: ${file}: ${err.message}\n`);
    return EXIT_USAGE;
  }
  const input = parsePlotInput(bytes);
  if (typeof input === 'string') {
    process.stderr.write(`copylab: ${file}: ${input}\n`);
    return EXIT_USAGE;
  }
  checkOutput(opts.output);
  // Vega is large: load it only when a chart is drawn, not on every copylab start.
  if (input.kind === 'bench') {
    const { renderResultsSvg } = await import('../../plot/plot.js');
    writeOutput(opts.output, await renderResultsSvg(input.result, opts.title));
    return EXIT_OK;
  }
  const { renderGcSvg } = await import('../../plot/gc.js');
  const svg = await renderGcSvg(input.runs, opts.title);
  if (svg === null) {
    process.stderr.write(`copylab: ${file}: nothing to plot: one run without a timing model (throughput over time needs --timing, a comparison two runs or more)\n`);
    return EXIT_USAGE;
  }
  writeOutput(opts.output, svg);
  return EXIT_OK;
}

export function registerPlot(program: Command, setExit: SetExit): void {
  program
    .command('plot <results>')
    .description('render bench results (copylab bench --output-format=json) or GC results (gc sweep --results-out, gc --series-out) as an SVG chart')
    .requiredOption('-o, --output <file>', 'the SVG file to write')
    .option('--title <text>', 'chart title')
    .action(async (file: string, opts: { output: string; title?: string }) => setExit(await plot(file, opts)));
}
