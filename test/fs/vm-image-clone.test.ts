/**
 * The SNIA use case (docs/files.md, "A VM image clone"): a 4 GiB VM image cloned by
 * copy_file_range on a timed NVMe namespace and on a timed SCSI LU, as the examples
 * examples/vm-clone-{nvme,scsi}.yaml do it. Sparse media keep it cheap: the image is allocated
 * and zeroed by WRITE_ZEROES, a few regions hold data, and the media hold only those.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runScenario, type StepResult } from '../../src/app/scenario/run.js';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { runCommand } from '../../src/app/cli/main.js';
import { setShellLab } from '../../src/app/cli/common.js';
import { fsOn } from '../../src/app/fs/mounts.js';
import type { CopyFs } from '../../src/app/fs/fs.js';
import type { Lab } from '../../src/app/lab.js';
import type { Backing } from '../../devices/backing/backing.js';
import type { SdDevice } from '../../devices/scsi/sd.js';
import { SPARSE_CHUNK } from '../../devices/backing/sparse.js';
import { MiB } from '../helpers.js';

const GiB = 1024 * MiB;

/** The device blocks (4 KiB) a file maps, in file order, as runs. */
const runsOf = (fs: CopyFs, path: string): { file: number; dev: number; count: number }[] => fs.stat(path).extents;

/**
 * Whether the medium holds the same bytes for every block of two files of one size: compared
 * chunk by chunk on the store itself (two holes are equal without reading; a hole against data
 * must be zeros), so 4 GiB of mostly unwritten medium costs little.
 */
function sameOnMedium(backing: Backing, fs: CopyFs, a: string, b: string): boolean {
  const ra = runsOf(fs, a);
  const rb = runsOf(fs, b);
  const blocks = (r: typeof ra): number => r.reduce((n, e) => n + e.count, 0);
  expect(blocks(ra)).toBe(blocks(rb));
  const devAt = (runs: typeof ra, fb: number): { dev: number; left: number } => {
    const e = runs.find((x) => fb >= x.file && fb < x.file + x.count)!;
    return { dev: e.dev + (fb - e.file), left: e.file + e.count - fb };
  };
  const total = blocks(ra) * 4096;
  for (let at = 0; at < total; ) {
    const pa = devAt(ra, at / 4096);
    const pb = devAt(rb, at / 4096);
    const oa = pa.dev * 4096 + (at % 4096);
    const ob = pb.dev * 4096 + (at % 4096);
    const step = Math.min(pa.left * 4096 - (at % 4096), pb.left * 4096 - (at % 4096), SPARSE_CHUNK - (oa % SPARSE_CHUNK), SPARSE_CHUNK - (ob % SPARSE_CHUNK));
    let same = true;
    backing.extents(oa, step, (va) => {
      backing.extents(ob, step, (vb) => {
        if (va && vb) same = Buffer.compare(va, vb) === 0;
        else if (va || vb) same = (va ?? vb)!.every((x) => x === 0);
      });
    });
    if (!same) return false;
    at += step;
  }
  return true;
}

/** Runs a copylab command line on `lab` in this process (as `copylab shell` does); its JSON output. */
async function cli(lab: Lab, file: string, argv: string[]): Promise<{ code: number; json: Record<string, unknown> }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  try {
    setShellLab({ lab, scenario: parseScenarioText(readFileSync(file, 'utf8'), file), source: file });
    const code = await runCommand(argv);
    return { code, json: out ? (JSON.parse(out) as Record<string, unknown>) : {} };
  } finally {
    setShellLab(undefined);
    spy.mockRestore();
  }
}

let open: Lab | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

const CASES = [
  { kind: 'NVMe namespace', file: 'examples/vm-clone-nvme.yaml', dev: '/dev/nvme0n1', backing: (lab: Lab) => lab.nvmeController('nvme0')!.ctrl!.namespace(1)!.backing },
  { kind: 'SCSI LU', file: 'examples/vm-clone-scsi.yaml', dev: '/dev/sda', backing: (lab: Lab) => (lab.device('/dev/sda') as SdDevice).array.lu('sda')!.backing! },
] as const;

describe.each(CASES)('a 4 GiB VM image cloned on a timed $kind', ({ file, dev, backing }) => {
  it('offloads with host bytes under 1% of the image and the same bytes on every block; splice by `fs cp --offload=never` gives the same bytes and costs more modeled time per byte', async () => {
    const r = await runScenario(parseScenarioText(readFileSync(file, 'utf8'), file), { keepOpen: true });
    open = r.lab;
    expect(r.steps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.message}`)).toEqual([]);
    const clone = r.steps.find((s) => s.kind === 'copy_file_range' && s.target.endsWith(':/clone.img')) as StepResult;
    expect([clone.path, clone.bytes]).toEqual(['offload', 4 * GiB]);
    expect(clone.host_bytes!).toBeLessThan(0.01 * 4 * GiB);
    const fs = fsOn(r.lab, dev);
    expect(fs.stat('/clone.img').size).toBe(4 * GiB);
    expect(sameOnMedium(backing(r.lab), fs, '/vm.img', '/clone.img')).toBe(true);
    // The check can fail: one changed block of the clone is found.
    const probe = fs.stat('/clone.img').extents[0]!.dev * 4096 + 4096;
    const saved = new Uint8Array(16);
    backing(r.lab).read(probe, saved);
    backing(r.lab).write(probe, Uint8Array.from({ length: 16 }, (_, i) => i + 1));
    expect(sameOnMedium(backing(r.lab), fs, '/vm.img', '/clone.img')).toBe(false);
    backing(r.lab).write(probe, saved);

    // The splice path, as `copylab fs cp --offload=never`, of the image's first 64 MiB (a 64 MiB file).
    const head = r.steps.find((s) => s.target.endsWith(':/head-offload.img'))!;
    const cp = await cli(r.lab, file, ['fs', 'cp', '--dev', dev, '--offload=never', '--json', '/head-offload.img', '/head-cp.img']);
    expect(cp.code).toBe(0);
    expect(cp.json).toMatchObject({ path: 'splice', bytes: 64 * MiB, host_bytes: 128 * MiB });
    const a = new Uint8Array(64 * MiB);
    const b = new Uint8Array(64 * MiB);
    await fs.readDirect(fs.lookup('/head-offload.img'), 0, a);
    await fs.readDirect(fs.lookup('/head-cp.img'), 0, b);
    expect(b).toEqualBytes(a);
    // Modeled time per byte: the 4 GiB offload against 64 MiB spliced (copy and fsync).
    const offloadPerByte = clone.modeled_us / (4 * GiB);
    const splicePerByte = (cp.json.modeled_us as number) / (64 * MiB);
    expect(offloadPerByte).toBeLessThan(splicePerByte);
    expect(head.host_bytes).toBe(0);
  });
});
