/**
 * The dependency rules of docs/architecture.md, checked by `npm test` (npm run lint:deps):
 * three tiers, each importing only its own tier or the ones below it —
 *   src/core/    block layer, ring, dm, sysfs, clock, traces, threads, utilities: knows no
 *                device model, no Lab, no scenario, no CLI;
 *   devices/     device models and their host drivers: see src/core/ only, through the narrow
 *                host interface (src/core/block/host.ts), never the Lab;
 *   src/app/     the Lab, scenarios, CLI, iSCSI target, GC lab, bench harness, plots;
 *   src/harness/ code benchmarks and tests share (both may import it; the tiers do not);
 * workers/ on top: every worker-thread entry point, a thin file that may import any tier;
 * nothing imports workers/ (code names an entry through src/core/thread/entries.ts);
 * entry points on top (bench/, fuzz/, test/) that nothing in the tiers imports.
 * No runtime import cycles anywhere (type-only imports are erased at compile time and may
 * point anywhere a tier rule allows).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-runtime-cycle',
      severity: 'error',
      comment: 'A runtime import cycle: modules that load each other. Move the shared part into a module both import.',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'], viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'core-imports-up',
      severity: 'error',
      comment: 'core/ knows nothing of device models, the Lab, scenarios, the CLI or the entry points.',
      from: { path: '^src/core/' },
      to: { path: '^(devices|src/app|src/harness|workers|bench|fuzz|test)/' },
    },
    {
      name: 'devices-import-app',
      severity: 'error',
      comment: 'Devices talk to the host interface in core/, never to the Lab or the app tier.',
      from: { path: '^devices/' },
      to: { path: '^(src/app|src/harness|workers|bench|fuzz|test)/' },
    },
    {
      name: 'app-imports-entry-points',
      severity: 'error',
      comment: 'The app tier does not import benchmarks, fuzzers or tests.',
      from: { path: '^src/app/' },
      to: { path: '^(src/harness|workers|bench|fuzz|test)/' },
    },
    {
      name: 'nothing-imports-workers',
      severity: 'error',
      comment: 'Worker entry points are started by name (src/core/thread/entries.ts), never imported.',
      from: { pathNot: '^workers/' },
      to: { path: '^workers/' },
    },
    {
      name: 'harness-imports-entry-points',
      severity: 'error',
      comment: 'The shared harness serves benchmarks and tests; it imports neither.',
      from: { path: '^src/harness/' },
      to: { path: '^(workers|bench|fuzz|test)/' },
    },
    {
      name: 'bench-imports-test',
      severity: 'error',
      comment: 'Benchmarks do not import tests: what both need lives in src/harness/, so the package ships no test code.',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
    {
      name: 'test-imports-bench',
      severity: 'error',
      comment: 'Tests do not import benchmark scripts: shared helpers live in the tier they serve or in test/.',
      from: { path: '^(test|fuzz)/' },
      to: { path: '^bench/' },
    },
    {
      name: 'unresolvable',
      severity: 'error',
      comment: 'An import that resolves to no file.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'], exportsFields: ['exports'], conditionNames: ['import', 'node', 'default', 'types'] },
  },
};
