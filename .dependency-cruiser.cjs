/**
 * The dependency rules of docs/architecture.md, checked by `npm test` (npm run lint:deps):
 * three tiers, each importing only its own tier or the ones below it —
 *   core/     block layer, ring, dm, sysfs, clock, traces, utilities: knows no device model,
 *             no Lab, no scenario, no CLI;
 *   devices/  device models and their host drivers: see core/ only, through the narrow host
 *             interface (core/block/host.ts), never the Lab;
 *   app/      the Lab, scenarios, CLI, iSCSI target, GC lab, bench harness, plots;
 * and entry points on top (bench/, fuzz/, test/) that nothing in the tiers imports.
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
      from: { path: '^core/' },
      to: { path: '^(devices|app|bench|fuzz|test)/' },
    },
    {
      name: 'devices-import-app',
      severity: 'error',
      comment: 'Devices talk to the host interface in core/, never to the Lab or the app tier.',
      from: { path: '^devices/' },
      to: { path: '^(app|bench|fuzz|test)/' },
    },
    {
      name: 'app-imports-entry-points',
      severity: 'error',
      comment: 'The app tier does not import benchmarks, fuzzers or tests.',
      from: { path: '^app/' },
      to: { path: '^(bench|fuzz|test)/' },
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
