/**
 * libiscsi's conformance suite (iscsi-test-cu, Debian package libiscsi-bin) against
 * `copylab serve iscsi`: the SCSI and iSCSI families, each test's own result parsed (a
 * [SKIPPED] is not a pass), compared with expectations.json — every test listed there must
 * pass. CI installs libiscsi-bin; without it this test fails and says so. Regenerate the list
 * with `node dist/bench/iscsi-compare-tgt.js --write-expectations test/iscsi/expectations.json`.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAMILIES, countOf, requireTool, resultsTable, runFamilies, startCopylab, type RunningTarget, type TestResult } from '../peers/iscsi-test-cu.js';

interface Expectations {
  readonly mustPass: readonly string[];
}

const expectations = JSON.parse(readFileSync(new URL('./expectations.json', import.meta.url), 'utf8')) as Expectations;

describe('iscsi-test-cu against copylab serve iscsi', () => {
  let target: RunningTarget | null = null;
  let results: TestResult[] = [];

  beforeAll(async () => {
    requireTool('iscsi-test-cu');
    target = await startCopylab();
    try {
      results = (await runFamilies(target.url, FAMILIES)).results;
    } finally {
      await target.stop();
      target = null;
    }
    const file = join(tmpdir(), 'copylab-iscsi-conformance.txt');
    writeFileSync(file, resultsTable(results));
    const c = (p: string) => countOf(results, p);
    process.stdout.write(`iscsi-test-cu: SCSI ${JSON.stringify(c('SCSI.'))}, iSCSI ${JSON.stringify(c('iSCSI.'))}; table in ${file}\n`);
  }, 300_000);

  afterAll(async () => {
    await target?.stop();
  });

  it('ran both families', () => {
    expect(results.filter((r) => r.name.startsWith('SCSI.')).length).toBeGreaterThan(200);
    expect(results.filter((r) => r.name.startsWith('iSCSI.')).length).toBeGreaterThan(10);
  });

  it('every ExtendedCopy and ReceiveCopyResults test runs (no [SKIPPED]) and passes', () => {
    const copy = results.filter((r) => /^SCSI\.(ExtendedCopy|ReceiveCopyResults)\./.test(r.name));
    expect(copy.length).toBeGreaterThanOrEqual(8);
    expect(copy.filter((r) => r.outcome !== 'passed').map((r) => `${r.name}: ${r.outcome} ${r.note}`)).toEqual([]);
  });

  it('no regression: every test in expectations.json passes', () => {
    const byName = new Map(results.map((r) => [r.name, r]));
    const regressions = expectations.mustPass
      .map((n) => byName.get(n))
      .map((r, i) => (r && r.outcome === 'passed' ? null : `${expectations.mustPass[i]}: ${r ? `${r.outcome} ${r.note}` : 'did not run'}`))
      .filter((x): x is string => x !== null);
    expect(regressions).toEqual([]);
  });
});

/**
 * The SCSI family again, against LUNs whose medium is a lab block device (nullblk, through the
 * target's gateway array: commands become bios, copies go through the copy engine).
 * expectations-nullblk.json lists what must pass there.
 */
describe('iscsi-test-cu SCSI family against nullblk-backed LUNs', () => {
  const nullblkExpectations = JSON.parse(readFileSync(new URL('./expectations-nullblk.json', import.meta.url), 'utf8')) as Expectations;
  let results: TestResult[] = [];

  beforeAll(async () => {
    requireTool('iscsi-test-cu');
    const target = await startCopylab({ scenario: fileURLToPath(new URL('./nullblk-lun.yaml', import.meta.url)) });
    try {
      results = (await runFamilies(target.url, ['SCSI'])).results;
    } finally {
      await target.stop();
    }
    process.stdout.write(`iscsi-test-cu (nullblk LUN): SCSI ${JSON.stringify(countOf(results, 'SCSI.'))}\n`);
  }, 300_000);

  it('every ExtendedCopy and ReceiveCopyResults test runs and passes', () => {
    const copy = results.filter((r) => /^SCSI\.(ExtendedCopy|ReceiveCopyResults)\./.test(r.name));
    expect(copy.length).toBeGreaterThanOrEqual(8);
    expect(copy.filter((r) => r.outcome !== 'passed').map((r) => `${r.name}: ${r.outcome} ${r.note}`)).toEqual([]);
  });

  it('no regression: every test in expectations-nullblk.json passes', () => {
    const byName = new Map(results.map((r) => [r.name, r]));
    const regressions = nullblkExpectations.mustPass
      .map((n) => byName.get(n))
      .map((r, i) => (r && r.outcome === 'passed' ? null : `${nullblkExpectations.mustPass[i]}: ${r ? `${r.outcome} ${r.note}` : 'did not run'}`))
      .filter((x): x is string => x !== null);
    expect(regressions).toEqual([]);
  });
});

/**
 * The copy and basic I/O suites against a timed array (test/iscsi/timed-lun.yaml): commands
 * answer at their modeled time, EXTENDED COPY runs as a copy operation on the clock; libiscsi's
 * verdicts must be the same as untimed.
 */
describe('iscsi-test-cu copy and I/O suites against a timed SCSI array', () => {
  const SUITES = ['SCSI.ExtendedCopy', 'SCSI.ReceiveCopyResults', 'SCSI.Read16', 'SCSI.Write16', 'SCSI.CompareAndWrite', 'SCSI.Inquiry'];
  let results: TestResult[] = [];

  beforeAll(async () => {
    requireTool('iscsi-test-cu');
    const target = await startCopylab({ scenario: fileURLToPath(new URL('./timed-lun.yaml', import.meta.url)) });
    try {
      results = (await runFamilies(target.url, SUITES)).results;
    } finally {
      await target.stop();
    }
    process.stdout.write(`iscsi-test-cu (timed array): ${JSON.stringify(countOf(results, 'SCSI.'))}\n`);
  }, 300_000);

  it('every ExtendedCopy and ReceiveCopyResults test runs and passes', () => {
    const copy = results.filter((r) => /^SCSI\.(ExtendedCopy|ReceiveCopyResults)\./.test(r.name));
    expect(copy.length).toBeGreaterThanOrEqual(8);
    expect(copy.filter((r) => r.outcome !== 'passed').map((r) => `${r.name}: ${r.outcome} ${r.note}`)).toEqual([]);
  });

  it('every test of these suites that expectations.json lists passes here too', () => {
    const byName = new Map(results.map((r) => [r.name, r]));
    const listed = expectations.mustPass.filter((n) => SUITES.some((s) => n.startsWith(`${s}.`)));
    expect(listed.length).toBeGreaterThan(10);
    const regressions = listed.map((n) => byName.get(n)).map((r, i) => (r && r.outcome === 'passed' ? null : `${listed[i]}: ${r ? `${r.outcome} ${r.note}` : 'did not run'}`)).filter((x): x is string => x !== null);
    expect(regressions).toEqual([]);
  });
});
