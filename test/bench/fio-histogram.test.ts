import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIO_IO_U_PLAT_NR, FioHistogram, platIdxToVal, platValToIdx } from '../../src/app/bench/fio-histogram.js';
import { FioDist } from '../../src/app/bench/fio-dist.js';
import { IoStat } from '../../src/app/bench/io-stat.js';

describe("fio's latency buckets", () => {
  it('keeps values below 128 ns exactly and names every other bucket by its middle', () => {
    for (let v = 0; v < 128; v++) expect(platIdxToVal(platValToIdx(v))).toBe(v);
    expect(platValToIdx(128)).toBe(128);
    expect(platIdxToVal(128)).toBe(129);
    // The last bucket: the value fio_jsonplus_clat2csv starts its search from.
    expect(platIdxToVal(FIO_IO_U_PLAT_NR - 1)).toBe(17112760320);
    expect(platValToIdx(3600e9)).toBe(FIO_IO_U_PLAT_NR - 1);
    // Every value lands in the bucket whose range holds it: its reported value is within 1/128 of it.
    for (const v of [1000, 4097, 65_535, 1e6, 123_456_789, 2 ** 33 + 5]) {
      const back = platIdxToVal(platValToIdx(v));
      expect(Math.abs(back - v) / v).toBeLessThanOrEqual(1 / 128);
    }
  });

  it('names the buckets fio 3.33 names: each bins key of a real fio json+ run is a bucket value here', () => {
    const dir = mkdtempSync(join(tmpdir(), 'copylab-fio-bins-'));
    const data = join(dir, 'data');
    writeFileSync(data, new Uint8Array(1024 * 1024));
    const out = join(dir, 'o.json');
    const r = spawnSync('fio', ['--name=bins', '--ioengine=psync', `--filename=${data}`, '--size=1m', '--bs=4k', '--rw=randread', '--io_size=4m', '--output-format=json+', `--output=${out}`], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    const bins = JSON.parse(readFileSync(out, 'utf8')).jobs[0].read.clat_ns.bins as Record<string, number>;
    const keys = Object.keys(bins).map(Number);
    expect(keys.length).toBeGreaterThan(3);
    for (const k of keys) expect(platIdxToVal(platValToIdx(k))).toBe(k);
  });

  it('computes percentiles as fio does and writes bins in increasing order', () => {
    const h = new FioHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i * 1000);
    const [p50, p99] = h.percentiles([50, 99]);
    expect(platValToIdx(p50!)).toBe(platValToIdx(500_000));
    expect(platValToIdx(p99!)).toBe(platValToIdx(990_000));
    const keys = Object.keys(h.bins()).map(Number);
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
    expect(Object.values(h.bins()).reduce((a, b) => a + b, 0)).toBe(1000);
  });
});

describe("fio's distributions and sample statistics", () => {
  it('puts latencies in the bucket below their key, as io_u_mark_latency does', () => {
    const d = new FioDist();
    for (const ns of [1, 3, 999, 1000, 1999, 2000, 999_999, 1e6, 1_999_999, 2e9]) d.markLatency(ns);
    const j = d.toJson();
    expect(j.latency_ns).toMatchObject({ '2': 10, '4': 10, '1000': 10 });
    expect(j.latency_us).toMatchObject({ '2': 20, '4': 10, '1000': 10 });
    expect(j.latency_ms).toMatchObject({ '2': 20, '>=2000': 10 });
  });

  it('keys depths and batches as fio does, a non-empty bucket at least 0.1%', () => {
    const d = new FioDist();
    d.markDepth(8, 999);
    d.markDepth(64, 1);
    d.markSubmit(4);
    d.markSubmit(65);
    d.markComplete(0);
    expect(d.toJson().iodepth_level).toEqual({ '1': 0, '2': 0, '4': 0, '8': 99.9, '16': 0, '32': 0, '>=64': 0.1 });
    expect(d.toJson().iodepth_submit).toMatchObject({ '4': 50, '>=64': 50 });
    expect(d.toJson().iodepth_complete).toMatchObject({ '0': 100 });
  });

  it('io_stat: mean and sample standard deviation; group_reporting adds jobs up', () => {
    const s = new IoStat();
    for (const v of [2, 4, 4, 4, 5, 5, 7, 9]) s.add(v);
    expect(s.mean).toBe(5);
    expect(s.dev).toBeCloseTo(Math.sqrt(32 / 7), 12);
    const t = new IoStat();
    t.add(10);
    t.pureSum(s);
    expect([t.min, t.max, t.mean, t.samples]).toEqual([12, 19, 15, 9]);
  });
});
