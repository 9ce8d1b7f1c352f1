/**
 * `copylab worker --queue URL`: a long-running process that runs the GC points of queued sweeps
 * on this machine's thread pool (docs/sweeps.md). SIGTERM or SIGINT stops it after its running
 * points finish; a second signal leaves them to other workers.
 */
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { WorkPool } from '../../../core/util/pool.js';
import { parseSize } from '../../../core/util/size.js';
import { GC_LIMITS } from '../../gc/constants.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type SetExit } from '../common.js';

interface WorkerCliOptions {
  queue: string;
  concurrency?: string;
  name?: string;
  lockDuration?: string;
  maxSize?: string;
}

/** Default largest device a worker runs (a queued 16 TiB point needs about 50 GiB of memory). */
const DEFAULT_MAX_SIZE = 1024 ** 4;

async function workerCommand(c: WorkerCliOptions): Promise<number> {
  const { WORKER_LIMITS, startWorker } = await import('../../sweep/worker.js');
  const { parseQueueUrl, QueueUrlError } = await import('../../sweep/queue-url.js');
  const { connect, QueueUnreachableError } = await import('../../sweep/queue.js');
  const usage = (m: string): number => {
    process.stderr.write(`copylab worker: ${m}\n`);
    return EXIT_USAGE;
  };
  const int = (v: string | undefined, dflt: number, min: number, max: number): number => (v === undefined ? dflt : /^\d{1,9}$/.test(v) && +v >= min && +v <= max ? +v : NaN);
  const concurrency = int(c.concurrency, new WorkPool().threads, 1, WORKER_LIMITS.maxConcurrency);
  if (Number.isNaN(concurrency)) return usage(`--concurrency: expected 1..${WORKER_LIMITS.maxConcurrency}, got "${c.concurrency}"`);
  const lockMs = int(c.lockDuration, WORKER_LIMITS.lockDefaultMs, WORKER_LIMITS.lockMinMs, WORKER_LIMITS.lockMaxMs);
  if (Number.isNaN(lockMs)) return usage(`--lock-duration: expected ${WORKER_LIMITS.lockMinMs}..${WORKER_LIMITS.lockMaxMs} ms, got "${c.lockDuration}"`);
  const name = c.name ?? `${hostname()}-${process.pid}`.slice(0, WORKER_LIMITS.maxNameChars);
  if (!new RegExp(`^[A-Za-z0-9._-]{1,${WORKER_LIMITS.maxNameChars}}$`).test(name)) return usage(`--name: expected 1..${WORKER_LIMITS.maxNameChars} letters, digits, '.', '_' or '-'`);
  const maxSize = c.maxSize === undefined ? DEFAULT_MAX_SIZE : parseSize(c.maxSize);
  if (maxSize === undefined || !(maxSize > 0 && maxSize <= GC_LIMITS.maxBytes)) return usage(`--max-size: expected a size up to 16TiB, got "${c.maxSize}"`);
  const log = (line: string): void => void process.stderr.write(`copylab worker ${name}: ${line}\n`);
  let target;
  try {
    target = parseQueueUrl(c.queue);
    (await connect(target)).disconnect();
  } catch (err) {
    if (err instanceof QueueUrlError) return usage(err.message);
    if (err instanceof QueueUnreachableError) {
      process.stderr.write(`copylab worker: ${err.message}\n`);
      return EXIT_FAILED;
    }
    throw err;
  }
  const w = await startWorker(target, { concurrency, name, lockMs, maxSize, log });
  log(`taking GC points and bench tasks from ${target.display}, ${concurrency} at a time`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string): void => {
      if (stopping) {
        log(`${sig} again: leaving the running points to other workers`);
        void w.close(true).then(resolve, resolve);
        return;
      }
      stopping = true;
      log(`${sig}: finishing the running points, taking no more`);
      void w.close().then(resolve, resolve);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  log('stopped');
  return EXIT_OK;
}

export function registerWorker(program: Command, setExit: SetExit): void {
  program
    .command('worker')
    .description('run the GC points and bench tasks queued with copylab gc sweep --queue and copylab bench --queue, on this machine\'s thread pool, until SIGTERM or SIGINT (docs/sweeps.md)')
    .requiredOption('--queue <url>', 'the queue: redis://[user:password@]HOST:PORT[/db], rediss:// for TLS')
    .option('--concurrency <n>', 'points run at once (default: the thread pool\'s size)')
    .option('--name <name>', 'this worker\'s name in logs and on the jobs it runs (default: HOST-PID)')
    .option('--lock-duration <ms>', 'how long a running point stays locked to this worker without renewal; a worker that dies loses its points to others after about this long', '30000')
    .option('--max-size <bytes>', 'largest device size this worker runs', '1TiB')
    .action(async (c: WorkerCliOptions) => setExit(await workerCommand(c)));
}
