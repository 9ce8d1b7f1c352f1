import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/app/cli/main.js';
import { setShellLab } from '../../src/app/cli/common.js';
import { buildLab, runScenario } from '../../src/app/scenario/run.js';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { fsOn } from '../../src/app/fs/mounts.js';
import type { CopyFs } from '../../src/app/fs/fs.js';
import type { Lab } from '../../src/app/lab.js';

const SCENARIO = `
devices:
  - { kind: nullblk, name: nullb0, size: 32MiB, lbs: 4096, backing: memory, timing: femu, copy_max_hw_bytes: 1MiB }
steps:
  - mkfs: { dev: /dev/nullb0, reflink: true }
  - file: { dev: /dev/nullb0, op: write, path: /vm.img, length: 2MiB, seed: 9 }
`;

/** Runs a copylab command line in this process on `lab` (as `copylab shell` does); returns exit code and output. */
async function inLab(lab: Lab, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    setShellLab({ lab, scenario: parseScenarioText(SCENARIO), source: 'test' });
    const code = await runCommand(argv);
    return { code, stdout, stderr };
  } finally {
    setShellLab(undefined);
    o.mockRestore();
    e.mockRestore();
  }
}

async function fileBytes(fs: CopyFs, path: string): Promise<Uint8Array> {
  const inode = fs.lookup(path);
  const out = new Uint8Array(inode.size);
  await fs.readAt(inode, 0, out);
  return out;
}

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

async function scenarioLab(): Promise<Lab> {
  const r = await runScenario(parseScenarioText(SCENARIO), { keepOpen: true });
  expect(r.ok).toBe(true);
  lab = r.lab;
  return r.lab;
}

describe('copylab fs', () => {
  it('cp takes reflink, then offload, then splice as --reflink and --offload allow; each gives the same bytes and says why', async () => {
    const l = await scenarioLab();
    const fs = fsOn(l, '/dev/nullb0');
    const want = await fileBytes(fs, '/vm.img');
    const cases: [string[], string, number][] = [
      [[], 'reflink', 0],
      [['--reflink=never'], 'offload', 0],
      [['--reflink=never', '--offload=never'], 'splice', 4 << 20],
    ];
    for (const [flags, path, host] of cases) {
      const r = await inLab(l, ['fs', 'cp', '--dev', '/dev/nullb0', ...flags, '--json', '/vm.img', `/${path}.img`]);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as { path: string; bytes: number; host_bytes: number; parts: { reason: string }[]; modeled_us: number };
      expect([j.path, j.bytes, j.host_bytes]).toEqual([path, 2 << 20, host]);
      expect(j.parts[0]!.reason.length).toBeGreaterThan(0);
      expect(await fileBytes(fs, `/${path}.img`)).toEqualBytes(want);
    }
    const text = await inLab(l, ['fs', 'cp', '--dev', '/dev/nullb0', '--reflink=never', '/vm.img', '/again.img']);
    expect(text.stdout).toMatch(/^'\/vm\.img' -> '\/again\.img': 2097152 bytes by offload, host bytes 0, modeled [\d.]+ ms \(with fsync\)\n {2}offload {2}0\+2097152 {2}reflink not wanted; whole blocks by REQ_OP_COPY \(block layer: offload\)\n {2}REQ_OP_COPY requests 1, offloaded commands 2\n$/);
  });

  it('ls and stat show files, blocks and the extents a clone shares; mkfs makes an empty file system', async () => {
    const l = await scenarioLab();
    expect((await inLab(l, ['fs', 'cp', '--dev', '/dev/nullb0', '--reflink', '/vm.img', '/clone.img'])).code).toBe(0);
    const ls = await inLab(l, ['fs', 'ls', '--dev', '/dev/nullb0']);
    expect(ls.stdout.split('\n').slice(1, 3).map((line) => line.trim().split(/\s+/))).toEqual([
      ['2097152', '512', '1', '512', '/clone.img'],
      ['2097152', '512', '1', '512', '/vm.img'],
    ]);
    const st = await inLab(l, ['fs', 'stat', '--dev', '/dev/nullb0', '/clone.img', '--json']);
    expect(JSON.parse(st.stdout)).toMatchObject({ size: 2097152, blocks: 512, extents: [{ file: 0, count: 512, shared: 512 }] });
    expect((await inLab(l, ['fs', 'stat', '--dev', '/dev/nullb0', '/clone.img'])).stdout).toMatch(/ 0: +0\.\.511: +\d+\.\.\d+: +512: shared\n$/);
    const mk = await inLab(l, ['fs', 'mkfs', '--dev', '/dev/nullb0']);
    expect(mk.stdout).toBe("mkfs.copyfs: /dev/nullb0: 8192 blocks of 4096 bytes, reflink=0, page cache 64MiB, metadata on the lab's memory\n");
    expect((await inLab(l, ['fs', 'ls', '--dev', '/dev/nullb0'])).stdout).toMatch(/total 0 files; 8192 of 8192 blocks free/);
  });

  it('refusals: no --dev or an unknown one (2), bad --reflink/--offload (2), a missing file, no file system, a clone the file system cannot make (1)', async () => {
    const l = await scenarioLab();
    expect(await inLab(l, ['fs', 'ls'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--dev names the device/) });
    expect(await inLab(l, ['fs', 'ls', '--dev', '/dev/nope'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/\/dev\/nope: not a block device/) });
    expect(await inLab(l, ['fs', 'cp', '--dev', '/dev/nullb0', '--reflink=sometimes', '/vm.img', '/x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--reflink: sometimes is not one of auto, always, never/) });
    expect(await inLab(l, ['fs', 'cp', '--dev', '/dev/nullb0', '--offload=maybe', '/vm.img', '/x'])).toMatchObject({ code: 2 });
    expect(await inLab(l, ['fs', 'cp', '--dev', '/dev/nullb0', '/none.img', '/x'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/\/none\.img: no such file \(ENOENT\)/) });
    expect(await inLab(l, ['fs', 'stat', '--dev', '/dev/nullb0', '/none.img'])).toMatchObject({ code: 1 });
    const plain = buildLab(parseScenarioText(SCENARIO));
    try {
      expect(await inLab(plain, ['fs', 'ls', '--dev', '/dev/nullb0'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/has no file system/) });
      expect((await inLab(plain, ['fs', 'mkfs', '--dev', '/dev/nullb0'])).code).toBe(0);
      expect((await inLab(plain, ['fs', 'cp', '--dev', '/dev/nullb0', '--reflink=always', '/', '/x'])).code).toBe(2); // a directory
    } finally {
      await plain.close();
    }
    expect((await inLab(l, ['fs', 'mkfs', '--dev', '/dev/nullb0'])).code).toBe(0); // now without reflink
    expect((await inLab(l, ['fs', 'cp', '--dev', '/dev/nullb0', '/vm.img', '/x'])).code).toBe(1); // the file system is empty again
  });

  it('mkfs --metadata=device, then mount finds what was committed: a file fsynced, not one written after (as after a crash)', async () => {
    const l = await scenarioLab();
    const mk = await inLab(l, ['fs', 'mkfs', '--dev', '/dev/nullb0', '--metadata=device']);
    expect(mk.stdout).toBe('mkfs.copyfs: /dev/nullb0: 8192 blocks of 4096 bytes, reflink=0, page cache 64MiB, metadata on the device (258 blocks)\n');
    const fs = fsOn(l, '/dev/nullb0');
    const a = fs.open('/a', { write: true, create: true });
    await fs.writeAt(fs.fd(a).inode, 0, new Uint8Array(8192).fill(1));
    await fs.fsync(fs.fd(a).inode);
    const b = fs.open('/b', { write: true, create: true });
    await fs.writeAt(fs.fd(b).inode, 0, new Uint8Array(8192).fill(2));
    const m = await inLab(l, ['fs', 'mount', '--dev', '/dev/nullb0', '--json']);
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout)).toMatchObject({ generation: 2, files: 1 });
    expect((await inLab(l, ['fs', 'ls', '--dev', '/dev/nullb0'])).stdout).toMatch(/8192 +2 +1 +0 +\/a\n/);
    expect(await inLab(l, ['fs', 'mkfs', '--dev', '/dev/nullb0', '--metadata=disk'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--metadata: disk is not memory or device/) });
    expect((await inLab(l, ['fs', 'mkfs', '--dev', '/dev/nullb0'])).code).toBe(0);
    await l.write('/dev/nullb0', 0, new Uint8Array(8192)); // the superblocks gone
    expect(await inLab(l, ['fs', 'mount', '--dev', '/dev/nullb0'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/no copyfs superblock .*\(EINVAL\)/) });
  });

  it('with --scenario, runs its steps first, then the command (a separate process, as a user types it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copylab-fs-'));
    try {
      const file = join(dir, 'lab.yaml');
      writeFileSync(file, SCENARIO);
      const { spawnSync } = await import('node:child_process');
      const r = spawnSync(process.execPath, ['bin/copylab.js', 'fs', 'cp', '--scenario', file, '--dev', '/dev/nullb0', '--reflink=always', '/vm.img', '/clone.img'], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^'\/vm\.img' -> '\/clone\.img': 2097152 bytes by reflink, host bytes 0/);
      const bad = spawnSync(process.execPath, ['bin/copylab.js', 'fs', 'ls', '--scenario', join(dir, 'none.yaml'), '--dev', '/dev/nullb0'], { encoding: 'utf8', timeout: 60_000 });
      expect(bad.status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sysfs: /sys/fs/copyfs/<dev>/', () => {
  it('shows the page cache, dirty pages and copies by path as they change', async () => {
    const l = await scenarioLab();
    const cat = (p: string): string => l.readSysfs(`/sys/fs/copyfs/nullb0/${p}`).value!.trim();
    expect(cat('reflink')).toBe('1');
    expect(cat('page_cache/dirty')).toBe('512'); // the 2 MiB file, not yet written back
    expect(cat('page_cache/pages')).toBe('512');
    expect(cat('reserved_blocks')).toBe('512');
    expect((await inLab(l, ['fs', 'cp', '--dev', '/dev/nullb0', '/vm.img', '/a'])).code).toBe(0);
    expect((await inLab(l, ['fs', 'cp', '--dev', '/dev/nullb0', '--reflink=never', '/vm.img', '/b'])).code).toBe(0);
    expect((await inLab(l, ['fs', 'cp', '--dev', '/dev/nullb0', '--reflink=never', '--offload=never', '/vm.img', '/c'])).code).toBe(0);
    expect(cat('page_cache/dirty')).toBe('0');
    expect(cat('shared_blocks')).toBe('512');
    expect(['reflink', 'offload', 'splice'].map((p) => [cat(`copies/${p}/calls`), cat(`copies/${p}/bytes`)])).toEqual([['1', '2097152'], ['1', '2097152'], ['1', '2097152']]);
    expect(Number(cat('free_blocks'))).toBe(Number(cat('blocks')) - 3 * 512);
    expect(l.writeSysfs('/sys/fs/copyfs/nullb0/blocks', '1').res).toBeLessThan(0); // read-only
    expect(l.sysfs.ls('/sys/fs/copyfs/nullb0').entries!.map((e) => e.name)).toEqual(['block_size', 'blocks', 'copies', 'files', 'free_blocks', 'generation', 'held_blocks', 'metadata', 'page_cache', 'reflink', 'reserved_blocks', 'shared_blocks']);
  });
});
