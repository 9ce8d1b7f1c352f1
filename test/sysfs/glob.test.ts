import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Sysfs, isGlob } from '../../src/core/sysfs/tree.js';

const tree = (): Sysfs => {
  const s = new Sysfs();
  for (const p of ['/sys/block/nullb0/size', '/sys/block/nullb1/size', '/sys/block/nullb10/size', '/sys/block/sda/size', '/sys/block/nullb0/queue/copy_max_bytes', '/sys/block/nullb1/queue/copy_max_hw_bytes', '/sys/a.b/x', '/sys/a[b]/y']) s.add(p, { show: () => p });
  return s;
};

describe('sysfs globs', () => {
  it('*, ? and [...] within one path component, as sh expands them, sorted naturally', () => {
    const s = tree();
    expect(s.glob('/sys/block/nullb*/size')).toEqual(['/sys/block/nullb0/size', '/sys/block/nullb1/size', '/sys/block/nullb10/size']);
    expect(s.glob('/sys/block/nullb?/size')).toEqual(['/sys/block/nullb0/size', '/sys/block/nullb1/size']);
    expect(s.glob('/sys/block/nullb[!0]/size')).toEqual(['/sys/block/nullb1/size']);
    expect(s.glob('/sys/block/nullb[0-1]/queue/copy_max_*')).toEqual(['/sys/block/nullb0/queue/copy_max_bytes', '/sys/block/nullb1/queue/copy_max_hw_bytes']);
    // * never crosses a /; directories match too (cat then says they are directories).
    expect(s.glob('/sys/*/size')).toEqual([]);
    expect(s.glob('/sys/block/s*')).toEqual(['/sys/block/sda']);
    // Regular-expression characters are literal; an unclosed [ is literal.
    expect(s.glob('/sys/a.*/x')).toEqual(['/sys/a.b/x']);
    expect(s.glob('/sys/?.b/*')).toEqual(['/sys/a.b/x']);
    expect(s.glob('/sys/a[b/y')).toEqual([]);
    expect(isGlob('/sys/block/nullb0/size')).toBe(false);
    expect(isGlob('/sys/block/nullb[01]/size')).toBe(true);
  });
});

const copylab = (...args: string[]) => spawnSync(process.execPath, ['bin/copylab.js', 'sysfs', 'cat', ...args], { encoding: 'utf8', timeout: 30_000 });

describe('copylab sysfs cat with several paths and globs', () => {
  it('one file: its value; more: `path: value` lines; a trailing newline of the value is not doubled', () => {
    expect(copylab('/sys/block/dm-0/dm/name')).toMatchObject({ status: 0, stdout: 'lin\n' });
    expect(copylab('/sys/block/nullb[0-1]/queue/copy_max_bytes', '/sys/block/dm-0/dm/name')).toMatchObject({
      status: 0,
      stdout: '/sys/block/nullb0/queue/copy_max_bytes: 1048576\n/sys/block/nullb1/queue/copy_max_bytes: 0\n/sys/block/dm-0/dm/name: lin\n',
    });
    expect(copylab('/sys/class/nvme/*/cdfe')).toMatchObject({ status: 0, stdout: '0x0\n' });
  });

  it('like cat: what cannot be read is named on stderr, the rest is printed, exit 1', () => {
    const r = copylab('/sys/block/zz*/size', '/sys/nope', '/sys/block', '/sys/block/sdb/size', '/sys/block/sda/size');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('/sys/block/sdb/size: 131072\n/sys/block/sda/size: 131072\n');
    expect(r.stderr).toBe([
      'copylab: /sys/block/zz*/size: No such file or directory (the pattern matches nothing) (ENOENT)',
      'copylab: /sys/nope: No such file or directory (ENOENT)',
      'copylab: /sys/block: Is a directory (EISDIR)',
      '',
    ].join('\n'));
  });
});
