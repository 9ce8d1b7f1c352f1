import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import ts from 'typescript';
import { SPECIALIZED, specialize } from '../../src/core/util/specialize.js';
import { runGc } from '../../src/app/gc/run.js';
import { GC_DEFAULTS } from '../../src/app/gc/options.js';

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

/**
 * The identifiers a function's source uses without declaring them (its free variables), found
 * with TypeScript's parser: declared names are parameters, variables, functions and catch
 * bindings anywhere inside; a name after `.` or as an object-literal key is a property, not a use.
 */
function freeVariables(src: string): string[] {
  const file = ts.createSourceFile('f.js', `(${src})`, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const declared = new Set<string>();
  const used = new Set<string>();
  const bindName = (n: ts.BindingName): void => {
    if (ts.isIdentifier(n)) declared.add(n.text);
    else for (const e of n.elements) if (!ts.isOmittedExpression(e)) bindName(e.name);
  };
  const visit = (n: ts.Node): void => {
    if (ts.isParameter(n) || ts.isVariableDeclaration(n) || ts.isBindingElement(n)) bindName(n.name);
    if ((ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n)) && n.name) declared.add(n.name.text);
    if (ts.isIdentifier(n)) {
      const p = n.parent;
      const isProperty = (ts.isPropertyAccessExpression(p) && p.name === n) || (ts.isPropertyAssignment(p) && p.name === n) || (ts.isMethodDeclaration(p) && p.name === n) || ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p);
      if (!isProperty) used.add(n.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(file);
  return [...used].filter((u) => !declared.has(u) && !(u in globalThis) && u !== 'undefined' && u !== 'arguments');
}

describe('every factory the code specializes is self-contained (its source is evaluated in the global scope)', () => {
  it('finds a module constant a factory leans on', () => {
    const LIMIT = 3;
    const leaky = (a: Uint32Array) => (i: number): number => Math.min(a[i]!, LIMIT);
    expect(freeVariables(leaky.toString())).toEqual(['LIMIT']);
    expect(freeVariables(makeSum.toString())).toEqual([]);
  });

  it('the GC lab’s factories (user write, prefetch, SIT, mover, verifier) use nothing but their parameters and globals', () => {
    // A timed run and a worker-less run create every specialized closure the GC lab has.
    runGc({ ...GC_DEFAULTS, size: 256 * 1024 * 1024, overwrites: 0.2, seriesPoints: 1 }, { mover: 'inline' });
    const names = [...SPECIALIZED].map((f) => f.name);
    for (const n of ['makeUserWrite', 'makePrefetch', 'makeInvalidate', 'makeValidate', 'runnerFactory', 'verifierFactory']) expect(names).toContain(n);
    for (const f of SPECIALIZED) expect(freeVariables(f.toString()), f.name).toEqual([]);
  });
});
