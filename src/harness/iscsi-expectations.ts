/**
 * The reviewed expectations of libiscsi's conformance suite (test/iscsi/expectations.json,
 * docs/iscsi-conformance.md): every test iscsi-test-cu runs is in exactly one list, and its
 * outcome must be the one the list names.
 *
 * - mustPass: it runs and passes.
 * - notApplicable: libiscsi skips it because copylab does not have the feature it needs (a
 *   removable medium, a command set it does not model); the reason says which, and the skip
 *   must stay a skip: a test that starts to pass belongs in mustPass.
 * - knownFailures: it fails and the reason says why (a spec reference, what libiscsi expects);
 *   a known failure that starts to pass, or only skips, must be moved.
 */
import type { Outcome, TestResult } from './iscsi-test-cu.js';

export interface Expectations {
  readonly mustPass: readonly string[];
  readonly notApplicable: Readonly<Record<string, string>>;
  readonly knownFailures: Readonly<Record<string, string>>;
}

/** The outcome each list stands for. */
const LISTS: readonly { key: keyof Expectations; outcome: Outcome }[] = [
  { key: 'mustPass', outcome: 'passed' },
  { key: 'notApplicable', outcome: 'skipped' },
  { key: 'knownFailures', outcome: 'failed' },
];

function names(e: Expectations, key: keyof Expectations): readonly string[] {
  const v = e[key];
  return Array.isArray(v) ? (v as readonly string[]) : Object.keys(v);
}

/** What each listed test is expected to do; throws when a test is listed twice or a reason is empty. */
export function expectedOutcomes(e: Expectations): Map<string, Outcome> {
  const out = new Map<string, Outcome>();
  for (const { key, outcome } of LISTS) {
    for (const n of names(e, key)) {
      if (out.has(n)) throw new Error(`${n} is listed twice in the expectations`);
      if (key !== 'mustPass' && !(e[key] as Record<string, string>)[n]?.trim()) throw new Error(`${n}: ${key} needs a reason`);
      out.set(n, outcome);
    }
  }
  return out;
}

/**
 * Every way a run disagrees with the review, one line each (empty: they agree). `scope` limits
 * the review to the tests a run covers (a family, some suites); a listed test in scope that did
 * not run is a disagreement too.
 */
export function reviewProblems(results: readonly TestResult[], e: Expectations, scope: (name: string) => boolean = () => true): string[] {
  const expected = expectedOutcomes(e);
  const problems: string[] = [];
  const ran = new Set<string>();
  for (const r of results) {
    if (!scope(r.name)) continue;
    ran.add(r.name);
    const want = expected.get(r.name);
    const got = `${r.outcome}${r.note ? ` (${r.note})` : ''}`;
    if (want === undefined) problems.push(`${r.name}: ${got}, and the review does not list it (add it to mustPass, notApplicable or knownFailures with a reason)`);
    else if (want !== r.outcome) problems.push(`${r.name}: ${got}, but the review expects it ${want}${want === 'failed' ? ' (a known failure changed: update knownFailures)' : ''}`);
  }
  for (const [n, want] of expected) if (scope(n) && !ran.has(n)) problems.push(`${n}: did not run, the review expects it ${want}`);
  return problems;
}
