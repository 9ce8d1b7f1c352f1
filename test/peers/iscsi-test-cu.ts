/**
 * Runs libiscsi's conformance suite (iscsi-test-cu, Debian package libiscsi-bin) and records
 * each test's own result. CUnit's summary counts a test that printed `[SKIPPED]` as passed; here
 * a test is `failed` when CUnit says FAILED, `skipped` when it printed [SKIPPED] and did not
 * fail, `passed` otherwise. Also starts the two targets it compares: copylab's (`copylab serve
 * iscsi`) and Debian's tgtd (configured with tgtadm, backed by a file). Used by the conformance
 * test, the tgt comparison and the iscsi-perf bench; every process it starts is stopped by the
 * returned `stop`. It lives with the tests (the conformance test's peer harness); benchmarks
 * import it from here, tests never import benchmarks.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export type Outcome = 'passed' | 'failed' | 'skipped';

export interface TestResult {
  /** FAMILY.Suite.Test */
  readonly name: string;
  readonly outcome: Outcome;
  /** First [FAILED] or [SKIPPED] message. */
  readonly note: string;
}

/** The families the conformance run covers (the issue: SCSI and iSCSI). */
export const FAMILIES = ['SCSI', 'iSCSI'] as const;

const INSTALL_HINT = 'apt-get install -y --no-install-recommends libiscsi-bin';

/** Fails clearly when a tool is missing. */
export function requireTool(tool: string, hint = INSTALL_HINT): void {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${tool} is not installed (${hint})`);
}

/** Parses `iscsi-test-cu -v` output of one family into per-test results. */
export function parseResults(family: string, out: string): TestResult[] {
  const results: TestResult[] = [];
  let suite = '';
  let current: { name: string; text: string[] } | null = null;
  const finish = (): void => {
    if (!current) return;
    const text = current.text.join('\n');
    const failed = /(^|\.\.\.|\s)FAILED\s*$/m.test(text) || /^FAILED$/m.test(text);
    const skipped = text.includes('[SKIPPED]');
    const passed = /(^|\.\.\.)passed\s*$/m.test(text);
    const outcome: Outcome = failed ? 'failed' : skipped ? 'skipped' : passed ? 'passed' : 'failed';
    const note = (/\[(FAILED|SKIPPED)\][^\n]*/.exec(text)?.[0] ?? '').trim().slice(0, 160);
    results.push({ name: current.name, outcome, note });
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

/** Runs one family (or FAMILY.Suite) against a URL; never throws for test failures. */
export function runSuite(url: string, family: string, timeoutMs = 240_000): Promise<SuiteRun> {
  requireTool('iscsi-test-cu');
  const t0 = Date.now();
  return new Promise((resolvePromise, reject) => {
    const p = spawn('iscsi-test-cu', ['-d', '-v', '-t', family, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    p.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', () => {
      clearTimeout(timer);
      const fam = family.split('.')[0]!;
      resolvePromise({ results: parseResults(fam, out), seconds: (Date.now() - t0) / 1000 });
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

/** A free loopback port (bind to 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
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

/** The repository root (this file is test/peers/ in the sources and dist/test/peers/ when a benchmark's build carries it). */
function repoRoot(): string {
  const here = new URL('.', import.meta.url).pathname;
  return here.includes('/dist/test/') ? resolve(here, '../../..') : resolve(here, '../..');
}

/** Starts `copylab serve iscsi` on a free loopback port (the built CLI: run `npm run build` first). */
export async function startCopylab(options: { scenario?: string; extraArgs?: readonly string[] } = {}): Promise<RunningTarget> {
  const root = repoRoot();
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

/** Runs every family in order against one target. */
export async function runFamilies(url: string, families: readonly string[] = FAMILIES): Promise<SuiteRun> {
  const all: TestResult[] = [];
  let seconds = 0;
  for (const f of families) {
    const r = await runSuite(url, f);
    all.push(...r.results);
    seconds += r.seconds;
  }
  return { results: all, seconds };
}

/** A plain-text table of results (one line per test). */
export function resultsTable(results: readonly TestResult[]): string {
  const w = Math.max(...results.map((r) => r.name.length), 4);
  return results.map((r) => `${r.name.padEnd(w)}  ${r.outcome.padEnd(7)}  ${r.note}`).join('\n') + '\n';
}
