import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { buildLab, runScenario } from '../../src/app/scenario/run.js';
import { spaceHint } from '../../src/app/scenario/space-hint.js';

const messages = async (yaml: string): Promise<(string | undefined)[]> => (await runScenario(parseScenarioText(yaml))).steps.map((s) => s.message);

describe('ENOSPC names the memory_limit a sparse medium hit, and the key that raises it', () => {
  it('a copy and a fill on a sparse nullblk, a copy through dm-linear, a write to an NVMe namespace', async () => {
    const got = await messages(`
devices:
  - { kind: nullblk, name: nullb0, size: 64MiB, backing: sparse, memory_limit: 32MiB, copy_max_hw_bytes: 1MiB }
  - { kind: nullblk, name: nullb1, size: 64MiB, backing: sparse, memory_limit: 16MiB }
  - kind: nvme
    name: nvme0
    namespaces: [ { size: 64MiB, memory_limit: 8MiB } ]
stack:
  - { dm: lin, table: "0 131072 linear /dev/nullb1 0" }
steps:
  - fill: { dev: /dev/nullb0, offset: 0, length: 20MiB, seed: 1 }
  - copy: { dev: /dev/nullb0, ranges: [ { src: 0, dst: 32MiB, length: 20MiB } ] }
  - copy: { dev: /dev/mapper/lin, ranges: [ { src_dev: /dev/nullb0, src: 0, dst: 0, length: 20MiB } ] }
  - fill: { dev: /dev/nvme0n1, offset: 0, length: 12MiB, seed: 1 }
  - copy: { dev: /dev/nullb0, ranges: [ { src: 0, dst: 60MiB, length: 1MiB } ], expect: { errno: ENOSPC } }
`);
    expect(got[1]).toBe("failed with ENOSPC: nullb0's sparse medium reached its memory_limit of 32MiB (32MiB of chunks written); raise memory_limit on the device entry of nullb0 (e.g. memory_limit: 64MiB, the device's size: every block fits; copylab explain memory_limit)");
    expect(got[2]).toMatch(/^failed with ENOSPC: nullb1's sparse medium reached its memory_limit of 16MiB \(1[56]MiB of chunks written\); raise memory_limit on the device entry of nullb1/);
    expect(got[3]).toMatch(/^write at 8388608 failed with ENOSPC: nvme0n1's sparse medium reached its memory_limit of 8MiB \(8MiB of chunks written\); raise memory_limit on namespace 1 of nvme0 \(e.g. memory_limit: 16MiB;/);
    // Expected ENOSPC: no message.
    expect(got[4]).toBeUndefined();
  });

  it('a device larger than twice its limit is told twice the limit', async () => {
    const got = await messages(`
devices:
  - { kind: nullblk, name: nullb0, size: 1GiB, backing: sparse, memory_limit: 8MiB }
  - { kind: nullblk, name: nullb1, size: 1GiB, backing: memory }
steps:
  - fill: { dev: /dev/nullb0, offset: 0, length: 16MiB, seed: 1 }
`);
    expect(got[0]).toMatch(/^write at 8388608 failed with ENOSPC: nullb0's sparse medium reached its memory_limit of 8MiB .* \(e.g. memory_limit: 16MiB; copylab explain memory_limit\)$/);
  });

  it('no hint where no sparse medium is near its limit: a memory backing, an empty sparse device, a missing path', async () => {
    const lab = buildLab(parseScenarioText('devices:\n  - { kind: nullblk, name: nullb0, size: 64MiB, backing: memory }\n  - { kind: nullblk, name: nullb1, size: 64MiB }\n'));
    try {
      expect(spaceHint(lab, ['/dev/nullb0', '/dev/nullb1', '/dev/nope'])).toBeUndefined();
    } finally {
      await lab.close();
    }
  });

  it('copylab run prints it in the step note; explain memory_limit names the keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'copylab-space-'));
    const file = join(dir, 's.yaml');
    writeFileSync(file, 'devices:\n  - { kind: nullblk, name: nullb0, size: 64MiB, memory_limit: 4MiB }\nsteps:\n  - fill: { dev: /dev/nullb0, offset: 0, length: 3MiB, seed: 1 }\n  - copy: { dev: /dev/nullb0, ranges: [ { src: 0, dst: 8MiB, length: 3MiB } ] }\n');
    const r = spawnSync(process.execPath, ['bin/copylab.js', 'run', file, '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/"message":"failed with ENOSPC: nullb0's sparse medium reached its memory_limit of 4MiB/);
    const e = spawnSync(process.execPath, ['bin/copylab.js', 'explain', 'memory_limit'], { encoding: 'utf8', timeout: 30_000 });
    expect(e.stdout).toMatch(/devices\.nullblk\.memory_limit[\s\S]*devices\.nvme\.namespaces\.memory_limit/);
  });
});
