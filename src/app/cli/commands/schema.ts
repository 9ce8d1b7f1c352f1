/**
 * `copylab schema`: the scenario format as a JSON Schema (editors validate and complete scenario
 * YAML with it). `copylab explain KEY|STEP|DEVICE|ATTRIBUTE`: what a key means, its type, default
 * and an example, from the declarations the parser checks (src/app/scenario/schema.ts); or what
 * a sysfs queue attribute means (src/core/sysfs/queue-attr-docs.ts).
 */
import type { Command } from 'commander';
import { explainEntries, findExplained, formatExplained, scenarioSchema } from '../../scenario/schema.js';
import { nearest } from '../../scenario/fields.js';
import { EXIT_OK, EXIT_USAGE, type SetExit } from '../common.js';
import { QUEUE_ATTR_DOCS } from '../../../core/sysfs/queue-attr-docs.js';

const ORIGIN = { kernel: "the kernel's", 'copy-offload series': 'from the copy-offload series', copylab: "copylab's own" } as const;

/** `explain copy_max_bytes` (or its whole path): a queue attribute's meaning, mode and origin, or undefined. */
function sysfsAttr(name: string): string | undefined {
  const attr = name.replace(/^\/?sys\/block\/[^/]+\/queue\//, '');
  const doc = Object.hasOwn(QUEUE_ATTR_DOCS, attr) ? QUEUE_ATTR_DOCS[attr] : undefined;
  if (!doc) return undefined;
  return [
    `sysfs /sys/block/<dev>/queue/${attr} (${doc.mode === 'rw' ? 'read-write' : 'read-only'}; ${ORIGIN[doc.origin]})`,
    `  ${doc.description}`,
    `  read:     copylab sysfs cat /sys/block/nullb0/queue/${attr}`,
    ...(doc.mode === 'rw' ? [`  write:    copylab sysfs write /sys/block/nullb0/queue/${attr} VALUE (in a scenario: - sysfs: { write: /sys/block/nullb0/queue/${attr}, value: "…" })`] : []),
  ].join('\n');
}

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
    .description('explain a scenario key, step or device kind (meaning, type, default, example) or a sysfs queue attribute (e.g. copy, cdfe, copy.ranges, devices.nvme, lab.fallback, copy_max_bytes)')
    .action((name: string) => {
      const hits = findExplained(name).map(formatExplained);
      const attr = sysfsAttr(name);
      if (attr) hits.push(attr);
      if (!hits.length) {
        const words = [...new Set([...explainEntries().flatMap((e) => [e.path, e.path.split('.').pop()!]), ...Object.keys(QUEUE_ATTR_DOCS)])];
        const near = nearest(name.replace(/^\/?sys\/block\/[^/]+\/queue\//, ''), words);
        process.stderr.write(`copylab: explain: no scenario key, step, device or sysfs attribute named '${name}'${near ? ` (did you mean '${near}'?)` : ''}; steps and devices are listed by \`copylab explain steps\` and \`copylab explain devices\`, sysfs attributes by \`copylab sysfs ls /sys/block/nullb0/queue\`\n`);
        return setExit(EXIT_USAGE);
      }
      process.stdout.write(`${hits.join('\n\n')}\n`);
      setExit(EXIT_OK);
    });
}
