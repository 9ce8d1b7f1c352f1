/**
 * The conformance review's machinery without iscsi-test-cu: how libiscsi's verbose output becomes
 * outcomes (a skip libiscsi logs is a skip even when CUnit counts it passed), and how a run is
 * held against test/iscsi/expectations.json.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseResults, type TestResult } from '../../src/harness/iscsi-test-cu.js';
import { expectedOutcomes, reviewProblems, type Expectations } from '../../src/harness/iscsi-expectations.js';

/** Shaped like `iscsi-test-cu -v -V`: libiscsi's log lines between CUnit's "Test:" and its verdict. */
const OUT = [
  'Suite: ModeSense6',
  '  Test: Control ...',
  '    Send MODESENSE6 (Expecting SUCCESS)',
  'passed',
  '  Test: Control-SWP ...',
  '    Read CONTROL page',
  '    SWP is not changeable',
  'passed',
  'Suite: NoMedia',
  '  Test: NoMediaSBC ...',
  '    [SKIPPED] LUN is not removable. Skipping test.',
  'passed    Send PRIN/READ_KEYS',
  'Suite: WriteSame10',
  '  Test: ZeroBlocks ...',
  '    [SKIPPED] LUN too small. Skipping assert',
  'passed',
  '  Test: UnmapUntilEnd ...',
  '    [FAILED] Blocks did not read back as zero',
  'FAILED',
  '    1. test_writesame10_unmap_until_end.c:71  - CU_FAIL("[FAILED] Blocks did not read back as zero")',
  '  Test: Check ...    [SKIPPED] LBPPB < 2. Skipping test',
  'passed',
  '',
  'Run Summary:    Type  Total    Ran Passed Failed Inactive',
].join('\n');

describe('parseResults', () => {
  it('reads skips from libiscsi\'s log, CUnit\'s verdict even when a log line follows it, and the failure note', () => {
    expect(parseResults('SCSI', OUT).map((r) => [r.name, r.outcome, r.note])).toEqual([
      ['SCSI.ModeSense6.Control', 'passed', ''],
      ['SCSI.ModeSense6.Control-SWP', 'skipped', 'SWP is not changeable'],
      ['SCSI.NoMedia.NoMediaSBC', 'skipped', '[SKIPPED] LUN is not removable. Skipping test.'],
      ['SCSI.WriteSame10.ZeroBlocks', 'passed', ''], // one assert skipped, the test ran
      ['SCSI.WriteSame10.UnmapUntilEnd', 'failed', '[FAILED] Blocks did not read back as zero'],
      ['SCSI.WriteSame10.Check', 'skipped', '[SKIPPED] LBPPB < 2. Skipping test'],
    ]);
  });
});

describe('reviewProblems', () => {
  const e: Expectations = { mustPass: ['S.a.pass'], notApplicable: { 'S.a.skip': 'no such feature' }, knownFailures: { 'S.a.fail': 'spec says otherwise' } };
  const r = (name: string, outcome: TestResult['outcome']): TestResult => ({ name, outcome, note: '' });

  it('agrees with a run where every test did what its list says', () => {
    expect(reviewProblems([r('S.a.pass', 'passed'), r('S.a.skip', 'skipped'), r('S.a.fail', 'failed')], e)).toEqual([]);
  });

  it('flags a mustPass failure, a skip that passes, a known failure that passes, an unlisted test and a listed test that did not run', () => {
    const p = reviewProblems([r('S.a.pass', 'failed'), r('S.a.skip', 'passed'), r('S.a.fail', 'passed'), r('S.a.new', 'skipped')], e);
    expect(p).toHaveLength(4);
    expect(p[0]).toMatch(/^S\.a\.pass: failed, but the review expects it passed/);
    expect(p[1]).toMatch(/^S\.a\.skip: passed, but the review expects it skipped/);
    expect(p[2]).toMatch(/^S\.a\.fail: passed, but the review expects it failed \(a known failure changed/);
    expect(p[3]).toMatch(/^S\.a\.new: skipped, and the review does not list it/);
    expect(reviewProblems([r('S.a.pass', 'passed')], e)).toEqual(['S.a.skip: did not run, the review expects it skipped', 'S.a.fail: did not run, the review expects it failed']);
    expect(reviewProblems([r('S.a.pass', 'passed')], e, (n) => n === 'S.a.pass')).toEqual([]);
  });

  it('refuses a test listed twice or a reason left empty', () => {
    expect(() => expectedOutcomes({ ...e, knownFailures: { 'S.a.pass': 'x' } })).toThrow(/listed twice/);
    expect(() => expectedOutcomes({ ...e, notApplicable: { 'S.a.x': ' ' } })).toThrow(/needs a reason/);
  });

  it('test/iscsi/expectations.json lists each test once, with a reason for every one that does not pass', () => {
    const file = JSON.parse(readFileSync(new URL('./expectations.json', import.meta.url), 'utf8')) as Expectations;
    const all = expectedOutcomes(file);
    expect(all.size).toBeGreaterThan(200);
    expect([...all.values()].filter((o) => o === 'passed').length).toBe(file.mustPass.length);
  });
});
