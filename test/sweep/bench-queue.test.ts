/**
 * `copylab bench JOBFILE… --scenario F… --queue URL` end to end: a redis-server of the test's own
 * on a free loopback port, a `copylab worker` process, and each job file on each scenario as a
 * task whose payload is the two texts. The results are the local bench's (the modeled figures),
 * printed as it prints them; what a worker may not do (read a file a scenario names, write fio's
 * logs) is refused before anything is queued, and again by the worker for a task pushed directly.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { runInProcess, type Ran } from '../in-process.js';
import { REPEAT_FIGURES } from '../../src/app/bench/repeat.js';
import type { FioResult } from '../../src/app/bench/result.js';
import { freePort } from '../../src/harness/free-port.js';
import { startProcess as start, until, type Proc } from '../../src/harness/processes.js';

/** Runs the command line in this process (test/in-process.ts), its standard output and error captured. */
const cli = (...args: string[]): Promise<Ran> => runInProcess(args);

const dir = mkdtempSync(join(tmpdir(), 'copylab-bench-queue-'));
const file = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const J = file('j.fio', '[global]\nsize=8m\nio_size=256k\nstonewall\n[copies]\nfilename=/dev/nullb0\nrw=copy\nbs=64k\n[reads]\nfilename=/dev/nullb0\nrw=randread\nbs=4k\niodepth=4\n');
const K = file('k.fio', '[w]\nfilename=/dev/nullb0\nrw=write\nbs=64k\nsize=4m\n');
const TIMED = join(process.cwd(), 'bench/jobs/timed-lab.yaml');
const PLAIN = join(process.cwd(), 'bench/jobs/lab.yaml');

/** fio's JSON documents one after the other (each pretty-printed, starting with `{` on a line). */
const documents = (out: string): FioResult[] => out.split(/\n(?=\{\n)/).filter((d) => d.trim()).map((d) => JSON.parse(d) as FioResult);
/**
 * Per job and direction with I/O, what it did and (on a timed lab, where they are modeled) its
 * figures; on a lab without timing they are wall-clock figures, not compared.
 */
const modeled = (r: FioResult, timed = true) =>
  r.jobs.flatMap((j) =>
    (['read', 'write', 'trim', 'copy'] as const)
      .filter((d) => j[d].total_ios)
      .map((d) => [j.jobname, d, j[d].io_bytes, j[d].total_ios, ...(timed ? REPEAT_FIGURES.filter((f) => f.name !== 'cpu %').map((f) => f.of(j[d], j)) : [])]),
  );
/** The normal output without its wall-clock and CPU lines. */
const steady = (out: string) => out.split('\n').filter((l) => !/wall clock:|^\s+cpu\s+:/.test(l));

let url: string;
let queue: Queue;
let worker: Proc;

beforeAll(async () => {
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  const redis = start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await until('redis-server', () => (/Ready to accept connections/.test(redis.out) ? true : undefined), 10_000);
  queue = new Queue('gc', { connection: { host: '127.0.0.1', port }, prefix: 'copylab' });
  worker = start(process.execPath, ['bin/copylab.js', 'worker', '--queue', url, '--concurrency', '1', '--name', 'wq']);
  await until('the worker', () => (/taking GC points/.test(worker.err) ? true : undefined));
  return async () => {
    await queue.close();
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    redis.child.kill('SIGKILL');
    await redis.exited;
  };
});

describe('copylab bench --queue with copylab worker', () => {
  it('each job file on each scenario is a task; the results are the local bench\'s, in order, as it prints them', async () => {
    const q = await cli('bench', J, K, '--scenario', TIMED, '--scenario', PLAIN, '--queue', url, '--output-format=json');
    expect(q.code, q.err).toBe(0);
    expect(q.err).toMatch(/^sweep sw-[0-9a-f]{16}: 4 tasks on redis:\/\/127\.0\.0\.1:\d+\n/);
    expect(q.err).toMatch(/ 4\/4 tasks done, 0 failed/);
    const docs = documents(q.out);
    expect(docs).toHaveLength(4);
    let i = 0;
    for (const f of [J, K])
      for (const s of [TIMED, PLAIN]) {
        const local = await cli('bench', f, '--scenario', s, '--output-format=json');
        expect(local.code).toBe(0);
        expect(modeled(docs[i]!, s === TIMED), `${f} on ${s}`).toEqual(modeled(JSON.parse(local.out) as FioResult, s === TIMED));
        i++;
      }
    // On the timed lab the figures are modeled, so the same wherever they ran (and not all zero).
    expect(modeled(docs[0]!)[0]![4]).toBeGreaterThan(0);
    // The normal output of one task is the local one, but for its wall-clock lines.
    const one = await cli('bench', J, '--scenario', TIMED, '--queue', url);
    const local = await cli('bench', J, '--scenario', TIMED);
    expect(one.code).toBe(0);
    expect(steady(one.out)).toEqual(steady(local.out));
    expect(one.err).toMatch(/1 tasks on .*, 1 already done/);
    // Several tasks: each under its name.
    const two = await cli('bench', J, K, '--scenario', TIMED, '--queue', url);
    expect(two.out.match(/^==> .* on .*timed-lab\.yaml <==$/gm)!.map((l) => l.replace(dir, 'D').replace(process.cwd(), 'C'))).toEqual(['==> D/j.fio on C/bench/jobs/timed-lab.yaml <==', '==> D/k.fio on C/bench/jobs/timed-lab.yaml <==']);
  });

  it('a job the lab refuses: the local bench\'s exit code (2) and a one-line reason; status of a detached bench sweep', async () => {
    const nope = file('nope.fio', '[x]\nfilename=/dev/nope\nrw=read\nbs=4k\nsize=64k\n');
    const local = await cli('bench', nope);
    const q = await cli('bench', nope, '--queue', url);
    expect(local.code).toBe(2);
    expect(q.code).toBe(2);
    expect(q.err).toMatch(/copylab bench: .*nope\.fio on default lab \(bench-[0-9a-f]{32}\): .*\/dev\/nope/);
    expect(q.out).toBe('');
    const d = await cli('bench', J, K, '--queue', url, '--detach');
    expect(d.code).toBe(0);
    const id = d.out.trim();
    const st = await until('the detached tasks', async () => {
      const s = JSON.parse((await cli('sweep', 'status', id, '--queue', url, '--json')).out) as { done: number };
      return s.done === 2 ? s : undefined;
    });
    expect(st).toMatchObject({ points: 2, done: 2, failed: 0 });
    const r = await cli('sweep', 'results', id, '--queue', url);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is a bench sweep: run the same copylab bench … --queue command again/);
  });

  it('refused before anything is queued (exit 2, one line): fio log files, a data file, outputs that are written here, several scenarios without --queue', async () => {
    const logs = file('logs.fio', '[x]\nfilename=/dev/nullb0\nrw=read\nbs=4k\nsize=64k\nwrite_bw_log=bw\n');
    file('secret.bin', 'S'.repeat(512));
    const data = file('data.yaml', 'devices: [ { kind: nvme, name: nvme0, namespaces: [ { size: 4MiB, lbs: 4096 } ] } ]\nsteps: [ { nvme: { dev: /dev/nvme0n1, opcode: 0x01, cdw10: 0, cdw12: 0, data_file: "secret.bin" } } ]\n');
    const before = await queue.getJobCounts();
    const cases: [string[], RegExp][] = [
      [['bench', logs, '--queue', url], /fio's log files \(.*\) are not written by a queued task/],
      [['bench', J, '--scenario', data, '--queue', url], /secret\.bin: a queued task reads no file its scenario names/],
      [['bench', J, '--queue', url, '--plot', join(dir, 'p.svg')], /--queue: not with --plot/],
      [['bench', J, '--queue', url, '--repeat', '2'], /--queue: not with --repeat/],
      [['bench', J, '--scenario', TIMED, '--scenario', PLAIN], /--scenario: given once without --queue/],
      [['bench', J, '--detach'], /--detach: needs --queue URL/],
      [['bench', J, '--queue', 'http://u:secret@h:1'], /--queue: unsupported scheme/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(message);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err).not.toMatch(/secret@/);
    }
    expect(await queue.getJobCounts()).toEqual(before);
    // Without --queue the data file is read as before (the scenario's folder).
    expect((await cli('bench', J, '--scenario', data)).err).not.toMatch(/queued task/);
  });

  it('malformed bench tasks pushed onto the queue fail with a one-line reason; the worker goes on', async () => {
    const jobfile = { name: 'k.fio', text: '[w]\nfilename=/dev/nullb0\nrw=write\nbs=64k\nsize=4m\n' };
    const bad: [string, unknown, RegExp][] = [
      ['b-text', { kind: 'bench', v: 1, jobfile: { name: 'x', text: 1 }, scenario: null, plus: false }, /^refused: malformed task: jobfile\.text must be a string$/],
      ['b-field', { kind: 'bench', v: 1, jobfile, scenario: null, plus: false, run: 'rm -rf /' }, /^refused: malformed task: unknown field "run"$/],
      ['b-big', { kind: 'bench', v: 1, jobfile: { name: 'x', text: 'x'.repeat(300_000) }, scenario: null, plus: false }, /^refused: malformed task: jobfile\.text is over 262144 bytes$/],
      ['b-data', { kind: 'bench', v: 1, jobfile, scenario: { name: 's.yaml', text: 'devices: [ { kind: nvme, name: nvme0, namespaces: [ { size: 4MiB, lbs: 4096 } ] } ]\nsteps: [ { nvme: { dev: /dev/nvme0n1, opcode: 0x01, cdw10: 0, cdw12: 0, data_file: "/etc/passwd" } } ]\n' }, plus: false }, /^refused: .*\/etc\/passwd: a queued task reads no file its scenario names/],
      ['b-logs', { kind: 'bench', v: 1, jobfile: { name: 'l.fio', text: `${jobfile.text}write_lat_log=/tmp/x\n` }, scenario: null, plus: false }, /^refused: .*fio's log files/],
    ];
    for (const [id, data] of bad) await queue.add('bench', data, { jobId: id, attempts: 5 });
    for (const [id, , reason] of bad) {
      const job = await until(`${id} to fail`, async () => ((await queue.getJobState(id)) === 'failed' ? queue.getJob(id) : undefined));
      expect(job.failedReason, id).toMatch(reason);
      expect(job.failedReason).not.toMatch(/\n/);
      expect(job.attemptsMade, id).toBe(1);
    }
    expect(worker.child.exitCode).toBe(null);
    expect(worker.err).toMatch(/wq: b-text refused: malformed task: jobfile\.text must be a string/);
  });
});
