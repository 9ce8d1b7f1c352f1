/**
 * Distributed sweeps end to end: a redis-server of the test's own on a free loopback port (no
 * persistence, killed at the end), `copylab worker` processes spawned from bin/copylab.js, and
 * `copylab gc sweep --queue`. One worker is killed with SIGKILL while it runs a point; the sweep
 * still ends with every point once and the same figures as the local sweep.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { unpack } from 'msgpackr';
import { runInProcess, type Ran } from '../in-process.js';
import { freePort } from '../../src/harness/free-port.js';
import { startProcess as start, until, type Proc } from '../../src/harness/processes.js';

const copylab = (...args: string[]): Proc => start(process.execPath, ['bin/copylab.js', ...args]);

/** Runs the command line in this process (test/in-process.ts), its standard output and error captured. */
const cli = (...args: string[]): Promise<Ran> => runInProcess(args);

// A grid of 24 points (2 workloads x 2 policies x 2 paths x 3 spare factors) on a 32 MiB zoned
// device with a timing model: each runs in a tenth of a second or so, the whole grid in a few.
const GRID = ['--size', '32MiB', '--zone-size', '1MiB', '--overwrites', '1', '--timing', 'nvmevirt-zns', '--workloads', 'uniform,zipf:0.9', '--policies', 'greedy,cost-benefit', '--paths', 'copy,host', '--spare-factors', '0.25,0.3,0.4'];
const POINTS = 24;
/** Figures that depend on the run alone (not on the machine or the moment). */
const FIGURES = ['policy', 'path', 'spare_factor', 'workload', 'waf', 'waf_steady', 'user_bytes', 'gc_moved_bytes', 'host_bytes', 'commands', 'gc', 'victims', 'resets', 'modeled_s', 'gc_modeled_s', 'p50_us', 'p99_us', 'p999_us', 'max_us', 'verified_blocks', 'victim_valid_histogram'];
const figures = (r: Record<string, unknown>) => Object.fromEntries(FIGURES.map((k) => [k, r[k]]));
const lines = (s: string) => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

let redis: Proc;
let url: string;
let queue: Queue;
const workers: Proc[] = [];

beforeAll(async () => {
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  redis = start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await until('redis-server', () => (/Ready to accept connections/.test(redis.out) ? true : undefined), 10_000);
  queue = new Queue('gc', { connection: { host: '127.0.0.1', port }, prefix: 'copylab' });
  return async () => {
    await queue.close();
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    redis.child.kill('SIGKILL');
    await redis.exited;
  };
});

describe('copylab gc sweep --queue with copylab worker', () => {
  it('two workers, one killed mid-point: every point once, the figures of the local sweep', async () => {
    const a = copylab('worker', '--queue', url, '--concurrency', '1', '--name', 'wA', '--lock-duration', '1000');
    const b = copylab('worker', '--queue', url, '--concurrency', '1', '--name', 'wB', '--lock-duration', '1000');
    workers.push(a, b);
    await until('both workers', () => (/taking GC points/.test(a.err) && /taking GC points/.test(b.err) ? true : undefined));
    const running = cli('gc', 'sweep', ...GRID, '--queue', url, '--json');
    // wA holds a point: kill it there (no chance to finish or give the point back).
    await until('a point on wA', async () => ((await queue.getActive()).some((j) => j.processedBy === 'wA') ? true : undefined));
    a.child.kill('SIGKILL');
    expect(await a.exited).toBe(null);
    // What it held when it died (its lock lasts a second more).
    const held = (await queue.getActive()).filter((j) => j.processedBy === 'wA').map((j) => j.id);
    expect(held).toHaveLength(1);
    const sweep = await running;
    expect(sweep.code).toBe(0);
    expect(sweep.err).toMatch(new RegExp(`^sweep sw-[0-9a-f]{16}: ${POINTS} points on redis://127\\.0\\.0\\.1:\\d+\\n`));
    expect(sweep.err).toMatch(new RegExp(`${POINTS}/${POINTS} points done, 0 failed`));
    const remote = lines(sweep.out);
    // The point wA held was run again, by wB, after wA's lock expired.
    const job = (await queue.getJob(held[0]!))!;
    expect(await job.getState()).toBe('completed');
    expect(job.processedBy).toBe('wB');
    expect(b.err).toMatch(new RegExp(`${held[0]} stalled`));

    const file = join(mkdtempSync(join(tmpdir(), 'copylab-sweep-')), 'local.mpk');
    const local = await cli('gc', 'sweep', ...GRID, '--json', '--results-out', file);
    expect(local.code).toBe(0);
    expect((unpack(readFileSync(file)) as { results: unknown[] }).results.map((r) => figures(r as Record<string, unknown>))).toEqual(remote.map(figures));
    expect(remote.map(figures)).toEqual(lines(local.out).map(figures));
    expect(remote).toHaveLength(POINTS);
    expect(new Set(remote.map((r) => `${r.workload} ${r.policy} ${r.path} ${r.spare_factor}`)).size).toBe(POINTS);
    // Every point ran to completion exactly once, on one worker or the other: the killed worker's
    // point only on wB (wA died before finishing it).
    // (A worker logs a point after storing its result: its last line may still be on the way.)
    const doneIn = (p: Proc) => [...p.err.matchAll(/: (gc-[0-9a-f]{32}) done/g)].map((m) => m[1]!);
    const finished = await until('the workers\' logs', () => (doneIn(a).length + doneIn(b).length >= POINTS ? [...doneIn(a), ...doneIn(b)] : undefined), 5000);
    expect(finished).toHaveLength(POINTS);
    expect(new Set(finished).size).toBe(POINTS);
    expect(a.err).not.toMatch(new RegExp(`${held[0]} done`));
    expect(remote[0]!.modeled_s).toBeGreaterThan(0);
  });

  it('a resubmitted sweep reuses its finished points; --detach, status, results (--results-out), cancel', async () => {
    const d = await cli('gc', 'sweep', ...GRID, '--queue', url, '--detach');
    expect(d.code).toBe(0);
    const id = d.out.trim();
    expect(id).toMatch(/^sw-[0-9a-f]{16}$/);
    expect(d.err).toMatch(new RegExp(`${POINTS} points on .*, ${POINTS} already done`));
    const st = await cli('sweep', 'status', id, '--queue', url, '--json');
    expect(st.code).toBe(0);
    expect(JSON.parse(st.out)).toMatchObject({ id, points: POINTS, done: POINTS, failed: 0, cancelled: false });
    expect(JSON.parse(st.out).expires_in_s).toBeGreaterThan(6 * 86400);
    const file = join(mkdtempSync(join(tmpdir(), 'copylab-sweep-')), 'r.mpk');
    const res = await cli('sweep', 'results', id, '--queue', url, '--results-out', file);
    expect(res.code).toBe(0);
    expect(res.out.match(/(greedy|cost-benefit)\s+│ (copy|host)/g)).toHaveLength(POINTS);
    const saved = unpack(readFileSync(file)) as { sweep: string; results: { series: unknown[] }[] };
    expect(saved.sweep).toBe(id);
    expect(saved.results).toHaveLength(POINTS);
    expect(saved.results[0]!.series.length).toBeGreaterThan(0);
    expect((await cli('sweep', 'cancel', id, '--queue', url)).out).toMatch(new RegExp(`0 queued points removed, 0 running \\(they finish\\), ${POINTS} finished before`));
    expect(JSON.parse((await cli('sweep', 'status', id, '--queue', url, '--json')).out).cancelled).toBe(true);
  });

  it('a refused point: the same rows, JSON lines, stderr lines and exit code (2) as the local sweep', async () => {
    // Sf 0.15 passes the checks before the run and is refused by the run (no section left for GC).
    const grid = ['gc', 'sweep', '--size', '64MiB', '--overwrites', '1', '--policies', 'greedy', '--paths', 'copy,host', '--spare-factors', '0.15,0.3'];
    const messages = (err: string) => err.split('\n').filter((l) => l.startsWith('copylab gc sweep: ')).map((l) => l.replace(/ \(gc-[0-9a-f]{32}\)/, ''));
    // What the machine and the moment decide (everything else is the run's).
    const noWall = (r: Record<string, unknown>) => ({ ...r, wall_s: undefined, block_moves_per_s: undefined, peak_rss_bytes: undefined });
    /** The table's cells, row by row, without the wall-clock column. */
    const cells = (out: string) => {
      const rows = out.split('\n').filter((l) => l.startsWith('│')).map((l) => l.split('│').slice(1, -1).map((c) => c.trim()));
      const wall = rows[0]!.indexOf('wall s');
      expect(wall).toBeGreaterThan(0);
      return rows.map((r) => r.filter((_, i) => i !== wall));
    };
    for (const json of [true, false]) {
      const args = json ? [...grid, '--json'] : grid;
      const local = await cli(...args);
      const queued = await cli(...args, '--queue', url);
      expect(local.code).toBe(2);
      expect(queued.code).toBe(2);
      expect(messages(local.err)).toHaveLength(2);
      expect(messages(queued.err)).toEqual(messages(local.err));
      if (json) {
        const rows = lines(queued.out);
        expect(rows.map(noWall)).toEqual(lines(local.out).map(noWall));
        expect(rows.filter((r) => r.error_kind === 'usage').map((r) => `${r.path} ${r.spare_factor}`)).toEqual(['copy 0.15', 'host 0.15']);
        expect(rows[0]).toEqual({ workload: 'uniform', policy: 'greedy', path: 'copy', spare_factor: 0.15, error: expect.stringMatching(/^--spare-factor: 0\.15 leaves no room for GC/), error_kind: 'usage' });
      } else {
        expect(cells(queued.out)).toEqual(cells(local.out));
        expect(queued.out).toMatch(/│ refused: --spare-factor: 0\.15 leaves no room for GC/);
      }
    }
  });

  it('malformed tasks pushed onto the queue fail with a one-line reason; the worker goes on and stops on SIGTERM', async () => {
    const b = workers[1]!;
    const good = { size: 64 << 20, segsPerSection: 1, spareFactor: 0.2, policy: 'greedy', path: 'copy', workload: 'uniform', overwrites: 1, seed: 1, timing: 'none', allocation: 'frontier', ageThreshold: 0.5, seriesPoints: 10 };
    const bad: [string, unknown, RegExp][] = [
      ['bad-size', { kind: 'gc', v: 1, options: { ...good, size: 'big' } }, /^refused: malformed task: size must be an integer, not "big"$/],
      ['bad-inject', { kind: 'gc', v: 1, options: { ...good, inject: { kind: 'drop', at: 1 } } }, /^refused: malformed task: unknown option "inject"$/],
      ['bad-trace', { kind: 'gc', v: 1, options: { ...good, workload: 'trace:/etc/passwd' } }, /trace: workloads name a file/],
      ['bad-text', 'rm -rf /', /^refused: malformed task: the payload is not an object$/],
      // Well-formed, but the run itself refuses it: the run's message is the reason.
      ['bad-run', { kind: 'gc', v: 1, options: { ...good, spareFactor: 0.1 } }, /^refused: --spare-factor: 0\.1 leaves no room for GC/],
    ];
    for (const [id, data] of bad) await queue.add('gc', data, { jobId: id, attempts: 5 });
    for (const [id, , reason] of bad) {
      // The state first, then the job (a job read before it failed has no reason yet).
      const job = await until(`${id} to fail`, async () => ((await queue.getJobState(id)) === 'failed' ? queue.getJob(id) : undefined));
      expect(job.failedReason, id).toMatch(reason);
      expect(job.failedReason).not.toMatch(/\n/);
      // Refused once, not tried again.
      expect(job.attemptsMade, id).toBe(1);
    }
    expect(b.child.exitCode).toBe(null);
    expect(b.err).toMatch(/wB: bad-size refused: malformed task: size must be an integer/);
    // A sweep whose point is refused prints the reason (exit 2, as a local sweep); submitted again, the failed point is queued again.
    const failing = ['gc', 'sweep', '--size', '64MiB', '--overwrites', '1', '--policies', 'greedy', '--spare-factors', '0.1', '--queue', url];
    const f = await cli(...failing);
    expect(f.code).toBe(2);
    expect(f.err).toMatch(/copylab gc sweep: uniform greedy copy Sf 0\.1 \(gc-[0-9a-f]{32}\): --spare-factor: 0\.1 leaves no room for GC/);
    const again = await cli(...failing, '--detach');
    expect(again.err).toMatch(/1 points on .*, 1 failed before and queued again/);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(b.err).toMatch(/wB: SIGTERM: finishing the running points, taking no more\n/);
    expect(b.err).toMatch(/wB: stopped\n$/);
  });

  it('with no worker, cancel removes the queued points and results says what is missing (exit 1)', async () => {
    const d = await cli('gc', 'sweep', '--size', '64MiB', '--overwrites', '1', '--policies', 'greedy', '--spare-factors', '0.22,0.33', '--queue', url, '--detach', '--retention', '1h');
    expect(d.code).toBe(0);
    const id = d.out.trim();
    expect(JSON.parse((await cli('sweep', 'status', id, '--queue', url, '--json')).out)).toMatchObject({ points: 2, queued: 2 });
    expect((await cli('sweep', 'cancel', id, '--queue', url)).out).toMatch(/2 queued points removed/);
    const r = await cli('sweep', 'results', id, '--queue', url);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/uniform greedy copy Sf 0\.22 \(gc-[0-9a-f]{32}\): not on the queue \(cancelled, or expired after its retention\)/);
    // A sweep waited on with --timeout and no worker: what is not finished is said (exit 1).
    const waited = await cli('gc', 'sweep', '--size', '64MiB', '--overwrites', '1', '--policies', 'greedy', '--spare-factors', '0.4', '--queue', url, '--timeout', '1');
    expect(waited.code).toBe(1);
    expect(waited.err).toMatch(/copylab gc sweep: 1 of 1 points not finished \(copylab sweep status sw-[0-9a-f]{16}\)/);
    // A result that is not a GC result (a foreign worker on the queue) is reported, not printed.
    const foreign = new Worker('gc', async () => ({ nope: 1 }), { connection: { host: '127.0.0.1', port: Number(new URL(url).port) }, prefix: 'copylab' });
    const odd = await until('the foreign result', async () => {
      const o = await cli('sweep', 'results', /status (sw-[0-9a-f]{16})/.exec(waited.err)![1]!, '--queue', url);
      return /the stored result is not a GC result/.test(o.err) ? o : undefined;
    });
    await foreign.close();
    expect(odd.code).toBe(1);
    // A point whose run failed (a lost block; stored as 'failed: ...') is a failed row (error_kind
    // failed, exit 1); a reason of BullMQ's own (no kind) counts as a failed run.
    const failer = new Worker('gc', async (job) => {
      throw new UnrecoverableError(job.data.options.spareFactor === 0.5 ? 'failed: verify: lba 7 at physical 9 holds nothing' : 'job stalled more than allowable limit');
    }, { connection: { host: '127.0.0.1', port: Number(new URL(url).port) }, prefix: 'copylab' });
    const sub = await cli('gc', 'sweep', '--size', '64MiB', '--overwrites', '1', '--policies', 'greedy', '--spare-factors', '0.5,0.6', '--queue', url, '--json');
    await failer.close();
    expect(sub.code).toBe(1);
    expect(lines(sub.out)).toEqual([
      { workload: 'uniform', policy: 'greedy', path: 'copy', spare_factor: 0.5, error: 'verify: lba 7 at physical 9 holds nothing', error_kind: 'failed' },
      { workload: 'uniform', policy: 'greedy', path: 'copy', spare_factor: 0.6, error: 'job stalled more than allowable limit', error_kind: 'failed' },
    ]);
    expect(sub.err).toMatch(/copylab gc sweep: uniform greedy copy Sf 0\.5 \(gc-[0-9a-f]{32}\): verify: lba 7 at physical 9 holds nothing\n/);
    // A record in Redis that is not one of ours is refused in one line.
    const redisKeys = new Redis({ host: '127.0.0.1', port: Number(new URL(url).port) });
    await redisKeys.set('copylab:sweeps:sw-00000000000000aa', 'not json');
    await redisKeys.set('copylab:sweeps:sw-00000000000000bb', JSON.stringify({ v: 2, id: 'sw-00000000000000bb', points: [] }));
    expect((await cli('sweep', 'status', 'sw-00000000000000aa', '--queue', url)).err).toBe('copylab sweep status: sweep sw-00000000000000aa: the record in Redis is not readable\n');
    expect((await cli('sweep', 'status', 'sw-00000000000000bb', '--queue', url)).err).toBe('copylab sweep status: sweep sw-00000000000000bb: the record in Redis is not a sweep record of this version\n');
    redisKeys.disconnect();
    const missing = await cli('sweep', 'results', 'sw-0123456789abcdef', '--queue', url);
    expect(missing.code).toBe(2);
    expect(missing.err).toBe('copylab sweep results: no sweep sw-0123456789abcdef on this queue (never submitted, or expired after its retention)\n');
  });

  it('refusals: a bad URL (exit 2, one line, no password), an unreachable queue (exit 1), options that need --queue or are out of range (exit 2)', async () => {
    const closed = `redis://u:secret@127.0.0.1:${await freePort()}`;
    const cases: [string[], number, RegExp][] = [
      [['gc', 'sweep', '--size', '64MiB', '--queue', 'http://u:secret@host:1'], 2, /^copylab gc sweep: --queue: unsupported scheme "http:"/],
      [['worker', '--queue', 'redis://u:secret@host:1/x'], 2, /^copylab worker: --queue: the path must be a database number/],
      [['sweep', 'status', 'sw-0123456789abcdef', '--queue', 'redis://host:1?db=2'], 2, /^copylab sweep status: --queue: a query or fragment is not supported/],
      [['gc', 'sweep', '--size', '64MiB', '--queue', closed], 1, /^copylab gc sweep: cannot use the queue at redis:\/\/u:\*\*\*@127\.0\.0\.1:\d+: connect ECONNREFUSED/],
      [['worker', '--queue', closed], 1, /^copylab worker: cannot use the queue at/],
      [['gc', 'sweep', '--size', '64MiB', '--detach'], 2, /--detach: needs --queue URL/],
      [['gc', 'sweep', '--size', '64MiB', '--queue', url, '--retention', '1w'], 2, /--retention: expected a time/],
      [['gc', 'sweep', '--size', '64MiB', '--queue', url, '--timeout', '0'], 2, /--timeout: expected a time such as 30s, 12h or 7d, from 1 s/],
      [['gc', 'sweep', '--size', '64MiB', '--retention', '1h'], 2, /--retention: needs --queue URL/],
      [['gc', 'sweep', '--size', '64MiB', '--timeout', '1h'], 2, /--timeout: needs --queue URL/],
      [['gc', 'sweep', '--size', '64MiB', '--queue', url, '--workloads', 'trace:/etc/passwd'], 2, /a grid point the workers would refuse: trace: workloads name a file/],
      [['sweep', 'status', 'nope', '--queue', url], 2, /"nope" is not a sweep id/],
      [['worker', '--queue', url, '--concurrency', '0'], 2, /--concurrency: expected 1\.\.64/],
      [['worker', '--queue', url, '--lock-duration', '10'], 2, /--lock-duration: expected 500\.\.600000 ms/],
      [['worker', '--queue', url, '--name', 'a b'], 2, /--name: expected/],
      [['worker', '--queue', url, '--max-size', '32TiB'], 2, /--max-size: expected a size up to 16TiB/],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.err, args.join(' ')).toMatch(message);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err).not.toMatch(/secret/);
    }
  });
});
