import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { scenarioSchema, explainEntries, findExplained, formatExplained } from '../../src/app/scenario/schema.js';
import { parseScenario, parseStepsText } from '../../src/app/scenario/parse.js';
import { DEFAULT_SCENARIO_YAML } from '../../src/app/scenario/default-lab.js';
import { DEVICE_KINDS, STEP_KINDS } from '../../src/app/scenario/registry.js';
import { QUEUE_ATTR_DOCS } from '../../src/core/sysfs/queue-attr-docs.js';
import { buildLab } from '../../src/app/scenario/run.js';
import { scenarioFrom } from '../../src/app/cli/common.js';

const copylab = (...args: string[]) => spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 30_000 });

// A real JSON Schema validator (ajv, draft 2020-12) judges the schema copylab prints.
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(JSON.parse(copylab('schema').stdout));

const examples = readdirSync('examples').filter((f) => f.endsWith('.yaml'));

describe('the scenario schema', () => {
  it('copylab schema prints the schema the package ships (scenario.schema.json), generated from the parser\'s declarations', () => {
    const shipped = JSON.parse(readFileSync('scenario.schema.json', 'utf8'));
    expect(shipped).toEqual(scenarioSchema());
    expect(JSON.parse(readFileSync('package.json', 'utf8')).files).toContain('scenario.schema.json');
  });

  it.each(examples)('validates examples/%s (and the parser accepts it too)', (f) => {
    const doc = parseYaml(readFileSync(`examples/${f}`, 'utf8'));
    const ok = validate(doc);
    expect(ok, JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(() => parseScenario(doc, f)).not.toThrow();
  });

  it('validates the default lab', () => {
    expect(validate(parseYaml(DEFAULT_SCENARIO_YAML))).toBe(true);
  });

  it('rejects a file with an unknown key at any level, as the parser does', () => {
    const base = parseYaml(readFileSync('examples/quickstart.yaml', 'utf8')) as { devices: Record<string, unknown>[]; steps: Record<string, Record<string, unknown>>[] };
    const bad = [
      { ...base, steps_typo: [] },
      { ...base, devices: [{ ...base.devices[0], copy_max_hw_byte: 0 }] },
      { ...base, steps: [{ copy: { dev: '/dev/nullb0', rangez: [] } }] },
      { ...base, steps: [{ copy: { dev: '/dev/nullb0', ranges: [{ src: 0, dst: 0, length: 1, len: 2 }] } }] },
      { ...base, steps: [{ frobnicate: {} }] },
      { ...base, lab: { fallbak: true } },
    ];
    for (const doc of bad) {
      expect(validate(doc)).toBe(false);
      expect(() => parseScenario(doc)).toThrow(/unknown (key|step)|expected one of|expected a mapping/);
    }
  });

  it('rejects values of the wrong type: a bad size, an unknown device kind, a bad enum', () => {
    const dev = { kind: 'nullblk', name: 'nullb0', size: '64MiB' };
    expect(validate({ devices: [dev] })).toBe(true);
    expect(validate({ devices: [{ ...dev, size: '4KB2' }] })).toBe(false);
    expect(validate({ devices: [{ ...dev, kind: 'floppy' }] })).toBe(false);
    expect(validate({ devices: [{ ...dev, lbs: 1024 }] })).toBe(false);
    expect(validate({ devices: [dev], steps: [{ copy: { dev: '/dev/nullb0', ranges: [] }, fill: {} }] })).toBe(false);
  });

  it('every step, device and key has a description; every registered plug-in is in the schema', () => {
    const schema = scenarioSchema() as { properties: { steps: { items: { oneOf: { required: string[] }[] } }; devices: { items: { oneOf: unknown[] } } } };
    expect(schema.properties.steps.items.oneOf.map((s) => s.required[0])).toEqual(STEP_KINDS.map((s) => s.kind));
    expect(schema.properties.devices.items.oneOf).toHaveLength(DEVICE_KINDS.length);
    for (const e of explainEntries()) expect((e.key?.description ?? e.object?.description ?? '').length, e.path).toBeGreaterThan(3);
  });

  it('the example explain prints for every step parses against the default lab', () => {
    const doc = parseYaml(DEFAULT_SCENARIO_YAML) as { devices: { kind: string }[] };
    const lab = parseScenario(doc);
    const names = new Map<string, string>([['mapper/lin', 'dm'], ['dm-0', 'dm']]);
    lab.devices.forEach((d, i) => d.provides.forEach((n) => names.set(n, doc.devices[i]!.kind)));
    for (const s of STEP_KINDS) {
      const text = formatExplained(findExplained(`steps.${s.kind}`)[0]!);
      const ex = /example: {2}(.*)/.exec(text)![1]!;
      expect(() => parseStepsText(ex, names, s.kind), ex).not.toThrow();
    }
  });
});

describe('copylab explain', () => {
  it('prints a key\'s meaning, type, default and example', () => {
    const r = copylab('explain', 'copy_max_hw_bytes');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/devices\.nullblk\.copy_max_hw_bytes\n {2}longest copy the device takes per command/);
    expect(r.stdout).toMatch(/type: +size/);
    expect(r.stdout).toMatch(/default: +128MiB/);
    expect(r.stdout).toMatch(/example: +copy_max_hw_bytes: 1MiB/);
  });

  it('explains a step and a device kind with their keys; an unknown name exits 2 with the nearest one', () => {
    const step = copylab('explain', 'fault');
    expect(step.stdout).toMatch(/^step fault\n/);
    expect(step.stdout).toMatch(/ op +one of read, write/);
    expect(copylab('explain', 'nvme').stdout).toMatch(/device kind nvme[\s\S]*step nvme/);
    const bad = copylab('explain', 'cdef');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/did you mean 'cdfe'/);
  });
});

describe('copylab explain: sysfs queue attributes', () => {
  it('every queue attribute a device shows is explained; explain prints its meaning, mode and how to read and write it', async () => {
    const lab = buildLab(scenarioFrom(undefined));
    try {
      for (const dev of ['nullb0', 'nvme0n2', 'sda', 'dm-0']) {
        for (const e of lab.sysfs.ls(`/sys/block/${dev}/queue`).entries!) {
          expect(QUEUE_ATTR_DOCS[e.name], `${dev}/queue/${e.name}`).toBeDefined();
          expect(QUEUE_ATTR_DOCS[e.name]!.mode, `${dev}/queue/${e.name}`).toBe(e.mode);
        }
      }
    } finally {
      await lab.close();
    }
    const r = copylab('explain', 'copy_max_bytes');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^sysfs \/sys\/block\/<dev>\/queue\/copy_max_bytes \(read-write; from the copy-offload series\)\n {2}the longest copy/);
    expect(r.stdout).toMatch(/write: +copylab sysfs write \/sys\/block\/nullb0\/queue\/copy_max_bytes VALUE/);
    // A name that is both a scenario key and an attribute: both.
    expect(copylab('explain', 'copy_max_hw_bytes').stdout).toMatch(/devices\.nullblk\.copy_max_hw_bytes[\s\S]*\n\nsysfs \/sys\/block\/<dev>\/queue\/copy_max_hw_bytes \(read-only/);
    expect(copylab('explain', '/sys/block/dm-0/queue/copy_offload_to').stdout).toMatch(/^sysfs .*copy_offload_to \(read-only; copylab's own\)/);
  });

  it('a near miss gets a did-you-mean, scenario keys and sysfs attributes alike (exit 2)', () => {
    const r = copylab('explain', 'copy_max_byte');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("copylab: explain: no scenario key, step, device or sysfs attribute named 'copy_max_byte' (did you mean 'copy_max_bytes'?); steps and devices are listed by `copylab explain steps` and `copylab explain devices`, sysfs attributes by `copylab sysfs ls /sys/block/nullb0/queue`\n");
    expect(copylab('explain', '/sys/block/nullb0/queue/max_sector_kb').stderr).toMatch(/did you mean 'max_sectors_kb'/);
    expect(copylab('explain', 'zzzzzzzz').stderr).not.toMatch(/did you mean/);
  });
});
