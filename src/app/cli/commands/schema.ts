/**
 * `copylab schema`: the scenario format as a JSON Schema (editors validate and complete scenario
 * YAML with it). `copylab explain KEY|STEP|DEVICE`: what a key means, its type, default and an
 * example. Both come from the declarations the parser checks (src/app/scenario/schema.ts).
 */
import type { Command } from 'commander';
import { explainEntries, findExplained, formatExplained, scenarioSchema } from '../../scenario/schema.js';
import { nearest } from '../../scenario/fields.js';
import { EXIT_OK, EXIT_USAGE, type SetExit } from '../common.js';

export function registerSchema(program: Command, setExit: SetExit): void {
  program
    .command('schema')
    .description('print the JSON Schema of scenario files (the package ships it as scenario.schema.json)')
    .action(() => {
      process.stdout.write(`${JSON.stringify(scenarioSchema(), null, 2)}\n`);
      setExit(EXIT_OK);
    });
  program
    .command('explain <name>')
    .description('explain a scenario key, step or device kind: meaning, type, default, example (e.g. copy, cdfe, copy.ranges, devices.nvme, lab.fallback)')
    .action((name: string) => {
      const hits = findExplained(name);
      if (!hits.length) {
        const words = [...new Set(explainEntries().flatMap((e) => [e.path, e.path.split('.').pop()!]))];
        const near = nearest(name, words);
        process.stderr.write(`copylab: explain: no scenario key, step or device named '${name}'${near ? ` (did you mean '${near}'?)` : ''}; steps and devices are listed by \`copylab explain steps\` and \`copylab explain devices\`\n`);
        return setExit(EXIT_USAGE);
      }
      process.stdout.write(`${hits.map(formatExplained).join('\n\n')}\n`);
      setExit(EXIT_OK);
    });
}
