/**
 * Worker threads need real JavaScript files: the compiled ones under dist/ (npm ci builds
 * them). This resolves a worker entry by name whether the caller runs from dist/ or, in tests,
 * from the TypeScript sources.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = here.includes(`${sep}dist${sep}`) ? resolve(here, '../../..') : resolve(here, '../..');

export function workerScript(name: string): string {
  const file = join(root, 'dist', 'workers', `${name}.js`);
  if (!existsSync(file)) throw new Error(`worker script ${name}.js is not built: run npm run build`);
  return file;
}
