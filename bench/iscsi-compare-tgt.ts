/**
 * Runs libiscsi's conformance suite (SCSI and iSCSI families) against `copylab serve iscsi` and
 * Debian's tgtd (another loopback port, a file-backed LUN) and prints both side by side: counts
 * per family, the copy rows, and every test whose outcome differs.
 *
 *   npm run build && node dist/bench/iscsi-compare-tgt.js [--expectations FILE] [--table FILE]
 *
 * --expectations holds copylab's run against a reviewed expectations file (the conformance
 * test's, test/iscsi/expectations.json) and prints every disagreement: the review is edited by
 * hand, with a reason for each test that does not pass, never generated from a run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { FAMILIES, countOf, runFamilies, startCopylab, startTgtd, type RunningTarget, type TestResult } from '../src/harness/iscsi-test-cu.js';
import { reviewProblems, type Expectations } from '../src/harness/iscsi-expectations.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function runOn(start: () => Promise<RunningTarget>): Promise<TestResult[]> {
  const t = await start();
  try {
    return (await runFamilies(t.url, FAMILIES)).results;
  } finally {
    await t.stop();
  }
}

async function main(): Promise<void> {
  const copylab = await runOn(() => startCopylab());
  const tgt = await runOn(() => startTgtd());
  const tgtBy = new Map(tgt.map((r) => [r.name, r]));
  const line = (a: string, b: string, c: string) => `${a.padEnd(44)} ${b.padEnd(26)} ${c}`;
  const fmt = (c: { passed: number; failed: number; skipped: number }) => `${c.passed} passed ${c.failed} failed ${c.skipped} skipped`;
  const out: string[] = [line('family', 'copylab', 'tgtd')];
  for (const f of FAMILIES) out.push(line(f, fmt(countOf(copylab, `${f}.`)), fmt(countOf(tgt, `${f}.`))));
  out.push('', line('test', 'copylab', 'tgtd'));
  for (const r of copylab.filter((x) => /^SCSI\.(ExtendedCopy|ReceiveCopyResults)\./.test(x.name))) out.push(line(r.name, r.outcome, tgtBy.get(r.name)?.outcome ?? '-'));
  out.push('', 'tests whose outcome differs:');
  for (const r of copylab) {
    const t = tgtBy.get(r.name);
    if (t && t.outcome !== r.outcome && !/^SCSI\.(ExtendedCopy|ReceiveCopyResults)\./.test(r.name)) out.push(line(r.name, r.outcome, t.outcome));
  }
  const worse = copylab.filter((r) => r.outcome === 'failed' && tgtBy.get(r.name)?.outcome === 'passed').map((r) => r.name);
  out.push('', `copylab fails where tgtd passes: ${worse.length ? worse.join(', ') : 'none'}`);
  const scsiC = countOf(copylab, 'SCSI.').passed;
  const scsiT = countOf(tgt, 'SCSI.').passed;
  out.push(`SCSI family passed: copylab ${scsiC}, tgtd ${scsiT} (ratio ${(scsiC / Math.max(1, scsiT)).toFixed(2)})`);
  process.stdout.write(`${out.join('\n')}\n`);
  const table = arg('--table');
  if (table) writeFileSync(table, `${out.join('\n')}\n`);
  const exp = arg('--expectations');
  if (exp) {
    const problems = reviewProblems(copylab, JSON.parse(readFileSync(exp, 'utf8')) as Expectations);
    process.stdout.write(`\ncopylab against ${exp}: ${problems.length ? `\n${problems.join('\n')}` : 'agrees'}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`iscsi-compare-tgt: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
