/** `copylab plot RESULTS.json -o FILE.svg`: bench results (fio's JSON shape) as an SVG chart. */
import type { Command } from 'commander';
import type { FioResult } from '../../bench/result.js';
import { readJobFile, JobFileError } from '../../bench/jobfile.js';
import { checkOutput, writeOutput } from '../../../core/util/output-file.js';
import { EXIT_OK, EXIT_USAGE, type SetExit } from '../common.js';

/** Results files are read up to this size (checked before reading). */
export const PLOT_MAX_INPUT_BYTES = 64 * 1024 * 1024;

async function plot(file: string, opts: { output: string; title?: string }): Promise<number> {
  let result: FioResult;
  try {
    const parsed = JSON.parse(readJobFile(file, PLOT_MAX_INPUT_BYTES)) as Partial<FioResult>;
    if (!Array.isArray(parsed.jobs) || parsed.jobs.some((j) => typeof j !== 'object' || !j || !('read' in j) || !('copylab' in j))) {
      throw new Error('not copylab bench results (jobs[] with read/write/trim/copy and copylab objects)');
    }
    result = parsed as FioResult;
  } catch (err) {
    process.stderr.write(`copylab: ${err instanceof JobFileError ? err.message : `${file}: ${(err as Error).message}`}\n`);
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
