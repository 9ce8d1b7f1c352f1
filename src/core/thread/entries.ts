/**
 * Every worker-thread entry point of copylab, by name: each is a thin file in workers/ (it parses
 * its workerData and calls into src/ or devices/). Code names an entry only through this list, so
 * nothing imports workers/ and a renamed entry is a compile error; test/architecture checks each
 * name resolves to a file.
 *
 * Worker threads need JavaScript: the compiled entries under dist/workers/ (npm ci builds them).
 * A compiled tree older than its TypeScript sources is refused with a message that says to build,
 * so a test run never uses stale worker code without saying so (vitest's global setup builds a
 * stale tree before any test starts).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WORKER_ENTRIES = {
  /** A null_blk queue on its own thread (devices/worker/). */
  'nullblk-queue': 'a nullblk device queue',
  /** One NVMe subsystem's namespaces and worker controllers (devices/nvme/). */
  'nvme-subsystem': 'an NVMe subsystem',
  /** One SCSI fabric's arrays and copy manager (devices/scsi/). */
  'scsi-fabric': 'a SCSI fabric',
  /** The GC lab's mover: runs victim jobs beside the main thread (src/app/gc/mover.ts). */
  'gc-mover': 'the GC mover',
  /** A piscina task: one GC run of a sweep's grid. */
  'gc-sweep.task': 'a GC sweep point',
  /** A piscina task: one job file on one scenario, queued by copylab bench --queue. */
  'bench.task': 'a queued bench task',
  /** A piscina task: one chunk of a large read compared with its pattern. */
  'verify.task': 'a verify chunk',
  /** An application thread of an SQPOLL ring (tests and benchmarks). */
  'ring-app': 'an SQPOLL ring application',
} as const;

export type WorkerEntry = keyof typeof WORKER_ENTRIES;

const here = dirname(fileURLToPath(import.meta.url));
/** The package root: this file is src/core/thread/ in the sources and dist/src/core/thread/ built. */
export const PACKAGE_ROOT = here.includes(`${sep}dist${sep}`) ? resolve(here, '../../../..') : resolve(here, '../../..');

/** The folders whose TypeScript compiles into what a worker runs. */
const SOURCE_DIRS = ['src', 'devices', 'workers'] as const;
/** Most source files the staleness check visits (a limit on everything). */
const MAX_SOURCE_FILES = 10_000;

/**
 * The first source whose compiled file is missing or older than it, or null when the build is
 * current. Without sources beside dist/ (an installed package) there is nothing to compare.
 */
export function staleBuild(root = PACKAGE_ROOT): string | null {
  let seen = 0;
  const walk = (rel: string): string | null => {
    const abs = join(root, rel);
    if (!existsSync(abs)) return null;
    for (const ent of readdirSync(abs, { withFileTypes: true })) {
      const child = `${rel}/${ent.name}`;
      if (ent.isDirectory()) {
        const s = walk(child);
        if (s) return s;
        continue;
      }
      if (!ent.name.endsWith('.ts') || ent.name.endsWith('.d.ts')) continue;
      if (++seen > MAX_SOURCE_FILES) return null;
      const built = join(root, 'dist', child.replace(/\.ts$/, '.js'));
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(root, child)).mtimeMs) return child;
    }
    return null;
  };
  for (const d of SOURCE_DIRS) {
    const s = walk(d);
    if (s) return s;
  }
  return null;
}

let checked = false;

/** The compiled file of a worker entry; throws when it is not built or older than the sources. */
export function workerScript(entry: WorkerEntry): string {
  if (!Object.hasOwn(WORKER_ENTRIES, entry)) throw new Error(`'${entry}' is not a worker entry`);
  const file = join(PACKAGE_ROOT, 'dist', 'workers', `${entry}.js`);
  if (!existsSync(file)) throw new Error(`worker script workers/${entry}.js is not built: run npm run build`);
  if (!checked) {
    const stale = staleBuild();
    if (stale) throw new Error(`the compiled tree is older than ${stale}: run npm run build (workers run dist/)`);
    checked = true;
  }
  return file;
}
