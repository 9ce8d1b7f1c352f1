/** `copylab plot RESULTS.json -o FILE.svg`: bench results (fio's JSON shape) as an SVG chart. */
import type { Command } from 'commander';
import type { FioResult } from '../../bench/result.js';
import { readJobFile, JobFileError } from '../../bench/jobfile.js';
import { checkOutput, writeOutput } from '../../../core/util/output-file.js';
import { escapedPrefix } from '../../../core/util/escaped-prefix.js';
import { resultsShapeError } from '../../plot/results-shape.js';
import { EXIT_OK, EXIT_USAGE, type SetExit } from '../common.js';

/** Results files are read up to this size (checked before reading). */
export const PLOT_MAX_INPUT_BYTES = 64 * 1024 * 1024;

/**
 * The results in `text`, or why they are not results. A file that is not JSON is named by its
 * first bytes (escapedPrefix), never by the parser's message, which quotes as much as it likes.
 */
export function parseResults(text: string): FioResult | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `not JSON (it starts with ${escapedPrefix(text)})`;
  }
  return resultsShapeError(parsed) ?? (parsed as FioResult);
}

async function plot(file: string, opts: { output: string; title?: string }): Promise<number> {
  let result: FioResult | string;
  try {
    result = parseResults(readJobFile(file, PLOT_MAX_INPUT_BYTES));
  } catch (err) {
    if (!(err instanceof JobFileError)) throw err;
    process.stderr.write(`copylab: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (typeof result === 'string') {
    process.stderr.write(`copylab: ${file}: ${result}\n`);
    return EXIT_USAGE;
  }
  checkOutput(opts.output);
  // Vega is large: load it only when a chart is drawn, not on every copylab start.
  const { renderResultsSvg } = await import('../../plot/plot.js');
  writeOutput(opts.output, await renderResultsSvg(result, opts.title));
  return EXIT_OK;
}

export function registerPlot(program: Command, setExit: SetExit): void {
  program
    .command('plot <results>')
    .description('render bench results (copylab bench --output-format=json) as an SVG chart')
    .requiredOption('-o, --output <file>', 'the SVG file to write')
    .option('--title <text>', 'chart title')
    .action(async (file: string, opts: { output: string; title?: string }) => setExit(await plot(file, opts)));
}
