import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { runScenario, ScenarioError } from '../../src/app/scenario/run.js';
import { DEFAULT_SCENARIO_YAML } from '../../src/app/scenario/default-lab.js';

const DEVS = `devices:
  - { kind: nullblk, name: nullb0, size: 16MiB, lbs: 4096, copy_max_hw_bytes: 1MiB, domain: d0 }
`;

async function run(text: string) {
  return runScenario(parseScenarioText(text));
}

describe('scenario runner', () => {
  it('runs the built-in default lab with every expectation met', async () => {
    const report = await run(DEFAULT_SCENARIO_YAML);
    const failed = report.steps.filter((s) => !s.ok);
    expect(failed).toEqual([]);
    const paths = report.steps.filter((s) => s.kind === 'copy').map((s) => s.path);
    expect(paths).toEqual(expect.arrayContaining(['offload', 'emulated', 'mixed', 'none']));
  });

  it('returns the report only (its lab is closed); with keepOpen the lab comes back open, holding what the steps wrote', async () => {
    const text = `${DEVS}steps:
  - fill: { dev: /dev/nullb0, offset: 0, length: 4KiB, seed: 7 }
`;
    const closed = await runScenario(parseScenarioText(text));
    expect(closed.ok).toBe(true);
    expect('lab' in closed).toBe(false);
    const open = await runScenario(parseScenarioText(text), { keepOpen: true });
    try {
      const back = await open.lab.read('/dev/nullb0', 0, 4096);
      expect(back.some((x) => x !== 0)).toBe(true);
    } finally {
      await open.lab.close();
    }
  });

  it('runs every example scenario with every expectation met', async () => {
    const files = readdirSync('examples').filter((f) => f.endsWith('.yaml'));
    expect(files).toContain('quickstart.yaml');
    for (const f of files) {
      const report = await run(readFileSync(`examples/${f}`, 'utf8'));
      expect(report.steps.filter((s) => !s.ok), f).toEqual([]);
    }
  });

  it('a failed expectation marks the step and the report not ok, and the run goes on', async () => {
    const report = await run(`${DEVS}steps:
  - copy: { dev: /dev/nullb0, ranges: [ { src: 0, dst: 8MiB, length: 2MiB } ], expect: { path: emulated, pieces: 3 } }
  - verify: { dev: /dev/nullb0, offset: 0, length: 4KiB, seed: 1 }
  - verify: { dev: /dev/nullb0, offset: 0, length: 4KiB, zero: true }
  - copy: { dev: /dev/nullb0, ranges: [ { src: 0, dst: 4KiB, length: 8KiB } ] }
`);
    expect(report.ok).toBe(false);
    expect(report.steps.map((s) => s.ok)).toEqual([false, false, true, false]);
    expect(report.steps[0]!.message).toMatch(/expected path emulated, got offload; expected 3 pieces, got 2/);
    expect(report.steps[1]!.message).toMatch(/mismatch against pattern seed 1 at device offset 0/);
    expect(report.steps[3]!.message).toMatch(/failed with EINVAL/);
  });

  it('fault steps make the next copy fall back, and --trace output explains it', async () => {
    const report = await runScenario(parseScenarioText(`${DEVS}steps:
  - fill: { dev: /dev/nullb0, length: 1MiB, seed: 3 }
  - fault: { dev: /dev/nullb0, op: copy, errno: EIO }
  - copy: { dev: /dev/nullb0, ranges: [ { src: 0, dst: 8MiB, length: 1MiB } ], expect: { path: emulated, host_bytes: 2MiB } }
  - verify: { dev: /dev/nullb0, offset: 8MiB, length: 1MiB, seed: 3, pattern_offset: 0 }
  - fault: { dev: /dev/nullb0, op: copy, errno: EIO }
  - copy: { dev: /dev/nullb0, fallback: false, ranges: [ { src: 0, dst: 12MiB, length: 1MiB } ], expect: { errno: EIO } }
`), { trace: true });
    expect(report.steps.map((s) => s.ok)).toEqual([true, true, true, true, true, true]);
    expect(report.steps[2]!.trace).toMatch(/offload_failed/);
    expect(report.steps[2]!.reason).toMatch(/fell back/);
  });

  it('discard, write_zeroes, flush and read steps', async () => {
    const report = await run(`${DEVS}steps:
  - fill: { dev: /dev/nullb0, length: 1MiB, seed: 3 }
  - discard: { dev: /dev/nullb0, offset: 0, length: 64KiB }
  - write_zeroes: { dev: /dev/nullb0, offset: 64KiB, length: 64KiB }
  - verify: { dev: /dev/nullb0, offset: 0, length: 128KiB, zero: true }
  - flush: { dev: /dev/nullb0 }
  - read: { dev: /dev/nullb0, offset: 16MiB, length: 4KiB, expect: { errno: EIO } }
  - read: { dev: /dev/nullb0, offset: 0, length: 4KiB }
  - sysfs: { read: /sys/block/nullb0/queue/nope, expect: { errno: ENOENT } }
`);
    expect(report.steps.filter((s) => !s.ok)).toEqual([]);
  });

  describe('scenario errors name the step and key', () => {
    const cases: [string, string, RegExp][] = [
      ['YAML syntax error', 'devices: [ {', /YAML error/],
      ['not a mapping', '- 1\n- 2', /expected a mapping/],
      ['missing devices', 'steps: []', /devices: is required/],
      ['unknown top-level key', `${DEVS}stepz: []`, /unknown key 'stepz'/],
      ['unknown device kind', 'devices: [ { kind: floppy, name: f, size: 1MiB } ]', /devices\[0\]\.kind: expected one of nullblk/],
      ['bad device size', 'devices: [ { kind: nullblk, name: n, size: 12XB } ]', /devices\[0\]\.size: bad size "12XB"/],
      ['unknown device key', 'devices: [ { kind: nullblk, name: n, size: 1MiB, colour: red } ]', /devices\[0\]: unknown key 'colour'/],
      ['duplicate device', 'devices: [ { kind: nullblk, name: n, size: 1MiB }, { kind: nullblk, name: n, size: 1MiB } ]', /duplicate device n/],
      ['unknown step', `${DEVS}steps: [ { teleport: {} } ]`, /steps\[0\]: unknown step 'teleport'/],
      ['two step kinds in one', `${DEVS}steps: [ { fill: {}, copy: {} } ]`, /exactly one step kind/],
      ['unknown step key', `${DEVS}steps: [ { fill: { dev: /dev/nullb0, length: 4KiB, seed: 1, colour: 2 } } ]`, /steps\[0\]\.fill: unknown key 'colour'/],
      ['unknown device in a step', `${DEVS}steps: [ { fill: { dev: /dev/nullb7, length: 4KiB, seed: 1 } } ]`, /steps\[0\]\.fill\.dev: unknown device \/dev\/nullb7/],
      ['unknown source device', `${DEVS}steps: [ { copy: { dev: /dev/nullb0, ranges: [ { src_dev: /dev/sdz, src: 0, dst: 0, length: 4KiB } ] } } ]`, /steps\[0\]\.copy\.ranges\[0\]\.src_dev: unknown device/],
      ['bad size in a range', `${DEVS}steps: [ { copy: { dev: /dev/nullb0, ranges: [ { src: lots, dst: 0, length: 4KiB } ] } } ]`, /ranges\[0\]\.src: bad size/],
      ['missing required key', `${DEVS}steps: [ { copy: { dev: /dev/nullb0 } } ]`, /steps\[0\]\.copy\.ranges: is required/],
      ['unknown errno', `${DEVS}steps: [ { copy: { dev: /dev/nullb0, ranges: [], expect: { errno: EWHAT } } } ]`, /unknown errno "EWHAT"/],
      ['bad path expectation', `${DEVS}steps: [ { copy: { dev: /dev/nullb0, ranges: [], expect: { path: teleported } } } ]`, /expect\.path: expected one of/],
      ['sysfs read and write together', `${DEVS}steps: [ { sysfs: { read: /sys/block/nullb0/size, write: /sys/x } } ]`, /exactly one of read or write/],
      ['verify with neither seed nor zero', `${DEVS}steps: [ { verify: { dev: /dev/nullb0, length: 4KiB } } ]`, /either seed .* or zero/],
      ['unknown fault op', `${DEVS}steps: [ { fault: { dev: /dev/nullb0, op: explode } } ]`, /fault\.op: expected one of/],
      ['unknown copy strategy', `lab: { copy_strategy: telepathy }\n${DEVS}`, /lab\.copy_strategy: expected one of vectored/],
      ['bad lab option', `lab: { emulation_buffer: 1 }\n${DEVS}`, /lab: emulationBufferBytes must be/],
      ['device the model refuses', 'devices: [ { kind: nullblk, name: n, size: 1MiB, copy_max_hw_bytes: 1000 } ]', /devices\[0\] \(n\): nullblk n: copy_max_hw_bytes/],
    ];
    for (const [name, text, message] of cases) {
      it(name, async () => {
        await expect(run(text)).rejects.toThrow(ScenarioError);
        await expect(run(text)).rejects.toThrow(message);
      });
    }
  });
});

describe('parallel verify on the worker pool', () => {
  it('verifies a large range on the pool and finds the first mismatch across chunks', async () => {
    const text = `devices:
  - { kind: nullblk, name: nullb0, size: 64MiB, lbs: 4096, backing: memory }
steps:
  - fill: { dev: /dev/nullb0, offset: 0, length: 40MiB, seed: 3 }
  - verify: { dev: /dev/nullb0, offset: 0, length: 40MiB, seed: 3 }
  - write_zeroes: { dev: /dev/nullb0, offset: 36MiB, length: 4KiB }
  - write_zeroes: { dev: /dev/nullb0, offset: 21MiB, length: 4KiB }
  - verify: { dev: /dev/nullb0, offset: 0, length: 40MiB, seed: 3 }
  - verify: { dev: /dev/nullb0, offset: 40MiB, length: 24MiB, zero: true }
`;
    const r = await runScenario(parseScenarioText(text));
    expect(r.steps[1]).toMatchObject({ ok: true, message: expect.stringMatching(/pool thread/) });
    expect(r.steps[4]).toMatchObject({ ok: false, message: `mismatch against pattern seed 3 at device offset ${21 * 1024 * 1024}` });
    expect(r.steps[5]!.ok).toBe(true);
  });
});
