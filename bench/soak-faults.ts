/**
 * `npm run soak:faults -- [--rounds N] [--seed S] [--only dm-suspend,raid-degraded,worker-kill,iscsi-drop]`:
 * the fault campaigns of src/harness/faults/ run long (the test suite runs 20 rounds of each).
 * --rounds sets the rounds of every campaign chosen (dm-suspend: per stack; raid-degraded: per
 * array kind; worker-kill and iscsi-drop: in all); without it each runs its soak default. Prints
 * one row per campaign (rounds, operations, blocks checked, seconds, failures) and its counts,
 * then every failure with its round seed. Exit 0 when every check held, 1 otherwise, 2 for a bad
 * option.
 */
import { dmSuspendCampaign } from '../src/harness/faults/dm-suspend-campaign.js';
import { raidDegradedCampaign } from '../src/harness/faults/raid-degraded-campaign.js';
import { workerKillCampaign } from '../src/harness/faults/worker-kill-campaign.js';
import { iscsiDropCampaign } from '../src/harness/faults/iscsi-drop-campaign.js';
import type { CampaignReport } from '../src/harness/faults/report.js';
import { table } from './common.js';

/** Each campaign with its soak default rounds and its longer settings. */
const CAMPAIGNS: Record<string, { rounds: number; run: (seed: number, rounds: number) => Promise<CampaignReport> }> = {
  'dm-suspend': { rounds: 200, run: (seed, rounds) => dmSuspendCampaign({ seed, rounds, opsPerRound: 10, cyclesPerRound: 3 }) },
  'raid-degraded': { rounds: 200, run: (seed, rounds) => raidDegradedCampaign({ seed, rounds, arrayBytes: 4 * 1024 * 1024 }) },
  'worker-kill': { rounds: 150, run: (seed, rounds) => workerKillCampaign({ seed, rounds }) },
  'iscsi-drop': { rounds: 200, run: (seed, rounds) => iscsiDropCampaign({ seed, rounds }) },
};

function usage(message: string): never {
  process.stderr.write(`soak faults: ${message}\n`);
  process.exit(2);
}

function opt(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined) usage(`--${name}: expected a value`);
  return v;
}

function count(name: string, lo: number, hi: number): number | undefined {
  const v = opt(name);
  if (v === undefined) return undefined;
  if (!/^\d{1,10}$/.test(v) || Number(v) < lo || Number(v) > hi) usage(`--${name}: expected ${lo}-${hi}, got ${v}`);
  return Number(v);
}

for (const a of process.argv.slice(2)) {
  if (a.startsWith('--') && !['--rounds', '--seed', '--only'].includes(a)) usage(`unknown option ${a} (--rounds N, --seed S, --only ${Object.keys(CAMPAIGNS).join(',')})`);
}
const rounds = count('rounds', 1, 100_000);
const seed = count('seed', 0, 0xffffffff) ?? 24;
const only = (opt('only') ?? Object.keys(CAMPAIGNS).join(',')).split(',');
for (const name of only) if (!Object.hasOwn(CAMPAIGNS, name)) usage(`--only: unknown campaign ${name} (${Object.keys(CAMPAIGNS).join(', ')})`);

// A killed device worker is reported as a process warning each time: counted here, not printed.
let deviceWarnings = 0;
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.message.startsWith('copylab: device ')) deviceWarnings++;
  else process.stderr.write(`${w.name}: ${w.message}\n`);
});

process.stdout.write(`soak faults: seed ${seed}, ${only.join(', ')}\n`);
const reports: CampaignReport[] = [];
for (const name of only) {
  const c = CAMPAIGNS[name]!;
  const n = rounds ?? c.rounds;
  process.stderr.write(`  ${name}: ${n} rounds…\n`);
  reports.push(await c.run(seed, n));
}
const t = table(['campaign', 'rounds', 'ops', 'blocks checked', 'seconds', 'failures'], ['left', 'right', 'right', 'right', 'right', 'right']);
for (const r of reports) t.push([r.campaign, r.rounds, r.ops, r.blocksChecked, (r.wallMs / 1000).toFixed(1), r.failures.length]);
process.stdout.write(`${t.toString()}\n`);
for (const r of reports) {
  const counts = Object.entries(r.counts).sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => `${k} ${v}`);
  process.stdout.write(`${r.campaign}: ${counts.join('; ')}\n`);
}
if (deviceWarnings) process.stdout.write(`device failures reported by the lab (killed workers): ${deviceWarnings}\n`);
const failures = reports.flatMap((r) => r.failures);
for (const f of failures) process.stdout.write(`FAILED ${f}\n`);
process.stdout.write(failures.length ? `${failures.length} failure(s); replay one with --seed ${seed} --only CAMPAIGN\n` : 'every check held\n');
process.exitCode = failures.length ? 1 : 0;
