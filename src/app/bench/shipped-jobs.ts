/**
 * The job files and labs copylab ships (bench/jobs, listed in package.json's `files`): where
 * they are, so that `copylab bench bench/jobs/seq-bs.fio` typed outside a checkout (with copylab
 * installed from npm) says where the files are instead of only "cannot read".
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of the shipped job files, relative to the package's root. */
export const SHIPPED_JOBS = 'bench/jobs';
/** Folders walked up from this module to the package's root (src/app/bench or dist/src/app/bench). */
const MAX_LEVELS = 6;

/** The package's root: the nearest folder above this module with copylab's package.json. */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < MAX_LEVELS; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'copylab') return dir;
      } catch {
        // Not a package.json we can read: keep walking up.
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/** The absolute folder of the shipped job files, or undefined when they are not there. */
export function shippedJobsDir(): string | undefined {
  const root = packageRoot();
  const dir = root === undefined ? undefined : join(root, SHIPPED_JOBS);
  return dir !== undefined && existsSync(dir) ? dir : undefined;
}

/**
 * For a path that does not exist here but names a shipped file (`bench/jobs/…`), where that file
 * is; undefined otherwise.
 */
export function shippedJobHint(file: string): string | undefined {
  if (existsSync(file)) return undefined;
  const rel = normalize(file).split(sep).join('/');
  const prefix = `${SHIPPED_JOBS}/`;
  if (!rel.startsWith(prefix)) return undefined;
  const dir = shippedJobsDir();
  if (dir === undefined) return undefined;
  const shipped = join(dir, rel.slice(prefix.length));
  return existsSync(shipped) ? `${file} is not in this folder; copylab's own copy is ${shipped}` : undefined;
}
