import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { specialize } from '../../src/core/util/specialize.js';

function makeSum(a: Uint32Array, k: number) {
  return (n: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i]! * k;
    return s;
  };
}

describe('specialize', () => {
  it('gives a factory of its own that makes closures doing what the original makes', () => {
    const a = Uint32Array.from([1, 2, 3, 4]);
    const f1 = specialize(makeSum);
    const f2 = specialize(makeSum);
    expect(f1).not.toBe(f2);
    expect(f1).not.toBe(makeSum);
    expect(f1(a, 3)(4)).toBe(makeSum(a, 3)(4));
    expect(f2(a, 1)(2)).toBe(3);
  });

  it('refuses what is not a function text', () => {
    const bound = makeSum.bind(null);
    expect(() => specialize(bound)).toThrow(/function declaration or an arrow function/);
  });

  it('falls back to the factory itself where code generation from strings is refused', () => {
    const script = `
      const { specialize } = await import(${JSON.stringify(new URL('../../dist/src/core/util/specialize.js', import.meta.url).href)});
      const make = (k) => (x) => x * k;
      const f = specialize(make);
      console.log(f === make, f(2)(21));`;
    const r = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('true 42');
  });
});
