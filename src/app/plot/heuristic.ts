/** The size heuristic as a chart: modeled time per copy vs copy size, offloaded and emulated, per device. */
import type { HeuristicResult } from '../heuristic/measure.js';
import { renderSvg } from './plot.js';

export function heuristicSpec(results: readonly HeuristicResult[]): Record<string, unknown> {
  const values = results.flatMap((r) =>
    r.rows.flatMap((row) => [
      ...(row.offload_us !== null ? [{ device: `${r.device} (${r.preset})`, size: row.size, path: 'offload', us: row.offload_us }] : []),
      ...(row.emulated_us !== null ? [{ device: `${r.device} (${r.preset})`, size: row.size, path: 'emulated', us: row.emulated_us }] : []),
    ]),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Offload vs emulation per copy size (modeled time)',
    data: { values },
    facet: { row: { field: 'device', type: 'nominal', title: null } },
    spec: {
      width: 420,
      height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'size', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'copy size (bytes)' },
        y: { field: 'us', type: 'quantitative', scale: { type: 'log' }, title: 'µs per copy' },
        color: { field: 'path', type: 'nominal', title: 'path', scale: { domain: ['offload', 'emulated'] } },
      },
    },
    config: { font: 'sans-serif' },
  };
}

export function renderHeuristicSvg(results: readonly HeuristicResult[]): Promise<string> {
  return renderSvg(heuristicSpec(results));
}
