import { describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import { Prng } from '../../src/core/util/prng.js';
import { ZipfSampler } from '../../src/app/gc/zipf.js';
import { makeWorkload, parseZoned, WorkloadError } from '../../src/app/gc/workload.js';
import { decodeTrace, encodeTrace, TraceFileError } from '../../src/app/gc/trace-file.js';
import { importBlkparse } from '../../src/app/gc/blkparse.js';
import { Sit, SectionState } from '../../src/app/gc/sit.js';
import { CostBenefit, Greedy } from '../../src/app/gc/policies.js';
import { accountPlan, newPathCounters, DEFAULT_PATH_LIMITS } from '../../src/app/gc/paths.js';
import { newMovePlan } from '../../src/app/gc/lfs.js';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { runScenario } from '../../src/app/scenario/run.js';

describe('workloads', () => {
  it('zipf: rank 1 is drawn with the probability 1/H(n,θ) says', () => {
    const n = 1000;
    const z = new ZipfSampler(n, 1.2);
    const rng = new Prng(3);
    let ones = 0;
    const draws = 200_000;
    for (let i = 0; i < draws; i++) {
      const k = z.sample(rng);
      expect(k >= 1 && k <= n).toBe(true);
      if (k === 1) ones++;
    }
    let h = 0;
    for (let k = 1; k <= n; k++) h += k ** -1.2;
    expect(ones / draws).toBeCloseTo(1 / h, 2);
  });
  it("fio's zoned: syntax: shares must sum to 100, 90% of writes land in the first 10%", () => {
    expect(parseZoned('zoned:60/10:30/20:10/70')).toHaveLength(3);
    expect(() => parseZoned('zoned:60/10:30/20')).toThrow(WorkloadError);
    expect(() => parseZoned('zoned:abc')).toThrow(WorkloadError);
    const w = makeWorkload('zoned:90/10:10/90', 10_000, 1);
    let hot = 0;
    for (let i = 0; i < 100_000; i++) if (w.next() < 1000) hot++;
    expect(hot / 100_000).toBeCloseTo(0.9, 1);
  });
  it('unknown workloads and bad θ are refused', () => {
    expect(() => makeWorkload('pareto:0.5', 100, 1)).toThrow(/unknown workload/);
    expect(() => makeWorkload('zipf:0', 100, 1)).toThrow(/zipf/);
  });
});

describe('trace file', () => {
  it('round-trips through MessagePack and rejects what is not one', () => {
    const t = { op: Uint8Array.from([0, 2, 1]), lba: Uint32Array.from([5, 2 ** 32 - 1, 7]), blocks: Uint32Array.from([1, 2, 3]) };
    const back = decodeTrace(encodeTrace(t));
    expect([...back.lba]).toEqual([...t.lba]);
    expect([...back.blocks]).toEqual([...t.blocks]);
    expect(() => decodeTrace(Uint8Array.from([0xc1]))).toThrow(TraceFileError);
    expect(() => decodeTrace(pack({ format: 'other' }))).toThrow(/not a copylab-gc-trace/);
    expect(() => decodeTrace(pack({ format: 'copylab-gc-trace', version: 1, block_bytes: 4096, op: Uint8Array.from([7]), lba: new Uint8Array(4), blocks: new Uint8Array(4) }))).toThrow(/op 7/);
    expect(() => decodeTrace(pack({ format: 'copylab-gc-trace', version: 1, block_bytes: 4096, op: Uint8Array.from([0, 0]), lba: new Uint8Array(4), blocks: new Uint8Array(8) }))).toThrow(/one little-endian u32/);
  });
  it('blkparse: queued events become requests on 4 KiB blocks', () => {
    const { trace: t } = importBlkparse(['  8,0    3        1     0.000000000   697  Q  WS 3 + 8 [kworker/3:1]', '  8,0    3        2     0.000001000   697  C  WS 3 + 8 [0]', '  8,0    3        3     0.000002000   697  Q   D 16 + 16 [fstrim]'].join('\n'));
    expect([...t.op]).toEqual([0, 2]);
    expect([...t.lba]).toEqual([0, 2]); // sectors 3..10 touch blocks 0 and 1; 16..31 are blocks 2 and 3
    expect([...t.blocks]).toEqual([2, 2]);
  });
  it('blkparse: events of other actions are left out; unusable lines are counted, the first named', () => {
    const r = importBlkparse(['  8,0    3        1     0.000000000   697  C  WS 3 + 8 [0]', 'Total (8,0):', '  8,0    3        2     0.000000000   697  Q  W 34359738368 + 64 [x]', '  8,0    3        3     0.000000000   697  Q  R 0 + 8 [x]'].join('\n'));
    expect([...r.trace.op]).toEqual([1]);
    expect(r.otherActions).toBe(1);
    expect(r.skipped).toBe(2);
    expect(r.firstSkipped).toEqual({ line: 2, why: 'not a blkparse event', text: '"Total (8,0):"' });
    expect(importBlkparse('  8,0 3 2 0.1 697 Q W 34359738368 + 8 [x]').firstSkipped?.why).toBe('past the 2^32 blocks a trace holds');
  });
});

describe('victim policies (fs/f2fs/gc.c)', () => {
  const sit = (valid: number[], mtime: number[]): Sit => {
    const s = new Sit(valid.length, 512);
    valid.forEach((v, i) => {
      for (let b = 0; b < v; b++) s.validate(i * 512 + b, i, 0);
      s.mtime[i] = mtime[i]!;
      s.state[i] = SectionState.FULL;
      s.insertFull(i);
    });
    return s;
  };
  it('greedy takes the fewest valid blocks; cost-benefit weighs age: an old 60%-valid section before a new 50% one', () => {
    const s = sit([400, 256, 307, 511], [50, 1000, 10, 0]);
    expect(new Greedy().select(s)).toBe(1);
    // u 50 age 0 (newest) → benefit 0; u 59 age ≈99 → benefit 100·41·99/159 > 0.
    expect(new CostBenefit().select(s)).toBe(2);
  });
});

describe('path accounting', () => {
  it('counts a read per run and a write per extent (host), copies cut by the copy limits, one compaction per destination zone', () => {
    const plan = newMovePlan(512);
    // 300 valid blocks in runs of 3 with gaps; destination 300 blocks from 100 in one section.
    let n = 0;
    for (let r = 0; r < 100; r++) for (let k = 0; k < 3; k++) plan.src[n++] = r * 5 + k;
    for (let i = 0; i < n; i++) plan.dst[i] = 512 + 100 + i;
    plan.count = n;
    const host = newPathCounters();
    accountPlan('host', plan, DEFAULT_PATH_LIMITS, host);
    expect(host).toMatchObject({ reads: 100, writes: 3, host_bytes: 2 * 300 * 4096 });
    const copy = newPathCounters();
    accountPlan('copy', plan, DEFAULT_PATH_LIMITS, copy);
    expect(copy.copies).toBe(3); // 128 blocks per command
    expect(copy.host_bytes).toBe(0);
    const izc = newPathCounters();
    accountPlan('izc', plan, DEFAULT_PATH_LIMITS, izc);
    expect(izc.compactions).toBe(1);
  });
});

describe('gc scenario step', () => {
  it('runs on a scenario device and fails an expectation it does not meet', async () => {
    const s = parseScenarioText(
      `devices:
  - { kind: nullblk, name: nullb0, size: 64MiB, lbs: 4096, backing: memory }
steps:
  - gc: { dev: /dev/nullb0, path: copy, spare_factor: 0.25, overwrites: 0.5, expect: { host_bytes: 0, min_victims: 1 } }
  - gc: { dev: /dev/nullb0, path: host, spare_factor: 0.25, overwrites: 0.5, expect: { waf_max: 1.0 } }
`,
      't',
    );
    const r = await runScenario(s);
    expect(r.steps[0]).toMatchObject({ ok: true, host_bytes: 0 });
    expect(r.steps[1]!.ok).toBe(false);
    expect(r.steps[1]!.message).toMatch(/WAF [\d.]+ > 1/);
  }, 300_000);
  it('refuses unknown keys and paths with the key named', () => {
    expect(() => parseScenarioText('devices:\n  - { kind: nullblk, name: nullb0, size: 64MiB }\nsteps:\n  - gc: { dev: /dev/nullb0, path: warp }\n', 't')).toThrow(/path/);
    expect(() => parseScenarioText('devices:\n  - { kind: nullblk, name: nullb0, size: 64MiB }\nsteps:\n  - gc: { dev: /dev/nullb0, speed: 1 }\n', 't')).toThrow(/speed/);
  });
});
