import { describe, expect, it } from 'vitest';
import { Errno } from '../../src/core/util/errno.js';
import { Lab } from '../../src/app/lab.js';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { buildLab, runScenario } from '../../src/app/scenario/run.js';
import { compareStrategies } from '../../src/app/scenario/compare.js';
import { dmLab, create, fill, expectCopied, MiB } from './helpers.js';
import { KiB } from '../helpers.js';

const LIN = '0 4096 linear /dev/nullb0 0\n4096 4096 linear /dev/nullb1 0';

describe('plumbing strategies on the same copy', () => {
  it('paired: a pair that lands on two devices fails with EXDEV and falls back; without fallback the copy fails', async () => {
    const lab = dmLab(2);
    create(lab, 'lin', LIN);
    await fill(lab, '/dev/mapper/lin', 0, MiB, 1);
    const copy = { srcOffset: 0, dstOffset: 3 * MiB, length: 256 * KiB };
    const v = await lab.copy('/dev/mapper/lin', [copy], { strategy: 'vectored' });
    expect(v).toMatchObject({ path: 'offload', host_bytes: 0, strategy: 'vectored' });
    const p = await lab.copy('/dev/mapper/lin', [copy], { strategy: 'paired' });
    expect(p).toMatchObject({ res: 256 * KiB, path: 'emulated', host_bytes: 512 * KiB, strategy: 'paired' });
    expect(p.pieces[0]!.reason?.code).toBe('offload_failed');
    expect(p.reasons[0]).toMatch(/COPY_DST reached nullb1, COPY_SRC reached nullb0/);
    expect(p.trace.events.some((e) => e.action === 'C' && e.res === -Errno.EXDEV)).toBe(true);
    await expectCopied(lab, '/dev/mapper/lin', 3 * MiB, 256 * KiB, 1, 0);
    const strict = await lab.copy('/dev/mapper/lin', [{ ...copy, dstOffset: 3 * MiB + 256 * KiB }], { strategy: 'paired', fallback: false });
    expect(strict.res).toBe(-Errno.EXDEV);
    const t = await lab.copy('/dev/mapper/lin', [copy], { strategy: 'token' });
    expect(t).toMatchObject({ path: 'offload', host_bytes: 0, strategy: 'token' });
  });

  it('paired: a copy bio crossing a target boundary is not split: emulated; within one device it offloads', async () => {
    const lab = dmLab(2);
    create(lab, 'lin', LIN);
    await fill(lab, '/dev/mapper/lin', 0, 4 * MiB, 2);
    const cross = await lab.copy('/dev/mapper/lin', [{ srcOffset: 1536 * KiB, dstOffset: 3 * MiB, length: MiB }], { strategy: 'paired' });
    expect(cross.path).toBe('emulated');
    expect(cross.reasons.join()).toMatch(/crosses a dm-0 target boundary/);
    const inside = await lab.copy('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: 512 * KiB, length: 256 * KiB }], { strategy: 'paired' });
    expect(inside).toMatchObject({ path: 'offload', host_bytes: 0 });
    await expectCopied(lab, '/dev/mapper/lin', 3 * MiB, MiB, 2, 1536 * KiB);
    await expectCopied(lab, '/dev/mapper/lin', 512 * KiB, 256 * KiB, 2, 0);
  });

  it('paired: a bio over the bottom device copy limit fails (no split) and falls back', async () => {
    const lab = dmLab(1);
    create(lab, 'lin', '0 8192 linear /dev/nullb0 0');
    expect(lab.writeSysfs('/sys/block/nullb0/queue/copy_max_bytes', String(64 * KiB)).res).toBeGreaterThan(0);
    await fill(lab, '/dev/mapper/lin', 0, 256 * KiB, 3);
    const r = await lab.copy('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: MiB, length: 256 * KiB }], { strategy: 'paired' });
    expect(r.reasons.join()).toMatch(/copy bios are not split/);
    expect(r.path).toBe('emulated');
    await expectCopied(lab, '/dev/mapper/lin', MiB, 256 * KiB, 3, 0);
    const v = await lab.copy('/dev/mapper/lin', [{ srcOffset: 0, dstOffset: 2 * MiB, length: 256 * KiB }], { strategy: 'vectored' });
    expect(v).toMatchObject({ path: 'offload' });
    expect(v.pieces).toHaveLength(4);
  });

  it('token vs vectored on raid1 legs in two domains: the token names both legs, each destination leg takes the one in its domain', async () => {
    const lab = new Lab();
    for (const [i, d] of ['d0', 'd1', 'd0', 'd1'].entries()) lab.addNullBlk({ name: `nullb${i}`, size: 8 * MiB, lbs: 512, backing: 'memory', domain: d });
    create(lab, 'a', '0 8192 raid raid1 1 0 2 - /dev/nullb0 - /dev/nullb1');
    create(lab, 'b', '0 8192 raid raid1 1 0 2 - /dev/nullb2 - /dev/nullb3');
    await fill(lab, '/dev/mapper/a', 0, MiB, 4);
    const copy = [{ src: '/dev/mapper/a', srcOffset: 0, dstOffset: 0, length: MiB }];
    const v = await lab.copy('/dev/mapper/b', copy, { strategy: 'vectored' });
    expect(v).toMatchObject({ path: 'offload', host_bytes: 0, offloaded_bytes: 2 * MiB });
    const t = await lab.copy('/dev/mapper/b', [{ ...copy[0]!, dstOffset: 2 * MiB }], { strategy: 'token' });
    expect(t).toMatchObject({ path: 'offload', host_bytes: 0, offloaded_bytes: 2 * MiB, emulated_bytes: 0 });
    const picks = t.trace.events.filter((e) => e.action === 'A' && e.info?.startsWith('token: source')).map((e) => e.info);
    expect(picks).toEqual([expect.stringMatching(/^token: source nullb0 \(one of 2 copies\) for nullb2: offloads/), expect.stringMatching(/^token: source nullb1 \(one of 2 copies\) for nullb3: offloads/)]);
    const p = await lab.copy('/dev/mapper/b', [{ ...copy[0]!, dstOffset: 3 * MiB }], { strategy: 'paired' });
    expect(p.reasons.join()).toMatch(/raid1 target does not pass copy bios/);
    for (const leg of ['nullb2', 'nullb3']) for (const at of [0, 2 * MiB, 3 * MiB]) await expectCopied(lab, leg, at, MiB, 4, 0);
  });

  it('plain devices: paired and token give the same bytes; paired fails across devices', async () => {
    const lab = dmLab(2);
    await fill(lab, 'nullb0', 0, MiB, 5);
    const p = await lab.copy('nullb1', [{ src: 'nullb0', srcOffset: 0, dstOffset: 0, length: MiB }], { strategy: 'paired' });
    expect(p.path).toBe('emulated');
    const t = await lab.copy('nullb1', [{ src: 'nullb0', srcOffset: 0, dstOffset: MiB, length: MiB }], { strategy: 'token' });
    expect(t).toMatchObject({ path: 'offload', host_bytes: 0 });
    await expectCopied(lab, 'nullb1', 0, MiB, 5, 0);
    await expectCopied(lab, 'nullb1', MiB, MiB, 5, 0);
  });
});

describe('scenarios with a stack', () => {
  const TEXT = `
lab: { copy_strategy: token }
devices:
  - { kind: nullblk, name: nullb0, size: 8MiB, backing: memory, domain: d0 }
  - { kind: nullblk, name: nullb1, size: 8MiB, backing: memory, domain: d0 }
stack:
  - dm: lin
    table: |
      0 8192 linear /dev/nullb0 0
      8192 8192 linear /dev/nullb1 0
steps:
  - fill:   { dev: /dev/mapper/lin, offset: 0, length: 2MiB, seed: 9 }
  - copy:   { dev: /dev/mapper/lin, ranges: [ { src: 0, dst: 5MiB, length: 1MiB } ], expect: { path: offload } }
  - copy:   { dev: /dev/dm-0, strategy: paired, ranges: [ { src: 1MiB, dst: 6MiB, length: 1MiB } ], expect: { path: emulated } }
  - verify: { dev: /dev/mapper/lin, offset: 5MiB, length: 2MiB, seed: 9, pattern_offset: 0 }
  - dmsetup: { cmd: remove lin }
  - dmsetup: { cmd: remove lin, expect: { errno: ENXIO } }
`;
  it('builds the stack, honours lab and per-copy strategies, runs dmsetup steps', async () => {
    const report = await runScenario(parseScenarioText(TEXT));
    expect(report.steps.map((s) => [s.step, s.ok, s.message ?? ''])).toEqual([[1, true, ''], [2, true, ''], [3, true, ''], [4, true, ''], [5, true, ''], [6, true, 'lin: no such dm device']]);
    expect(report.steps[1]!.details).toMatchObject({ strategy: 'token', offloaded_bytes: MiB });
    expect(report.steps[2]!.details).toMatchObject({ strategy: 'paired', emulated_bytes: MiB });
  });

  it('refuses a bad table naming the stack entry and line', () => {
    const bad = TEXT.replace('8192 8192 linear /dev/nullb1 0', '8192 16385 linear /dev/nullb1 0');
    expect(bad).not.toBe(TEXT);
    const s = parseScenarioText(bad);
    expect(() => buildLab(s)).toThrow(/stack\[0\] \(lin\): lin: line 2: linear: length beyond the underlying device/);
  });

  it('unknown /dev/mapper paths are refused at parse time', () => {
    expect(() => parseScenarioText(TEXT.replace('dev: /dev/mapper/lin, offset: 0', 'dev: /dev/mapper/nope, offset: 0'))).toThrow(/unknown device \/dev\/mapper\/nope/);
  });

  it('compareStrategies lines up each copy step under the three strategies', async () => {
    const cmp = await compareStrategies(parseScenarioText(TEXT));
    expect(cmp.rows.filter((r) => r.step === 2).map((r) => [r.strategy, r.path])).toEqual([['vectored', 'offload'], ['paired', 'emulated'], ['token', 'offload']]);
  });
});
