/**
 * `copylab dmsetup VERB [ARGS…] [--scenario FILE]`: dmsetup's verbs against a lab (the default
 * lab, a scenario's devices and stack, or the shell's lab). The older form
 * `copylab dmsetup SCENARIO VERB [ARGS…]` still works. `copylab compare-strategies SCENARIO
 * [--json]`: the scenario's copy steps under each plumbing strategy, side by side.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { dmsetup, dmsetupUsageError, DMSETUP_VERBS } from '../../dm/dmsetup.js';
import { compareStrategies, formatStrategies } from '../../scenario/compare.js';
import { allowOutsidePathsOption, EXIT_FAILED, EXIT_OK, fail, openLab, scenarioFrom, UsageError, type SetExit } from '../common.js';

/** Each verb: its arguments (commander syntax) and what it does (dmsetup(8)). */
const VERBS: readonly { readonly verb: (typeof DMSETUP_VERBS)[number]; readonly args: string; readonly help: string; readonly table?: boolean }[] = [
  { verb: 'ls', args: '', help: 'list the dm devices with their device numbers' },
  { verb: 'table', args: '[name]', help: 'print the table of one device, or of every device (crypt keys as zeros unless --showkeys)' },
  { verb: 'status', args: '[name]', help: 'print the status lines (dm-raid: health, sync ratio)' },
  { verb: 'info', args: '[name]', help: 'print the state of one device, or of every device: name, ACTIVE or SUSPENDED, tables present, open count, event number, major and minor, targets, uuid' },
  { verb: 'create', args: '<name>', help: 'create a device from --table (then print its table)', table: true },
  { verb: 'reload', args: '<name>', help: 'load --table as the inactive table (resume activates it)', table: true },
  { verb: 'suspend', args: '<name>', help: 'wait for bios in flight; hold new bios until resume' },
  { verb: 'resume', args: '<name>', help: 'activate a reloaded table and reissue held bios' },
  { verb: 'remove', args: '<name>', help: 'remove a device (EBUSY while another table maps onto it)' },
  { verb: 'message', args: '<name> <sector> <words...>', help: 'send a message to a target (raid: fail N, revive N, resync)' },
];

/**
 * `dmsetup FILE VERB …` (the older form) → `dmsetup VERB … --scenario FILE`; a verb dmsetup does
 * not have is a UsageError naming the verbs it has.
 */
export function rewriteDmsetupArgv(argv: readonly string[]): string[] {
  if (argv[0] !== 'dmsetup') return [...argv];
  const file = argv[1];
  const isVerb = (w: string | undefined): boolean => w !== undefined && (w.startsWith('-') || w === 'help' || (DMSETUP_VERBS as readonly string[]).includes(w));
  const out = file !== undefined && !isVerb(file) && (/\.ya?ml$/i.test(file) || existsSync(file)) ? ['dmsetup', ...argv.slice(2), '--scenario', file] : [...argv];
  if (out[1] !== undefined && !isVerb(out[1])) throw new UsageError(`dmsetup: ${dmsetupUsageError([out[1]])}`);
  return out;
}

export function registerDm(program: Command, setExit: SetExit): void {
  const dm = program
    .command('dmsetup')
    .description(`device-mapper commands in dmsetup's syntax (${DMSETUP_VERBS.join(', ')}) on the lab: the default lab, --scenario FILE, or the shell's`);
  for (const v of VERBS) {
    const c = allowOutsidePathsOption(dm.command(`${v.verb}${v.args ? ` ${v.args}` : ''}`).description(v.help).option('-s, --scenario <file>', 'scenario whose devices and stack make up the lab'));
    if (v.table) c.option('--table <table>', "(required) the table: 'start length target args…' lines in 512-byte sectors (';' separates lines)");
    if (v.verb === 'create') c.option('-u, --uuid <uuid>', 'the device\'s UUID (up to 128 printable characters; dmsetup info and /sys/block/dm-N/dm/uuid show it)');
    if (v.verb === 'table') c.option('--showkeys', 'show crypt keys instead of zeros');
    c.action(async (...a: unknown[]) => {
      const cmd = a[a.length - 1] as Command;
      const opts = cmd.opts() as { scenario?: string; table?: string; uuid?: string; showkeys?: boolean; allowOutsidePaths?: boolean };
      const args = cmd.args.flatMap((x) => (Array.isArray(x) ? x : [x])) as string[];
      const argv = [v.verb, ...args, ...(opts.table !== undefined ? ['--table', opts.table] : []), ...(opts.uuid !== undefined ? ['--uuid', opts.uuid] : []), ...(opts.showkeys ? ['--showkeys'] : [])];
      // A command line dmsetup would not take is a usage error (exit 2), found before any lab is built.
      const bad = dmsetupUsageError(argv);
      if (bad) throw new UsageError(`dmsetup: ${bad}`);
      const h = openLab(opts.scenario, opts);
      try {
        const r = await dmsetup(h.lab, argv);
        if (r.res < 0) setExit(fail(r.message ?? v.verb, r.res));
        else {
          if (r.output) process.stdout.write(r.output.endsWith('\n') ? r.output : `${r.output}\n`);
          if (v.table) {
            const t = await dmsetup(h.lab, ['table', args[0]!]);
            if (t.output) process.stdout.write(`${t.output}\n`);
          }
          setExit(EXIT_OK);
        }
      } finally {
        await h.release();
      }
    });
  }
  allowOutsidePathsOption(program.command('compare-strategies [scenario]'))
    .description('run a scenario (default: the default lab) under the vectored, paired and token copy strategies and compare its copies')
    .option('--json', 'print one JSON object per copy step and strategy')
    .action(async (file: string | undefined, opts: { json?: boolean; allowOutsidePaths?: boolean }) => {
      const cmp = await compareStrategies(scenarioFrom(file, opts));
      if (opts.json) process.stdout.write(cmp.rows.map((r) => JSON.stringify(r)).join('\n') + (cmp.rows.length ? '\n' : ''));
      else process.stdout.write(`${file ?? 'default lab'}\n${formatStrategies(cmp, { color: !!process.stdout.isTTY })}\n`);
      // Expectations written for one strategy may not hold for another; wrong data always fails.
      setExit(Object.values(cmp.verifyFailures).every((f) => f.length === 0) ? EXIT_OK : EXIT_FAILED);
    });
}
