/**
 * Running the example scenarios with a device kind inline and on a worker thread, for the tests
 * that hold both to the same report (test/devices/nvme/worker.test.ts, scsi/worker.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { runScenario } from '../src/app/scenario/run.js';
import { parseScenario } from '../src/app/scenario/parse.js';

/** An example scenario as YAML data (only what these tests look at is typed). */
export type ExampleDoc = { devices?: { kind: string; execution?: string; timing?: unknown; lus?: { timing?: unknown }[] }[] };

/** The examples/ files with a device of `kind`, parsed. */
export function examplesWith(kind: string): { file: string; doc: ExampleDoc }[] {
  return readdirSync('examples')
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ file: f, doc: parseYaml(readFileSync(`examples/${f}`, 'utf8')) as ExampleDoc }))
    .filter(({ doc }) => (doc.devices ?? []).some((d) => d.kind === kind));
}

/** Figures of the host running the lab, not of the lab: wall time, rates per wall second, the process's memory. */
const HOST_FIGURES = new Set(['wall_ms', 'wall_s', 'peak_rss_bytes', 'block_moves_per_s']);
const withoutHostFigures = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(withoutHostFigures)
  : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => !HOST_FIGURES.has(k)).map(([k, x]) => [k, withoutHostFigures(x)]))
  : v;

/** The report of `doc` with every device of `kind` set to `execution`, without the host's figures (the only things allowed to differ). */
export async function reportWith(doc: ExampleDoc, kind: string, execution: 'inline' | 'worker') {
  const copy = structuredClone(doc);
  for (const d of copy.devices ?? []) if (d.kind === kind) d.execution = execution;
  const report = await runScenario(parseScenario(copy, 'example'));
  return { ok: report.ok, steps: withoutHostFigures(report.steps) };
}
