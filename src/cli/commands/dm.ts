/**
 * `copylab dmsetup SCENARIO VERB [ARGS…]`: dmsetup's verbs against the lab a scenario builds
 * (its devices and stack). `copylab compare-strategies SCENARIO [--json]`: the scenario's copy
 * steps under each plumbing strategy, side by side.
 */
import type { Command } from 'commander';
import { buildLab } from '../../scenario/run.js';
import { dmsetup, dmsetupUsageError, DMSETUP_VERBS } from '../../dm/dmsetup.js';
import { compareStrategies, formatStrategies } from '../../scenario/compare.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, scenarioFrom, type SetExit } from '../common.js';

export function registerDm(program: Command, setExit: SetExit): void {
  program
    .command('dmsetup <scenario> <verb> [args...]')
    .description(`device-mapper commands on a scenario's lab (${DMSETUP_VERBS.join(', ')}); tables with --table (';' separates lines)`)
    .allowUnknownOption()
    .helpOption(false)
    .action(async (file: string, verb: string, args: string[]) => {
      const bad = dmsetupUsageError([verb, ...args]);
      if (bad) {
        process.stderr.write(`copylab dmsetup: ${bad}\n`);
        return setExit(EXIT_USAGE);
      }
      const lab = buildLab(scenarioFrom(file));
      const r = await dmsetup(lab, [verb, ...args]);
      if (r.res < 0) setExit(fail(r.message ?? verb, r.res));
      else {
        if (r.output) process.stdout.write(`${r.output}\n`);
        if (verb === 'create' || verb === 'reload') {
          const t = await dmsetup(lab, ['table', args[0]!]);
          if (t.output) process.stdout.write(`${t.output}\n`);
        }
        setExit(EXIT_OK);
      }
      await lab.close();
    });
  program
    .command('compare-strategies <scenario>')
    .description('run the scenario under the vectored, paired and token copy strategies and compare its copies')
    .option('--json', 'print one JSON object per copy step and strategy')
    .action(async (file: string, opts: { json?: boolean }) => {
      const cmp = await compareStrategies(scenarioFrom(file));
      if (opts.json) process.stdout.write(cmp.rows.map((r) => JSON.stringify(r)).join('\n') + (cmp.rows.length ? '\n' : ''));
      else process.stdout.write(`${file}\n${formatStrategies(cmp, { color: !!process.stdout.isTTY })}\n`);
      // Expectations written for one strategy may not hold for another; wrong data always fails.
      setExit(Object.values(cmp.verifyFailures).every((f) => f.length === 0) ? EXIT_OK : EXIT_FAILED);
    });
}
