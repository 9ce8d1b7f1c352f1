/**
 * msgpackr-extract (msgpackr's native string decoder) may be absent: package.json denies its
 * install script (allowScripts), so where no prebuilt binary comes with its platform package,
 * msgpackr decodes in JavaScript. Trace files and GC series must read the same either way.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const copylab = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
const JS_ONLY = { MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true' };

describe('msgpack without the native decoder', () => {
  it('package.json denies msgpackr-extract\'s install script, so npm ci runs no compiler for it', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { allowScripts?: Record<string, boolean> };
    expect(pkg.allowScripts).toEqual({ 'msgpackr-extract': false });
  });

  it('the pure-JavaScript decoder is what runs when the addon is missing, and a trace file reads the same with it', () => {
    const probe = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, ['--input-type=module', '-e', "import('msgpackr').then((m) => console.log(m.isNativeAccelerationEnabled))"], { encoding: 'utf8', env: { ...process.env, ...env } }).stdout.trim();
    expect(probe(JS_ONLY)).toBe('false');
    const file = join(mkdtempSync(join(tmpdir(), 'copylab-msgpack-')), 'run.trace');
    expect(copylab(['run', 'examples/trace-emulated-copy.yaml', '--trace-out', file]).status).toBe(0);
    const native = copylab(['trace', file]);
    const js = copylab(['trace', file], JS_ONLY);
    expect(js.status).toBe(0);
    expect(js.stdout.split('\n').length).toBeGreaterThan(500);
    expect(js.stdout).toBe(native.stdout);
    expect(copylab(['trace', file, '--summary'], JS_ONLY).stdout).toBe(copylab(['trace', file, '--summary']).stdout);
  });
});
