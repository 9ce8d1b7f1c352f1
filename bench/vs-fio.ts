/**
 * The same job files through fio and through copylab, side by side in one run: fio 3.x with its
 * io_uring and psync engines on a file in /dev/shm (tmpfs: memory, like the lab's memory-backed nullblk),
 * copylab with its ring engine on a memory-backed nullblk (bench/jobs/lab.yaml). The job file is
 * the same text; only `filename` (and ioengine) are rewritten for fio. Prints one row per job
 * and direction with IOPS, bandwidth and clat p50/p99 for both, and copylab / fio.
 *
 *   npm run bench:vs-fio                             # the read/write job files of bench/jobs
 *   npm run bench:vs-fio -- bench/jobs/seq-bs.fio    # chosen job files
 *   npm run bench:vs-fio -- --rounds=5               # runs per side (default 3), alternating
 *
 * fio is installed with apt-get when it is missing and this runs as root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table } from './common.js';

const DEFAULT_JOBS = ['bench/jobs/randread-qd.fio', 'bench/jobs/seq-bs.fio'];
const SHM_FILE = '/dev/shm/copylab-vs-fio.dat';

interface Dir {
  io_bytes: number;
  bw_bytes: number;
  iops: number;
  total_ios: number;
  lat_ns: { mean: number };
  clat_ns: { percentile?: Record<string, number> };
}
interface Job {
  jobname: string;
  read: Dir;
  write: Dir;
  trim: Dir;
}

function haveFio(): string | null {
  let v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (v.status !== 0 && process.getuid?.() === 0) {
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'fio'], { stdio: 'ignore' });
    v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  }
  return v.status === 0 ? v.stdout.trim() : null;
}

/**
 * fio's engines tried on the tmpfs file; each row compares with the faster of the two. io_uring
 * may punt buffered tmpfs reads to its io-wq workers (a thread hop per request: 17-19k IOPS at
 * QD 1 on one kernel here), which says nothing about fio; psync reads the page cache inline, one
 * pread(2) per I/O, at depth 1 whatever iodepth says (fio's sync engines ignore it).
 */
const FIO_ENGINES = ['io_uring', 'psync'] as const;
type FioEngine = (typeof FIO_ENGINES)[number];

/** The job file as fio runs it: the lab device becomes a tmpfs file, the ring engine `engine`. */
function forFio(text: string, engine: FioEngine): string {
  const lines = text.split('\n').map((l) => {
    if (/^\s*filename\s*=/.test(l)) return `filename=${SHM_FILE}`;
    if (/^\s*ioengine\s*=\s*copylab-sync/.test(l)) return 'ioengine=psync';
    if (/^\s*ioengine\s*=/.test(l)) return `ioengine=${engine}`;
    return l;
  });
  return `[global]\nioengine=${engine}\n\n${lines.join('\n')}`;
}

function jsonOf(out: string): Job[] {
  return (JSON.parse(out.slice(out.indexOf('{'))) as { jobs: Job[] }).jobs;
}

/** Runs of each side per job file, alternating (--rounds=N, 1-20). */
const DEFAULT_ROUNDS = 3;
const MAX_ROUNDS = 20;

/** The run whose IOPS (over its directions) is the median of the runs. */
function medianJob(runs: readonly Job[]): Job {
  const iops = (j: Job): number => j.read.iops + j.write.iops + j.trim.iops;
  return [...runs].sort((a, b) => iops(a) - iops(b))[runs.length >> 1]!;
}

function p(d: Dir, q: string): number {
  return (d.clat_ns.percentile?.[q] ?? 0) / 1000;
}

function main(): void {
  const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const roundsArg = process.argv.find((a) => a.startsWith('--rounds='));
  const rounds = roundsArg === undefined ? DEFAULT_ROUNDS : Number(roundsArg.slice('--rounds='.length));
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_ROUNDS) {
    process.stderr.write(`--rounds: expected a whole number of runs, 1 to ${MAX_ROUNDS}\n`);
    process.exit(2);
  }
  const jobs = files.length ? files : DEFAULT_JOBS;
  const version = haveFio();
  if (!version) {
    process.stderr.write('fio is not installed (apt-get install fio) and could not be installed: nothing to compare with\n');
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), 'copylab-vs-fio-'));
  const t = table(['job', 'dir', 'fio io_uring', 'fio psync', 'copylab IOPS', 'vs best fio', 'fio MiB/s', 'copylab MiB/s', 'fio lat µs', 'copylab lat µs', 'fio clat p99', 'copylab clat p99'], ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
  try {
    for (const file of jobs) {
      const text = readFileSync(file, 'utf8');
      const fioFile = join(dir, 'job.fio');
      // Each side runs `rounds` times, taking turns (fio io_uring, fio psync, copylab, again), so a
      // neighbour's burst of load falls on all three alike; each row keeps each side's median run.
      const byEngine = new Map<FioEngine, Job[][]>(FIO_ENGINES.map((e) => [e, []]));
      const labRuns: Job[][] = [];
      for (let round = 0; round < rounds; round++) {
        for (const engine of FIO_ENGINES) {
          writeFileSync(fioFile, forFio(text, engine));
          process.stderr.write(`${file}: round ${round + 1}/${rounds}: fio ${engine} …\n`);
          byEngine.get(engine)!.push(jsonOf(execFileSync('fio', ['--output-format=json', fioFile], { encoding: 'utf8', maxBuffer: 64 << 20 })));
          rmSync(SHM_FILE, { force: true });
        }
        process.stderr.write(`${file}: round ${round + 1}/${rounds}: copylab …\n`);
        labRuns.push(jsonOf(execFileSync(process.execPath, ['bin/copylab.js', 'bench', file, '--scenario', 'bench/jobs/lab.yaml', '--output-format=json'], { encoding: 'utf8', maxBuffer: 64 << 20 })));
      }
      const labJobs = labRuns[0]!.map((j, i) => medianJob(labRuns.map((r) => r[i]!)));
      const medianOf = (engine: FioEngine, i: number): Job | undefined => {
        const runs = byEngine.get(engine)!.map((r) => r[i]).filter((j): j is Job => j !== undefined);
        return runs.length ? medianJob(runs) : undefined;
      };
      for (const [i, lj] of labJobs.entries()) {
        const uring = medianOf('io_uring', i);
        const psync = medianOf('psync', i);
        if (!uring || !psync) continue;
        for (const d of ['read', 'write', 'trim'] as const) {
          const b = lj[d];
          if (!uring[d].total_ios && !psync[d].total_ios && !b.total_ios) continue;
          const best = psync[d].iops > uring[d].iops ? psync[d] : uring[d];
          const bestName = best === psync[d] ? 'psync' : 'io_uring';
          t.push([
            lj.jobname, d,
            `${(uring[d].iops / 1000).toFixed(1)} k`, `${(psync[d].iops / 1000).toFixed(1)} k`, `${(b.iops / 1000).toFixed(1)} k`,
            best.iops ? `${(b.iops / best.iops).toFixed(2)}× ${bestName}` : 'n/a',
            (best.bw_bytes / 2 ** 20).toFixed(0), (b.bw_bytes / 2 ** 20).toFixed(0),
            (best.lat_ns.mean / 1000).toFixed(1), (b.lat_ns.mean / 1000).toFixed(1), p(best, '99.000000').toFixed(1), p(b, '99.000000').toFixed(1),
          ]);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(SHM_FILE, { force: true });
  }
  console.log(`the same job files: ${version} (io_uring and psync, file in /dev/shm) vs copylab ring engine (memory nullblk), ${process.version}, median of ${rounds} alternating runs per side`);
  console.log(t.toString());
  console.log('vs best fio = copylab IOPS / the faster fio engine\'s IOPS (its MiB/s and latencies are the fio columns); psync runs at depth 1 whatever iodepth says');
  console.log('lat = mean issue-to-completion latency; clat p99 = 99th percentile of submission to completion');
}

main();
