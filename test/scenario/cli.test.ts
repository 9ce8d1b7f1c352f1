import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Runs the built command as a user would (npm test builds dist/ before vitest runs).
function copylab(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tmpFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'copylab-'));
  const f = join(dir, 's.yaml');
  writeFileSync(f, text);
  return f;
}

describe('copylab command', () => {
  it('run with no file runs the default lab and exits 0', () => {
    const r = copylab('run');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/offload/);
    expect(r.out).toMatch(/emulated/);
    expect(r.out).toMatch(/not in one copy domain/);
    expect(r.out).toMatch(/all \d+ steps ok/);
  });

  it('run --json prints one object per step with the documented keys', () => {
    const r = copylab('run', 'examples/quickstart.yaml', '--json');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(8);
    for (const k of ['step', 'ok', 'res', 'errno', 'wall_ms']) expect(lines[0]).toHaveProperty(k);
    expect(lines[1]).toMatchObject({ kind: 'copy', ok: true, path: 'offload', pieces: 4, bytes: 4194304, host_bytes: 0 });
    expect(lines[3]).toMatchObject({ path: 'emulated', host_bytes: 2097152 });
    expect(lines[5]).toMatchObject({ errno: 'EINVAL', ok: true });
  });

  it('run --trace prints blktrace-style events', () => {
    const r = copylab('run', 'examples/quickstart.yaml', '--trace');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/nullb0 +\d+\.\d{9} +Q +CP +65536 \+ 8192 \[1 range\(s\)\]/);
    expect(r.out).toMatch(/ X +CP /);
    expect(r.out).toMatch(/ E +CP .*no_offload/);
  });

  it('exits 1 when an expectation fails', () => {
    const f = tmpFile('devices: [ { kind: nullblk, name: nullb0, size: 1MiB } ]\nsteps: [ { read: { dev: /dev/nullb0, length: 4KiB, expect: { errno: EIO } } } ]\n');
    const r = copylab('run', f);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL/);
    expect(r.out).toMatch(/1 of 1 steps failed/);
  });

  it('exits 2 with a message naming the step and key for a scenario that cannot run', () => {
    const f = tmpFile('devices: [ { kind: nullblk, name: nullb0, size: 1MiB } ]\nsteps: [ { copy: { dev: /dev/nullb0, rangez: [] } } ]\n');
    const r = copylab('run', f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/steps\[0\]\.copy: unknown key 'rangez'/);
    expect(copylab('run', '/nonexistent.yaml')).toMatchObject({ code: 2 });
    expect(copylab('frobnicate').code).toBe(2);
  });

  it('sysfs ls, cat and write', () => {
    expect(copylab('sysfs', 'ls').out.split('\n')).toContain('nullb0/');
    expect(copylab('sysfs', 'ls', '/sys/block/nullb0/queue').out).toMatch(/copy_max_bytes {2}\(rw\)/);
    expect(copylab('sysfs', 'cat', '/sys/block/nullb0/queue/copy_max_hw_bytes')).toMatchObject({ code: 0, out: '1048576\n' });
    expect(copylab('sysfs', 'write', '/sys/block/nullb0/queue/copy_max_bytes', '65536')).toMatchObject({ code: 0, out: '65536\n' });
    const bad = copylab('sysfs', 'write', '/sys/block/nullb0/queue/copy_max_bytes', '1000');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/Invalid argument.*\(EINVAL\)/);
    expect(copylab('sysfs', 'cat', '/sys/block/nullb0/queue/copy_max_bytes', '--scenario', 'examples/quickstart.yaml').out).toBe('1048576\n');
    expect(copylab('sysfs', 'cat', '/sys/nope').code).toBe(1);
  });
});
