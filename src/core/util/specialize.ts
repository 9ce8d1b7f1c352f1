/**
 * A private copy of a closure factory, for hot loops over typed arrays.
 *
 * V8's optimizing compiler treats the variables a closure captures as constants when the
 * function literal has made only one closure so far (function context specialization): a typed
 * array captured that way has its data pointer and length folded into the machine code, and a
 * loop over it runs fewer instructions per element. In a loop whose every iteration misses the
 * cache that is the difference between few and many misses in flight: measured on the GC lab's
 * prefetch of a terabyte map, 52 ns per write for a specialized closure against 84-98 ns for the
 * same loop reading its arrays from an object or from a second closure of the same literal.
 *
 * A process that runs several labs would make a second closure from the same literal and lose
 * that for all of them; `specialize` evaluates the factory's own source again, so each call
 * returns a factory with a literal of its own. The factory must be self-contained: everything it
 * uses comes in as a parameter (no imports, no module constants), as its source is evaluated in
 * the global scope.
 */
/** Every factory specialized in this process (test/util/specialize.test.ts checks each is self-contained). */
export const SPECIALIZED: Set<(...args: never[]) => unknown> = new Set();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function specialize<F extends (...args: any[]) => unknown>(factory: F): F {
  const src = factory.toString();
  if (!/^(?:function\b|\()/.test(src) || src.includes('[native code]')) throw new TypeError('specialize: expected a function declaration or an arrow function');
  SPECIALIZED.add(factory);
  try {
    // The factory's own text, evaluated again: a new literal (see above), not new behaviour.
    return new Function(`"use strict"; return (${src});`)() as F;
  } catch (err) {
    // Code generation from strings refused (node --disallow-code-generation-from-strings): the
    // factory itself, slower when a process makes several closures, the same otherwise.
    if (err instanceof EvalError) return factory;
    throw err;
  }
}
