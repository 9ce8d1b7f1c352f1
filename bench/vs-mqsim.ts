/**
 * `npm run bench:vs-mqsim`: copylab's `mqsim` preset against MQSim (CMU-SAFARI) on the same
 * seven closed-loop workloads (4 KiB random reads at QD 1/8/32/128, 4 KiB random writes at QD 32,
 * 128 KiB sequential reads and writes at QD 8; a fresh device, 1% working set), IOPS and mean
 * latency side by side, with the ratio copylab / MQSim.
 *
 * MQSim's figures come from bench/peers/mqsim.json (measured with its shipped ssdconfig.xml and
 * with Ideal_Mapping_Table=true, the commit named there). With MQSIM_DIR=<a tree of MQSim's public
 * source> the bench builds it there (make) and runs the fourteen simulations itself (about 15 s
 * each), writing its workload files to a temporary folder; nothing of MQSim is part of copylab.
 *
 * Then the same seven through `copylab bench` itself (bench/jobs/mqsim/peer.fio on the devices
 * of bench/jobs/mqsim/lab.yaml: the ring, the block layer and a timed nullblk, 5 s of modeled time
 * each, a fresh lab per job); `--closed-loop-only` skips that part (a few minutes of wall time).
 *
 * A benchmark, not a test: it prints figures (test/timing/vs-mqsim.test.ts holds the closed-loop
 * figures to the recorded ones).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../src/core/thread/entries.js';
import { PEER_WORKLOADS, runClosedLoop, type ClosedLoopWorkload } from '../src/harness/closed-loop.js';
import { resolveTiming } from '../devices/timing/params.js';
import { loadJobFiles } from '../src/app/bench/jobfile.js';
import { modeledClockOf, runJobs, timedDevice } from '../src/app/bench/engine.js';
import { buildLab, loadScenario } from '../src/app/scenario/run.js';
import { table } from './common.js';

type Figures = { iops: number; mean_us: number };
/** MQSim's mapping counters for a shipped-config run (bench/peers/mqsim.json "mapping_fields" says which of its result fields each is). */
type Mapping = { misses: number; misses_without_read: number; translation_reads: number; writebacks: number };
type Recorded = { commit: string; results: Record<string, { shipped: Figures; ideal: Figures }>; mapping: Record<string, Mapping> };

/** MQSim's logical capacity with its shipped config (bytes): 1% of it is the working set. */
const MQSIM_LOGICAL_BYTES = 480e9;
/** Largest MQSim result file read back (a limit on everything). */
const MAX_RESULT_BYTES = 16 << 20;

function recorded(): Recorded {
  return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'bench/peers/mqsim.json'), 'utf8')) as Recorded;
}

function workloadXml(w: ClosedLoopWorkload, stopNs: number): string {
  const field = (k: string, v: string | number): string => `\t\t\t<${k}>${v}</${k}>`;
  return [
    '<?xml version="1.0" encoding="us-ascii"?>',
    '<MQSim_IO_Scenarios>',
    '\t<IO_Scenario>',
    '\t\t<IO_Flow_Parameter_Set_Synthetic>',
    field('Priority_Class', 'HIGH'),
    field('Device_Level_Data_Caching_Mode', 'WRITE_CACHE'),
    field('Channel_IDs', '0,1,2,3,4,5,6,7'),
    field('Chip_IDs', '0,1,2,3'),
    field('Die_IDs', '0,1'),
    field('Plane_IDs', '0,1'),
    field('Initial_Occupancy_Percentage', 75),
    field('Working_Set_Percentage', 1),
    field('Synthetic_Generator_Type', 'QUEUE_DEPTH'),
    field('Read_Percentage', w.op === 'read' ? 100 : 0),
    field('Address_Distribution', w.pattern === 'random' ? 'RANDOM_UNIFORM' : 'STREAMING'),
    field('Percentage_of_Hot_Region', 0),
    field('Generated_Aligned_Addresses', 'true'),
    field('Address_Alignment_Unit', 8),
    field('Request_Size_Distribution', 'FIXED'),
    field('Average_Request_Size', w.bs / 512),
    field('Variance_Request_Size', 0),
    field('Seed', 798),
    field('Average_No_of_Reqs_in_Queue', w.qd),
    field('Intensity', 32768),
    field('Stop_Time', stopNs),
    field('Total_Requests_To_Generate', 0),
    '\t\t</IO_Flow_Parameter_Set_Synthetic>',
    '\t</IO_Scenario>',
    '</MQSim_IO_Scenarios>',
    '',
  ].join('\n');
}

/** Builds MQSim in `dir` and runs every workload with both mapping-table settings. */
function runMqsim(dir: string): Pick<Recorded, 'results' | 'mapping'> {
  const tree = resolve(dir);
  if (!existsSync(join(tree, 'Makefile')) || !existsSync(join(tree, 'ssdconfig.xml'))) throw new Error(`MQSIM_DIR=${dir}: no Makefile and ssdconfig.xml there`);
  process.stdout.write(`building MQSim in ${tree} …\n`);
  const make = spawnSync('make', ['-j2'], { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] });
  if (make.status !== 0) throw new Error('make failed in MQSIM_DIR');
  const work = mkdtempSync(join(tmpdir(), 'copylab-mqsim-'));
  try {
    const shipped = readFileSync(join(tree, 'ssdconfig.xml'), 'utf8');
    const configs = { shipped, ideal: shipped.replace(/<Ideal_Mapping_Table>\s*false\s*<\/Ideal_Mapping_Table>/, '<Ideal_Mapping_Table>true</Ideal_Mapping_Table>') };
    const out: Recorded['results'] = {};
    const mapping: Recorded['mapping'] = {};
    const attr = (x: string, k: string): number => Number(new RegExp(`${k}="([0-9]+)"`).exec(x)?.[1]);
    const stopNs = 5e9;
    for (const w of PEER_WORKLOADS) {
      const row: Partial<{ shipped: Figures; ideal: Figures }> = {};
      for (const [name, text] of Object.entries(configs) as ['shipped' | 'ideal', string][]) {
        const cfg = join(work, `ssd-${name}.xml`);
        writeFileSync(cfg, text);
        const wl = join(work, `${w.name}-${name}.xml`);
        writeFileSync(wl, workloadXml(w, stopNs));
        const t0 = performance.now();
        const r = spawnSync(join(tree, 'MQSim'), ['-i', cfg, '-w', wl], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'], timeout: 10 * 60_000 });
        if (r.status !== 0) throw new Error(`MQSim ${w.name} (${name}) exited with ${r.status}`);
        const res = wl.replace(/\.xml$/, '_scenario_1.xml');
        if (statSync(res).size > MAX_RESULT_BYTES) throw new Error(`${res}: larger than ${MAX_RESULT_BYTES} bytes`);
        const x = readFileSync(res, 'utf8');
        const count = Number(/<Request_Count>([^<]*)<\/Request_Count>/.exec(x)?.[1]);
        const delay = Number(/<End_to_End_Request_Delay>([^<]*)<\/End_to_End_Request_Delay>/.exec(x)?.[1]);
        if (!Number.isFinite(count) || !Number.isFinite(delay)) throw new Error(`${res}: no Request_Count / End_to_End_Request_Delay`);
        row[name] = { iops: count / (stopNs / 1e9), mean_us: delay };
        if (name === 'shipped' && w.op === 'read' && w.pattern === 'random') {
          mapping[w.name] = {
            misses: attr(x, 'CMT_Misses_For_Read'), misses_without_read: attr(x, 'CMT_Misses'),
            translation_reads: attr(x, 'Issued_Flash_Read_CMD_For_Mapping'), writebacks: attr(x, 'Issued_Flash_Program_CMD_For_Mapping'),
          };
        }
        process.stdout.write(`  ${w.name} ${name}: ${Math.round(count / 5)} IOPS (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
      }
      out[w.name] = row as { shipped: Figures; ideal: Figures };
    }
    return { results: out, mapping };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const rec = recorded();
const ran = process.env.MQSIM_DIR ? runMqsim(process.env.MQSIM_DIR) : rec;
const peer = ran.results;
const source = process.env.MQSIM_DIR ? `MQSim run now from ${process.env.MQSIM_DIR}` : `MQSim ${rec.commit.slice(0, 7)}, figures recorded in bench/peers/mqsim.json (MQSIM_DIR=… runs it)`;
const k = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));
console.log(`copylab's mqsim preset against ${source}`);
console.log('shipped: the preset as it is (2 MiB mapping cache), as many requests as MQSim completed in its 5 s, all measured from a fresh device');
console.log('ideal:   mapping_cache_bytes: 0 (Ideal_Mapping_Table=true), a fifth of the requests warming up');
const t = table(
  ['workload', 'MQSim shipped', 'copylab', 'ratio', 'MQSim ideal', 'copylab', 'ratio', 'mean µs MQSim / copylab (ideal)', 'wall'],
  ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
);
const mark = (r: number): string => `${r.toFixed(2)}×${Math.abs(r - 1) <= 0.15 ? '' : ' !'}`;
let off = 0;
const mapRows: string[][] = [];
const reserveRows: string[][] = [];
for (const w of PEER_WORKLOADS) {
  const p = peer[w.name]!;
  const w0 = performance.now();
  const shipped = runClosedLoop(resolveTiming('mqsim')!, w, { workingSetBytes: 0.01 * MQSIM_LOGICAL_BYTES, requests: Math.round(p.shipped.iops * 5), warmup: 0 });
  const ideal = runClosedLoop(resolveTiming({ preset: 'mqsim', mapping_cache_bytes: 0 })!, w, { workingSetBytes: 0.01 * MQSIM_LOGICAL_BYTES, requests: w.bs > 4096 ? 20_000 : 100_000 });
  const rs = shipped.iops / p.shipped.iops;
  const ri = ideal.iops / p.ideal.iops;
  if (w.op === 'read') {
    // The same with reads fixed when they are issued (read_dispatch: reserve, every other preset's).
    const es = runClosedLoop(resolveTiming({ preset: 'mqsim', read_dispatch: 'reserve' })!, w, { workingSetBytes: 0.01 * MQSIM_LOGICAL_BYTES, requests: Math.round(p.shipped.iops * 5), warmup: 0 });
    const ei = runClosedLoop(resolveTiming({ preset: 'mqsim', mapping_cache_bytes: 0, read_dispatch: 'reserve' })!, w, { workingSetBytes: 0.01 * MQSIM_LOGICAL_BYTES, requests: w.bs > 4096 ? 20_000 : 100_000 });
    reserveRows.push([w.name, k(es.iops), mark(es.iops / p.shipped.iops), k(ei.iops), mark(ei.iops / p.ideal.iops)]);
  } else reserveRows.push([w.name, 'as above', '', 'as above', '']);
  off += Number(Math.abs(rs - 1) > 0.15) + Number(Math.abs(ri - 1) > 0.15);
  t.push([w.name, k(p.shipped.iops), k(shipped.iops), mark(rs), k(p.ideal.iops), k(ideal.iops), mark(ri), `${p.ideal.mean_us} / ${ideal.meanUs.toFixed(0)}`, `${(performance.now() - w0).toFixed(0)} ms`]);
  const mp = ran.mapping?.[w.name];
  if (mp) {
    const s = shipped.stats;
    const pair = (a: number, b: number): string => `${k(a)} / ${k(b)}`;
    mapRows.push([w.name, pair(mp.misses, s.mapping_misses), pair(mp.translation_reads, s.mapping_reads), pair(mp.misses_without_read, s.mapping_held), pair(mp.writebacks, s.mapping_writebacks)]);
  }
}
console.log(t.toString());
console.log('with read_dispatch: reserve (each read given its time when issued, as every other preset; the preset dispatches reads on events):');
const et = table(['workload', 'copylab shipped', 'ratio', 'copylab ideal', 'ratio'], ['left', 'right', 'right', 'right', 'right']);
for (const r of reserveRows) et.push(r);
console.log(et.toString());
if (mapRows.length) {
  console.log('mapping cache, shipped (MQSim / copylab): misses, translation reads (write-backs\' included), misses served from a written-back page, write-backs');
  const mt = table(['workload', 'misses', 'translation reads', 'without a read', 'write-backs'], ['left', 'right', 'right', 'right', 'right']);
  for (const r of mapRows) mt.push(r);
  console.log(mt.toString());
}
console.log(`${14 - off} of 14 within 15% ('!': off by more); docs/timing.md, "Against MQSim", says what differs where they are not`);

/**
 * One job of bench/jobs/mqsim/peer.fio through `copylab bench`'s engine on a fresh lab, on
 * `device` (nullb0: the shipped mapping cache; nullb1: ideal): its IOPS over its modeled runtime.
 */
async function viaBench(job: string, device: string): Promise<{ iops: number; wallS: number }> {
  const lab = buildLab(loadScenario(join(PACKAGE_ROOT, 'bench/jobs/mqsim/lab.yaml')));
  try {
    const spec = loadJobFiles([join(PACKAGE_ROOT, 'bench/jobs/mqsim/peer.fio')]).find((j) => j.name === job);
    if (!spec) throw new Error(`bench/jobs/mqsim/peer.fio has no job ${job}`);
    const w0 = performance.now();
    const [run] = await runJobs([{ ...spec, filename: `/dev/${device}`, group: 0 }], { lab, modeled: modeledClockOf(lab), timed: (dev) => timedDevice(lab, dev) });
    const d = run!.dirs[spec.rw.includes('write') ? 'write' : 'read'];
    const seconds = (run!.modeled_runtime_ns ?? NaN) / 1e9;
    if (run!.error || !(seconds > 0)) throw new Error(`${job} on ${device}: ${run!.errorMessage || 'no modeled runtime'}`);
    return { iops: d.ios / seconds, wallS: (performance.now() - w0) / 1000 };
  } finally {
    await lab.close();
  }
}

if (!process.argv.includes('--closed-loop-only')) {
  console.log('\nthrough copylab bench (bench/jobs/mqsim/peer.fio on bench/jobs/mqsim/lab.yaml: ring, block layer, timed nullblk; 5 modeled s per job, a fresh lab each):');
  const bt = table(['workload', 'MQSim shipped', 'copylab bench', 'ratio', 'MQSim ideal', 'copylab bench', 'ratio', 'wall'], ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
  let benchOff = 0;
  for (const w of PEER_WORKLOADS) {
    const p = peer[w.name]!;
    if (process.stderr.isTTY) process.stderr.write(`  ${w.name} …\x1b[K\r`);
    const s = await viaBench(w.name, 'nullb0');
    const i = await viaBench(w.name, 'nullb1');
    const rs = s.iops / p.shipped.iops;
    const ri = i.iops / p.ideal.iops;
    benchOff += Number(Math.abs(rs - 1) > 0.15) + Number(Math.abs(ri - 1) > 0.15);
    bt.push([w.name, k(p.shipped.iops), k(s.iops), mark(rs), k(p.ideal.iops), k(i.iops), mark(ri), `${(s.wallS + i.wallS).toFixed(1)} s`]);
  }
  if (process.stderr.isTTY) process.stderr.write('\x1b[K');
  console.log(bt.toString());
  console.log(`${14 - benchOff} of 14 within 15% through copylab bench`);
}
