/**
 * Bench charts answer the questions a sweep asks: bandwidth, IOPS and mean and p99 latency
 * against block size and against queue depth, one chart per dimension swept, copies split into
 * offloaded and emulated, each curve named once in its chart's legend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { XMLValidator } from 'fast-xml-parser';
import { buildLab } from '../../src/app/scenario/run.js';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { runBench } from '../../src/app/bench/run-bench.js';
import type { FioResult } from '../../src/app/bench/result.js';
import { plotRows, renderResultsSvg, resultsSpec } from '../../src/app/plot/plot.js';
import { benchSweeps } from '../../src/app/plot/bench-sweeps.js';
import { SWEEP_TITLE } from '../../src/app/plot/bench-charts.js';
import { chartTitles, legendLabels } from '../svg-legends.js';

// Modeled time (a timing model on both devices): the figures are the same on every run.
const LAB = `
devices:
  - { kind: nullblk, name: nullb0, size: 16MiB, lbs: 4096, backing: memory, copy_max_hw_bytes: 8MiB, domain: d, timing: { preset: nvmevirt-zns } }
  - { kind: nullblk, name: nullb1, size: 16MiB, lbs: 4096, backing: memory, copy_max_hw_bytes: 0, timing: { preset: nvmevirt-zns } }
steps: []
`;
// Copies offloaded (nullb0) and emulated (nullb1) at two sizes, QD 1; random reads at two depths.
const JOBS = `[global]
size=8m
io_size=256k
stonewall
[off-4k]
filename=/dev/nullb0
rw=copy
bs=4k
[emu-4k]
filename=/dev/nullb1
rw=copy
bs=4k
[off-64k]
filename=/dev/nullb0
rw=copy
bs=64k
[emu-64k]
filename=/dev/nullb1
rw=copy
bs=64k
[rr-qd1]
filename=/dev/nullb0
rw=randread
bs=4k
iodepth=1
[rr-qd8]
filename=/dev/nullb0
rw=randread
bs=4k
iodepth=8
`;

let result: FioResult;
let svg: string;
beforeAll(async () => {
  const lab = buildLab(parseScenarioText(LAB, 'plot lab'));
  try {
    result = await runBench(lab, JOBS);
  } finally {
    await lab.close();
  }
  svg = await renderResultsSvg(result, 'sweeps');
});

describe('bench charts', () => {
  it('finds a block-size sweep of offloaded and emulated copies and a queue-depth sweep of random reads', () => {
    const sweeps = benchSweeps(plotRows(result));
    expect(sweeps.map((s) => s.dim)).toEqual(['bs', 'iodepth']);
    const [bs, qd] = sweeps;
    const curves = (points: readonly { series: string; bs: number; iodepth: number }[], dim: 'bs' | 'iodepth') => Object.fromEntries([...new Set(points.map((p) => p.series))].map((s) => [s, points.filter((p) => p.series === s).map((p) => p[dim])]));
    expect(curves(bs!.points, 'bs')).toEqual({ 'copy offloaded QD1': [4096, 65536], 'copy emulated QD1': [4096, 65536] });
    expect(curves(qd!.points, 'iodepth')).toEqual({ 'randread 4k': [1, 8] });
    // Each point carries what the panels draw, from the job's own figures.
    for (const p of [...bs!.points, ...qd!.points]) {
      const job = result.jobs.find((j) => j.jobname === p.job)!;
      const d = p.series.startsWith('copy') ? job.copy : job.read;
      expect(p).toMatchObject({ iops: d.iops, bw_mib: d.bw_bytes / 2 ** 20, mean_us: d.clat_ns.mean / 1000, p99_us: d.clat_ns.percentile!['99.000000']! / 1000 });
      expect(p.mean_us).toBeGreaterThan(0);
    }
  });

  it('draws one chart per dimension with bandwidth, IOPS and mean and p99 latency panels', () => {
    const spec = resultsSpec(result, 'sweeps') as { vconcat: { title: string; hconcat: { title: string; encoding: { y: { field: string }; strokeDash?: { scale: { domain: string[] } } } }[] }[] };
    expect(spec.vconcat.map((c) => c.title)).toEqual([SWEEP_TITLE.bs, SWEEP_TITLE.iodepth]);
    for (const chart of spec.vconcat) {
      expect(chart.hconcat.map((p) => p.encoding.y.field)).toEqual(['bw_mib', 'iops', 'us']);
      expect(chart.hconcat[2]!.encoding.strokeDash!.scale.domain).toEqual(['mean', 'p99']);
    }
    expect(XMLValidator.validate(svg)).toBe(true);
    const titles = chartTitles(svg);
    for (const t of [SWEEP_TITLE.bs, SWEEP_TITLE.iodepth, 'bandwidth (MiB/s)', 'IOPS', 'completion latency (µs)']) expect(titles).toContain(t);
  });

  it('names each curve once per legend: the copy paths in the block-size chart, the read in the depth chart', () => {
    const labels = legendLabels(svg);
    expect(labels.filter((l) => l === 'copy offloaded QD1')).toHaveLength(1);
    expect(labels.filter((l) => l === 'copy emulated QD1')).toHaveLength(1);
    expect(labels.filter((l) => l === 'randread 4k')).toHaveLength(1);
    // The latency statistics' dashes have one legend for the picture.
    expect(labels.filter((l) => l === 'p99')).toHaveLength(1);
    expect(labels).not.toContain('randread QD1');
  });

  it('results without a sweep are drawn against block size, a point per job', () => {
    const one = { ...result, jobs: result.jobs.filter((j) => j.jobname === 'rr-qd8') };
    const sweeps = benchSweeps(plotRows(one));
    expect(sweeps).toHaveLength(1);
    expect(sweeps[0]!.dim).toBe('bs');
    expect(sweeps[0]!.points.map((p) => p.series)).toEqual(['randread QD8']);
  });
});
