/**
 * Runs libiscsi's conformance suite (iscsi-test-cu, Debian package libiscsi-bin) and records
 * each test's own result. CUnit's summary counts a test that skipped itself as passed: libiscsi
 * skips with CU_PASS("[SKIPPED] ..."), which CUnit never prints, so the run asks for libiscsi's
 * own log (`-V`), where every skip names itself. A test is `failed` when CUnit says FAILED,
 * `skipped` when its log has a [SKIPPED] line or one of the few skips libiscsi logs without
 * that tag (SILENT_SKIPS), `passed` otherwise. Also starts the two targets it compares:
 * copylab's (`copylab serve iscsi`) and Debian's tgtd (configured with tgtadm, backed by a
 * file). Used by the conformance test, the tgt comparison and the iscsi-perf bench; every
 * process it starts is stopped by the returned `stop`. It lives in src/harness/, which tests and
 * benchmarks both import (neither imports the other).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../core/thread/entries.js';

export type Outcome = 'passed' | 'failed' | 'skipped';

export interface TestResult {
  /** FAMILY.Suite.Test */
  readonly name: string;
  readonly outcome: Outcome;
  /** First [FAILED] message of a failed test, the skip message of a skipped one. */
  readonly note: string;
}

/**
 * Skips libiscsi 1.19 logs without a [SKIPPED] tag: the test returns early through CU_PASS and
 * CUnit reports it passed. Each names the test-tool source that prints it.
 */
export const SILENT_SKIPS: readonly RegExp[] = [
  /** set_swp() in iscsi-support.c: the CONTROL mode page's SWP bit is not changeable. */
  /SWP is not changeable/,
  /** test_writesame{10,16}_unmap_until_end.c: WSNZ is set, the 0-block form is not tried. */
  /does not support 0-blocks\.WSNZ == 1/,
];

/**
 * A [SKIPPED] line that skips one assert, not the test (CHECK_SIZE in iscsi-support.h: the LU
 * is smaller than the assert's LBA range); the rest of the test runs and decides.
 */
const ASSERT_SKIP = /\[SKIPPED\] LUN too small\. Skipping assert/;

/** The families the conformance run covers (the issue: SCSI and iSCSI). */
export const FAMILIES = ['SCSI', 'iSCSI'] as const;

const INSTALL_HINT = 'apt-get install -y --no-install-recommends libiscsi-bin';

/** Fails clearly when a tool is missing. */
export function requireTool(tool: string, hint = INSTALL_HINT): void {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${tool} is not installed (${hint})`);
}

/** Parses `iscsi-test-cu -v -V` output of one family into per-test results. */
export function parseResults(family: string, out: string): TestResult[] {
  const results: TestResult[] = [];
  let suite = '';
  let current: { name: string; text: string[] } | null = null;
  const finish = (): void => {
    if (!current) return;
    const text = current.text.join('\n');
    // CUnit's verdict ends its line, or is followed by libiscsi's log of the next suite's set-up.
    const failed = /(^|\.\.\.)FAILED(\s|$)/m.test(text);
    const lines = text.split('\n');
    const skip = lines.find((l) => l.includes('[SKIPPED]') && !ASSERT_SKIP.test(l)) ?? lines.find((l) => SILENT_SKIPS.some((re) => re.test(l)));
    const passed = /(^|\.\.\.)passed(\s|$)/m.test(text);
    const outcome: Outcome = failed ? 'failed' : skip !== undefined ? 'skipped' : passed ? 'passed' : 'failed';
    const note = outcome === 'failed' ? (/\[FAILED\][^\n]*/.exec(text)?.[0] ?? /^\s+\d+\. [^\n]*/m.exec(text)?.[0] ?? '') : (skip ?? '');
    results.push({ name: current.name, outcome, note: note.replace(/^\.\.\./, '').trim().slice(0, 160) });
    current = null;
  };
  for (const line of out.split('\n')) {
    const s = /^Suite: (\S+)/.exec(line);
    if (s) {
      finish();
      suite = s[1]!;
      continue;
    }
    const t = /^ {2}Test: (\S+) \.\.\.(.*)$/.exec(line);
    if (t) {
      finish();
      current = { name: `${family}.${suite}.${t[1]}`, text: [`...${t[2]}`] };
      continue;
    }
    if (/^Run Summary/.test(line)) {
      finish();
      continue;
    }
    current?.text.push(line);
  }
  finish();
  return results;
}

export interface SuiteRun {
  readonly results: TestResult[];
  readonly seconds: number;
}

export interface SuiteOptions {
  /** How many paths (sessions) to the same LU iscsi-test-cu opens: the MultipathIO suite needs 2. */
  readonly paths?: number;
  readonly timeoutMs?: number;
}

/**
 * Runs one family (or FAMILY.Suite) against a URL; never throws for test failures. `-d` and
 * `-S` allow the destructive and SANITIZE tests (the LU is the lab's own), `-V` prints
 * libiscsi's log, from which skips are read.
 */
export function runSuite(url: string, family: string, options: SuiteOptions = {}): Promise<SuiteRun> {
  requireTool('iscsi-test-cu');
  const t0 = Date.now();
  const urls = Array.from({ length: options.paths ?? 1 }, () => url);
  return new Promise((resolvePromise, reject) => {
    const p = spawn('iscsi-test-cu', ['-d', '-S', '-v', '-V', '-t', family, ...urls], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => chunks.push(d));
    p.stderr.on('data', (d: Buffer) => chunks.push(d));
    const timer = setTimeout(() => p.kill('SIGKILL'), options.timeoutMs ?? 240_000);
    p.on('error', reject);
    p.on('close', () => {
      clearTimeout(timer);
      const fam = family.split('.')[0]!;
      resolvePromise({ results: parseResults(fam, Buffer.concat(chunks).toString('utf8')), seconds: (Date.now() - t0) / 1000 });
    });
  });
}

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

export function countOf(results: readonly TestResult[], prefix = ''): Counts {
  const c: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const r of results) if (r.name.startsWith(prefix)) c[r.outcome]++;
  return c;
}

export interface RunningTarget {
  /** iscsi://127.0.0.1:PORT/IQN/LUN of the disk to test. */
  readonly url: string;
  readonly portal: string;
  readonly iqn: string;
  readonly lun: number;
  /** The target's process id (its CPU time is read from /proc by the benchmark). */
  readonly pid: number;
  stop(): Promise<void>;
}

function waitExit(p: ChildProcess, ms: number): Promise<void> {
  return new Promise((res) => {
    if (p.exitCode !== null || p.signalCode !== null) return res();
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      res();
    }, ms);
    p.once('exit', () => {
      clearTimeout(t);
      res();
    });
  });
}


/** Starts `copylab serve iscsi` on a free loopback port (the built CLI: run `npm run build` first). */
export async function startCopylab(options: { scenario?: string; extraArgs?: readonly string[] } = {}): Promise<RunningTarget> {
  const root = PACKAGE_ROOT;
  const args = [join(root, 'bin/copylab.js'), 'serve', 'iscsi', '--portal', '127.0.0.1:0', ...(options.scenario ? ['--scenario', options.scenario] : []), ...(options.extraArgs ?? [])];
  const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err = (err + d.toString('utf8')).slice(-4000)));
  const port = await new Promise<number>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`copylab serve iscsi did not start: ${err}`)), 20_000);
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    p.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`copylab serve iscsi exited with ${code}: ${err}`));
    });
  });
  const iqn = 'iqn.2024-01.org.copylab:lab';
  return {
    url: `iscsi://127.0.0.1:${port}/${iqn}/0`, portal: `127.0.0.1:${port}`, iqn, lun: 0, pid: p.pid ?? 0,
    async stop() {
      p.kill('SIGTERM');
      await waitExit(p, 5000);
    },
  };
}

/**
 * Starts Debian's tgtd in the foreground on a free loopback port and its own control port, with
 * one target whose LUN 1 is a sparse file of `sizeMiB` (tgt's LUN 0 is its controller).
 */
export async function startTgtd(sizeMiB = 64): Promise<RunningTarget> {
  requireTool('tgtd', 'apt-get install -y --no-install-recommends tgt');
  const port = await freePort();
  const control = 1000 + (port % 8000);
  const dir = mkdtempSync(join(tmpdir(), 'copylab-tgt-'));
  const img = join(dir, 'lun1.img');
  writeFileSync(img, '');
  spawnSync('truncate', ['-s', `${sizeMiB}M`, img]);
  const p = spawn('tgtd', ['-f', '-C', String(control), '--iscsi', `portal=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'ignore'] });
  const iqn = 'iqn.2024-01.org.copylab:tgt';
  const adm = (...a: string[]): boolean => spawnSync('tgtadm', ['-C', String(control), '--lld', 'iscsi', ...a], { encoding: 'utf8' }).status === 0;
  let ok = false;
  for (let i = 0; i < 50 && !ok; i++) {
    await new Promise((r) => setTimeout(r, 100));
    ok = adm('--op', 'new', '--mode', 'target', '--tid', '1', '-T', iqn);
  }
  const stop = async (): Promise<void> => {
    p.kill('SIGTERM');
    await waitExit(p, 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  if (!ok || !adm('--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', '1', '-b', img) || !adm('--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL')) {
    await stop();
    throw new Error('tgtd did not take its configuration (tgtadm failed)');
  }
  return { url: `iscsi://127.0.0.1:${port}/${iqn}/1`, portal: `127.0.0.1:${port}`, iqn, lun: 1, pid: p.pid ?? 0, stop };
}

/** The suite that needs two paths to one LU; a family run repeats it with two. */
export const MULTIPATH_SUITE = 'SCSI.MultipathIO';

/**
 * Runs every family (or FAMILY.Suite) in order against one target. When the SCSI family or
 * the multipath suite is asked for, MULTIPATH_SUITE runs again over two sessions to the same
 * LU and its results replace the one-path skips.
 */
export async function runFamilies(url: string, families: readonly string[] = FAMILIES): Promise<SuiteRun> {
  const byName = new Map<string, TestResult>();
  let seconds = 0;
  const run = async (family: string, paths = 1): Promise<void> => {
    const r = await runSuite(url, family, { paths });
    for (const t of r.results) byName.set(t.name, t);
    seconds += r.seconds;
  };
  for (const f of families) await run(f);
  if (families.some((f) => f === 'SCSI' || f === MULTIPATH_SUITE)) await run(MULTIPATH_SUITE, 2);
  return { results: [...byName.values()], seconds };
}

/** A plain-text table of results (one line per test). */
export function resultsTable(results: readonly TestResult[]): string {
  const w = Math.max(...results.map((r) => r.name.length), 4);
  return results.map((r) => `${r.name.padEnd(w)}  ${r.outcome.padEnd(7)}  ${r.note}`).join('\n') + '\n';
}
