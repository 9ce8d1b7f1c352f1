/**
 * libiscsi's conformance suite (iscsi-test-cu, Debian package libiscsi-bin) against
 * `copylab serve iscsi`: the SCSI and iSCSI families, each test's own result parsed from
 * libiscsi's log (a test that skipped itself is a skip, not a pass), held against the review in
 * expectations.json (docs/iscsi-conformance.md): a mustPass test that does not pass, a test the
 * review does not list, a notApplicable test that no longer skips and a known failure that
 * changed all fail here. CI installs libiscsi-bin; without it this test fails and says so.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAMILIES, countOf, requireTool, resultsTable, runFamilies, startCopylab, type RunningTarget, type TestResult } from '../../src/harness/iscsi-test-cu.js';
import { reviewProblems, type Expectations } from '../../src/harness/iscsi-expectations.js';

const expectations = JSON.parse(readFileSync(new URL('./expectations.json', import.meta.url), 'utf8')) as Expectations;
const scsiOnly = (n: string): boolean => n.startsWith('SCSI.');

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

  it('every test does what the review says: mustPass passes, notApplicable skips, knownFailures fail, nothing unlisted', () => {
    expect(reviewProblems(results, expectations)).toEqual([]);
  });
});

/**
 * The SCSI family again, against LUNs whose medium is a lab block device (nullblk, through the
 * target's gateway array: commands become bios, copies go through the copy engine). The review
 * is the same: the medium must not change a verdict.
 */
describe('iscsi-test-cu SCSI family against nullblk-backed LUNs', () => {
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

  it('every SCSI test does what the review says', () => {
    expect(reviewProblems(results, expectations, scsiOnly)).toEqual([]);
  });
});

/**
 * A set of suites against the target of one scenario, with libiscsi's verdicts held to the
 * review (expectations.ts) as in the full run: every EXTENDED COPY and RECEIVE COPY RESULTS test
 * passes, and every test of the suites does what the review says.
 */
function suitesAgainst(title: string, scenario: string, label: string, SUITES: readonly string[]): void {
  describe(title, () => {
    let results: TestResult[] = [];

    beforeAll(async () => {
      requireTool('iscsi-test-cu');
      const target = await startCopylab({ scenario: fileURLToPath(new URL(scenario, import.meta.url)) });
      try {
        results = (await runFamilies(target.url, SUITES)).results;
      } finally {
        await target.stop();
      }
      process.stdout.write(`iscsi-test-cu (${label}): ${JSON.stringify(countOf(results, 'SCSI.'))}\n`);
    }, 300_000);

    it('every ExtendedCopy and ReceiveCopyResults test runs and passes', () => {
      const copy = results.filter((r) => /^SCSI\.(ExtendedCopy|ReceiveCopyResults)\./.test(r.name));
      expect(copy.length).toBeGreaterThanOrEqual(8);
      expect(copy.filter((r) => r.outcome !== 'passed').map((r) => `${r.name}: ${r.outcome} ${r.note}`)).toEqual([]);
    });

    it('every test of these suites does what the review says', () => {
      expect(results.length).toBeGreaterThan(10);
      expect(reviewProblems(results, expectations, (n) => SUITES.some((s) => n.startsWith(`${s}.`)))).toEqual([]);
    });
  });
}

/**
 * The copy and basic I/O suites against a timed array (test/iscsi/timed-lun.yaml): commands
 * answer at their modeled time, EXTENDED COPY runs as a copy operation on the clock; libiscsi's
 * verdicts must be the same as untimed.
 */
suitesAgainst('iscsi-test-cu copy and I/O suites against a timed SCSI array', './timed-lun.yaml', 'timed array', ['SCSI.ExtendedCopy', 'SCSI.ReceiveCopyResults', 'SCSI.Read16', 'SCSI.Write16', 'SCSI.CompareAndWrite', 'SCSI.Inquiry']);

/**
 * The copy, I/O, UNMAP/WRITE SAME and reservation suites against a timed array on the SCSI fabric's
 * worker thread (test/iscsi/worker-array.yaml): the target reaches the array through its
 * stand-in; libiscsi's verdicts must be those of inline.
 */
suitesAgainst(
  'iscsi-test-cu copy, I/O and reservation suites against a timed array on a worker thread',
  './worker-array.yaml',
  'array on a worker',
  ['SCSI.ExtendedCopy', 'SCSI.ReceiveCopyResults', 'SCSI.Read16', 'SCSI.Write16', 'SCSI.CompareAndWrite', 'SCSI.Inquiry', 'SCSI.Unmap', 'SCSI.WriteSame', 'SCSI.PrinReadKeys', 'SCSI.ProutRegister', 'SCSI.ProutReserve'],
);
