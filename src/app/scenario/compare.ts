/**
 * Runs one scenario once per copy plumbing strategy and lines up its copy steps: pieces, how
 * many were offloaded, bytes offloaded and emulated, bytes through host buffers and why the
 * rest was emulated. Copy steps that name a strategy keep it.
 */
import Table from 'cli-table3';
import { COPY_STRATEGIES, type CopyStrategy } from '../../core/block/copy/types.js';
import type { Scenario } from './parse.js';
import { runScenario } from './run.js';
import { formatSize } from '../../core/util/size.js';

export interface StrategyRow {
  readonly step: number;
  readonly target: string;
  readonly strategy: CopyStrategy;
  readonly ok: boolean;
  readonly path: string;
  readonly pieces: number;
  readonly offloaded_pieces: number;
  readonly offloaded_bytes: number;
  readonly emulated_bytes: number;
  readonly host_bytes: number;
  readonly reasons: readonly string[];
}

export interface StrategyComparison {
  readonly rows: readonly StrategyRow[];
  /** Per strategy: the verify steps that failed (data not as expected), by step number. */
  readonly verifyFailures: Readonly<Record<CopyStrategy, readonly number[]>>;
}

export async function compareStrategies(s: Scenario): Promise<StrategyComparison> {
  const rows: StrategyRow[] = [];
  const verifyFailures = { vectored: [], paired: [], token: [] } as Record<CopyStrategy, number[]>;
  for (const strategy of COPY_STRATEGIES) {
    const report = await runScenario({ ...s, lab: { ...s.lab, copyStrategy: strategy } });
    for (const r of report.steps) {
      if (r.kind === 'verify' && !r.ok) verifyFailures[strategy].push(r.step);
      if (r.kind !== 'copy') continue;
      const d = (r.details ?? {}) as { strategy?: CopyStrategy; offloaded_bytes?: number; emulated_bytes?: number; reasons?: string[] };
      rows.push({
        step: r.step,
        target: r.target,
        strategy: d.strategy ?? strategy,
        ok: r.ok,
        path: r.path ?? 'none',
        pieces: r.pieces ?? 0,
        offloaded_pieces: r.offloaded_pieces ?? 0,
        offloaded_bytes: d.offloaded_bytes ?? 0,
        emulated_bytes: d.emulated_bytes ?? 0,
        host_bytes: r.host_bytes ?? 0,
        reasons: d.reasons ?? [],
      });
    }
  }
  rows.sort((a, b) => a.step - b.step || COPY_STRATEGIES.indexOf(a.strategy) - COPY_STRATEGIES.indexOf(b.strategy));
  return { rows, verifyFailures };
}

/** The side-by-side table; reasons are shortened to their first clause. */
export function formatStrategies(cmp: StrategyComparison, opts: { color?: boolean } = {}): string {
  const rows = cmp.rows;
  const table = new Table({
    head: ['step', 'target', 'strategy', 'path', 'pieces', 'offloaded', 'emulated', 'host bytes', 'why emulated'],
    colAligns: ['right', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'left'],
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: opts.color ? ['cyan'] : [], border: opts.color ? ['grey'] : [] },
  });
  for (const r of rows) {
    table.push([
      r.step,
      r.target,
      r.strategy,
      r.ok ? r.path : `${r.path} (expect unmet)`,
      `${r.offloaded_pieces}/${r.pieces}`,
      formatSize(r.offloaded_bytes),
      formatSize(r.emulated_bytes),
      formatSize(r.host_bytes),
      r.reasons.map((x) => x.split(/[;(]/)[0]!.trim()).join('; '),
    ]);
  }
  const data = COPY_STRATEGIES.map((st) => `${st}: ${cmp.verifyFailures[st].length ? `verify FAILED at step ${cmp.verifyFailures[st].join(', ')}` : 'data verified'}`).join('; ');
  return `${table.toString()}\npieces = offloaded/total; offloaded counts every raid1 leg and raid5 parity chunk copied inside the devices.\n${data}`;
}
