import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { runScenario, ScenarioError } from '../../../src/app/scenario/run.js';
import { parseScenarioText, parseScenarioText as parse } from '../../../src/app/scenario/parse.js';

describe('nvme scenario device and step', () => {
  it('runs the example: offload, emulation until CDFE, raw Copy/Zone Append statuses', async () => {
    const report = await runScenario(parseScenarioText(readFileSync('examples/nvme-copy-zns.yaml', 'utf8')));
    expect(report.steps.filter((s) => !s.ok)).toEqual([]);
    expect(report.steps[7]!.details).toMatchObject({ status: 0x0183 });
    expect(report.steps[8]!.details).toMatchObject({ status: 0, dw0: 256 });
  });

  it('fails a step whose status differs, and names bad keys', async () => {
    const s = parse(`
devices: [ { kind: nvme, name: nvme0, namespaces: [ { size: 1MiB } ] } ]
steps:
  - nvme: { dev: /dev/nvme0n1, opcode: 0x7f, expect: { status: 0 } }
`);
    const r = await runScenario(s);
    expect(r.ok).toBe(false);
    expect(r.steps[0]!.message).toMatch(/INVALID_OPCODE \(0x0001\)/);
    expect(() => parse(`devices: [ { kind: nvme, name: nvme0, namespaces: [ { size: 1MiB, msrc: 300 } ] } ]`)).toThrow(ScenarioError);
    expect(() => parse(`devices: [ { kind: nvme, name: disk, namespaces: [] } ]`)).toThrow(/nvme<N>/);
    expect(() => parse(`
devices: [ { kind: nvme, name: nvme0, namespaces: [ { size: 1MiB } ] } ]
steps: [ { nvme: { dev: /dev/nvme1, opcode: 1 } } ]`)).toThrow(/unknown NVMe controller/);
  });
});
