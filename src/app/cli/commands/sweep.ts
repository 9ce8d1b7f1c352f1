/**
 * `copylab sweep status|results|cancel ID --queue URL`: a sweep submitted with
 * `copylab gc sweep --queue URL --detach` (docs/sweeps.md). The queue code loads only when one
 * of these runs.
 */
import type { Command } from 'commander';
import { pack } from 'msgpackr';
import { checkOutput, writeOutput } from '../../../core/util/output-file.js';
import { printSweep } from '../sweep-table.js';
import { EXIT_OK, type SetExit } from '../common.js';

interface SweepIdOptions {
  queue: string;
  json?: boolean;
  resultsOut?: string;
}

async function status(id: string, c: SweepIdOptions): Promise<number> {
  const { withQueue } = await import('../queued-sweep.js');
  const { loadRecord, sweepKey } = await import('../../sweep/record.js');
  const { outcome, BENCH_RESULTS, GC_RESULTS } = await import('../../sweep/outcome.js');
  return withQueue('sweep status', c.queue, async (redis, queue) => {
    const rec = await loadRecord(redis, id);
    const o = rec.kind === 'bench' ? await outcome(queue, rec, BENCH_RESULTS) : await outcome(queue, rec, GC_RESULTS);
    const ttl = await redis.ttl(sweepKey(id));
    const s = { id, points: o.total, ...o.counts, cancelled: rec.cancelled === true, created: new Date(rec.created_ms).toISOString(), expires_in_s: ttl, failures: o.failures };
    if (c.json) process.stdout.write(JSON.stringify(s) + '\n');
    else {
      process.stdout.write(`sweep ${id}${s.cancelled ? ' (cancelled)' : ''}: ${o.total} points: ${o.counts.done} done, ${o.counts.failed + o.counts.gone} failed, ${o.counts.running} running, ${o.counts.queued} queued; submitted ${s.created}, kept ${Math.round(ttl / 3600)} h more\n`);
      for (const f of o.failures) process.stdout.write(`  ${f.label} (${f.id}): ${f.kind === 'usage' ? 'refused' : 'failed'}: ${f.reason}\n`);
    }
    return EXIT_OK;
  });
}

async function results(id: string, c: SweepIdOptions): Promise<number> {
  if (c.resultsOut !== undefined) checkOutput(c.resultsOut);
  const { withQueue, report } = await import('../queued-sweep.js');
  const { loadRecord, SweepRecordError } = await import('../../sweep/record.js');
  const { outcome } = await import('../../sweep/outcome.js');
  return withQueue('sweep results', c.queue, async (redis, queue) => {
    const rec = await loadRecord(redis, id);
    if (rec.kind === 'bench') throw new SweepRecordError(`sweep ${id} is a bench sweep: run the same copylab bench … --queue command again to print it (its finished tasks are reused)`);
    const o = await outcome(queue, rec);
    return report('sweep results', id, o, async (points) => {
      printSweep(points, c.json === true);
      if (c.resultsOut !== undefined) writeOutput(c.resultsOut, pack({ sweep: id, results: points }));
      return true;
    });
  });
}

async function cancel(id: string, c: SweepIdOptions): Promise<number> {
  const { withQueue } = await import('../queued-sweep.js');
  const { loadRecord, markCancelled } = await import('../../sweep/record.js');
  const { cancelPoints } = await import('../../sweep/outcome.js');
  return withQueue('sweep cancel', c.queue, async (redis, queue) => {
    const rec = await loadRecord(redis, id);
    await markCancelled(redis, rec);
    const r = await cancelPoints(queue, rec);
    process.stdout.write(`sweep ${id} cancelled: ${r.removed} queued points removed, ${r.running} running (they finish), ${r.finished} finished before\n`);
    return EXIT_OK;
  });
}

const QUEUE_HELP = 'the queue the sweep was submitted to: redis://[user:password@]HOST:PORT[/db] or rediss://';

export function registerSweep(program: Command, setExit: SetExit): void {
  const sweep = program.command('sweep').description('a GC sweep or bench submitted to a queue (copylab gc sweep or copylab bench with --queue URL --detach): its status, results (GC sweeps), or cancelling it (docs/sweeps.md)');
  sweep
    .command('status <id>')
    .description("how many of the sweep's points are done, failed, running and queued, and why the failed ones failed")
    .requiredOption('--queue <url>', QUEUE_HELP)
    .option('--json', 'print one JSON object')
    .action(async (id: string, c: SweepIdOptions) => setExit(await status(id, c)));
  sweep
    .command('results <id>')
    .description('print the table (or --json lines) of the finished points, as copylab gc sweep does; exit 2 if a point was refused, 1 if one failed or is not finished')
    .requiredOption('--queue <url>', QUEUE_HELP)
    .option('--json', 'print one JSON object per point')
    .option('--results-out <file>', 'write the results with their time series to FILE (one MessagePack object, msgpackr)')
    .action(async (id: string, c: SweepIdOptions) => setExit(await results(id, c)));
  sweep
    .command('cancel <id>')
    .description("remove the sweep's queued points from the queue; running points finish")
    .requiredOption('--queue <url>', QUEUE_HELP)
    .action(async (id: string, c: SweepIdOptions) => setExit(await cancel(id, c)));
}
