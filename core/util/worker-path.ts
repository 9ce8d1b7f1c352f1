/**
 * Worker threads need real JavaScript files: the compiled ones under dist/ (npm ci builds
 * them). This resolves a worker entry by its path from the repository root, without extension
 * (`devices/worker/device-worker`), whether the caller runs from dist/ or, in tests, from the
 * TypeScript sources.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = here.includes(`${sep}dist${sep}`) ? resolve(here, '../../..') : resolve(here, '../..');

/** A worker entry's path: folders and a file name of letters, digits, '-' and '_'; nothing that climbs out. */
const ENTRY = /^[a-z0-9_-]+(\/[a-z0-9_-]+)*$/i;

export function workerScript(entry: string): string {
  if (!ENTRY.test(entry)) throw new Error(`worker entry '${entry}' is not a path below the package root`);
  const file = join(root, 'dist', `${entry}.js`);
  if (!existsSync(file)) throw new Error(`worker script ${entry}.js is not built: run npm run build`);
  return file;
}
