import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, WORKER_ENTRIES, staleBuild, workerScript, type WorkerEntry } from '../../src/core/thread/entries.js';

describe('worker entries (src/core/thread/entries.ts)', () => {
  it('every listed entry is a file in workers/, and workers/ holds nothing else', () => {
    const files = readdirSync(join(PACKAGE_ROOT, 'workers')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
    expect(files).toEqual(Object.keys(WORKER_ENTRIES).sort());
  });

  it('resolves each entry to its compiled file', () => {
    for (const name of Object.keys(WORKER_ENTRIES) as WorkerEntry[]) {
      expect(workerScript(name)).toBe(join(PACKAGE_ROOT, 'dist', 'workers', `${name}.js`));
    }
  });

  it('refuses a name that is not an entry (no path below the root)', () => {
    expect(() => workerScript('../../etc/passwd' as WorkerEntry)).toThrow(/not a worker entry/);
    expect(() => workerScript('toString' as WorkerEntry)).toThrow(/not a worker entry/);
  });
});

describe('a stale compiled tree is never used silently', () => {
  let root = '';
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function tree(): string {
    root = mkdtempSync(join(tmpdir(), 'copylab-stale-'));
    for (const d of ['src/core', 'devices', 'workers', 'dist/src/core', 'dist/devices', 'dist/workers']) mkdirSync(join(root, d), { recursive: true });
    for (const f of ['src/core/a', 'devices/b', 'workers/c']) {
      writeFileSync(join(root, `${f}.ts`), 'export {};\n');
      writeFileSync(join(root, 'dist', `${f}.js`), 'export {};\n');
    }
    return root;
  }

  it('a tree built after its sources is current', () => {
    const r = tree();
    const old = new Date(Date.now() - 60_000);
    for (const f of ['src/core/a', 'devices/b', 'workers/c']) utimesSync(join(r, `${f}.ts`), old, old);
    expect(staleBuild(r)).toBeNull();
  });

  it('names the source edited after the build', () => {
    const r = tree();
    const old = new Date(Date.now() - 60_000);
    for (const f of ['src/core/a', 'devices/b', 'workers/c']) utimesSync(join(r, 'dist', `${f}.js`), old, old);
    utimesSync(join(r, 'src/core/a.ts'), old, old);
    utimesSync(join(r, 'workers/c.ts'), old, old);
    expect(staleBuild(r)).toBe('devices/b.ts');
  });

  it('names a source with no compiled file', () => {
    const r = tree();
    const old = new Date(Date.now() - 60_000);
    for (const f of ['src/core/a', 'devices/b', 'workers/c']) utimesSync(join(r, `${f}.ts`), old, old);
    writeFileSync(join(r, 'workers/new-entry.ts'), 'export {};\n');
    expect(staleBuild(r)).toBe('workers/new-entry.ts');
  });
});
