import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { runScenario } from '../../src/app/scenario/run.js';

function copylab(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('scsi scenarios and copylab scsi', () => {
  it('the example scenario passes, and a wrong sense expectation fails naming what differed', async () => {
    const ok = await runScenario(parseScenarioText(readFileSync('examples/scsi-xcopy.yaml', 'utf8')));
    expect(ok.ok).toBe(true);
    const bad = await runScenario(parseScenarioText(`
devices:
  - { kind: scsi, array: a, lus: [ { name: sda, size: 1MiB } ], initiators: { iqn.2024-01.org.copylab:host: [0], guest: [] } }
steps:
  - scsi: { dev: /dev/sda, cdb: "c7 00 00 00 00 00", expect: { sense_key: 5, asc: 0x24 } }
  - scsi: { dev: /dev/sda, initiator: guest, cdb: "00 00 00 00 00 00", expect: { sense_key: 5, asc: 0x25, ascq: 0 } }
`));
    expect(bad.steps[0]!.ok).toBe(false);
    expect(bad.steps[0]!.message).toMatch(/expected ASC 0x24, got 0x20/);
    expect(bad.steps[1]!.ok).toBe(true);
    expect(() => parseScenarioText(`devices: [ { kind: scsi, array: a, lus: [ { name: sda, size: 1MiB, lbs: 1024 } ] } ]`)).toThrow(/lbs/);
    expect(() => parseScenarioText(`devices: [ { kind: scsi, array: a, lus: [ { name: sda, size: 1MiB } ] } ]\nsteps: [ { scsi: { dev: /dev/sda, cdb: "zz" } } ]`)).toThrow(/hex/);
  });

  it('copylab scsi inq/readcap/rcr --json and raw report status and sense', () => {
    const s = ['-s', 'examples/scsi-xcopy.yaml'];
    const inq = copylab('scsi', 'inq', '/dev/sda', '--json', ...s);
    expect(inq.code).toBe(0);
    expect(JSON.parse(inq.out).threePc).toBe(true);
    const rc = JSON.parse(copylab('scsi', 'readcap', '/dev/sdb', '--json', ...s).out);
    expect([rc.block_length, rc.lbpme]).toEqual([4096, true]);
    expect(JSON.parse(copylab('scsi', 'rcr', '/dev/sda', '--json', ...s).out).max_segment_descriptors).toBeGreaterThanOrEqual(64);
    const x = copylab('scsi', 'xcopy', '/dev/sdc', '--segment', 'sda:0:sdc:0:8', '--json', ...s);
    expect(JSON.parse(x.out).status).toBe(0);
    const raw = copylab('scsi', 'raw', '/dev/sda', 'c7', '00', '00', '00', '00', '00', '--json', ...s);
    expect(raw.code).toBe(1);
    expect(JSON.parse(raw.out).sense.asc).toBe(0x20);
    const pt = JSON.parse(copylab('scsi', 'populate-token', '/dev/sda', '--range', '0:8', '--json', ...s).out);
    expect(pt.token_hex).toHaveLength(1024);
    expect(copylab('scsi', 'write-using-token', '/dev/sda', '--zero', '--range', '0:8', ...s).code).toBe(0);
  });
});
