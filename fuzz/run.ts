/**
 * `npm run fuzz -- [--cases N] [--seed S] [--only a,b]`: runs the fuzz targets (fuzz/targets/)
 * for N cases in all (split by weight) from seed S (default: a fresh one, printed), prints a
 * table, and for a failure the seed and the command that replays it. Exit 0 when every
 * invariant held, 1 otherwise, 2 for a bad option.
 */
import { runFuzz } from './engine.js';
import { printReport } from './report.js';
import { FUZZ_TARGETS } from './targets/index.js';

const FUZZ_LIMITS = { maxCases: 100_000_000 } as const;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function usage(msg: string): never {
  process.stderr.write(`copylab fuzz: ${msg}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const casesArg = arg('cases') ?? '20000';
  if (!/^\d{1,9}$/.test(casesArg) || Number(casesArg) < 1 || Number(casesArg) > FUZZ_LIMITS.maxCases) usage(`--cases: expected 1-${FUZZ_LIMITS.maxCases}, got ${casesArg}`);
  const seedArg = arg('seed') ?? String((Date.now() ^ (process.pid << 16)) >>> 0);
  if (!/^\d{1,10}$/.test(seedArg) || Number(seedArg) > 0xffffffff) usage(`--seed: expected 0-4294967295, got ${seedArg}`);
  const only = arg('only')?.split(',');
  const names = FUZZ_TARGETS.map((t) => t.name);
  for (const o of only ?? []) if (!names.includes(o)) usage(`--only: no target ${o} (targets: ${names.join(', ')})`);
  const seed = Number(seedArg);
  process.stdout.write(`fuzzing ${casesArg} cases, seed ${seed}\n`);
  const r = await runFuzz(FUZZ_TARGETS, { seed, cases: Number(casesArg), ...(only ? { only } : {}), ...(process.stderr.isTTY ? { progress: (l: string) => process.stderr.write(`  ${l}\r`) } : {}) });
  printReport(r, (s) => process.stdout.write(s));
  process.exitCode = r.ok ? 0 : 1;
}

await main();
