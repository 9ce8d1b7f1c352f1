/**
 * dmsetup's verbs over a Lab's device mapper (dmsetup(8)), shared by the `copylab dmsetup`
 * command and the `dmsetup` scenario step:
 *   create NAME [--uuid UUID] --table TABLE | table [--showkeys] [NAME] | status [NAME] |
 *   info [NAME] | reload NAME --table TABLE | suspend NAME | resume NAME | remove NAME | ls |
 *   message NAME SECTOR WORDS…
 * A table given with --table may separate lines with newlines or ';' (as in shell usage).
 * `table` hides crypt keys unless --showkeys, as dmsetup does (dmsetup-output.ts).
 */
import type { Lab } from '../lab.js';
import { Errno } from '../../core/util/errno.js';
import type { DmResult } from '../../core/dm/control.js';
import { formatInfo, hideKey } from './dmsetup-output.js';
import { isNear } from '../scenario/fields.js';

export const DMSETUP_VERBS = ['create', 'table', 'status', 'info', 'reload', 'suspend', 'resume', 'remove', 'ls', 'message'] as const;

/** dmsetup's options copylab takes: the verbs each applies to, and whether it takes a value. */
const OPTIONS: Readonly<Record<string, { readonly verbs: readonly string[]; readonly value: boolean }>> = {
  '--table': { verbs: ['create', 'reload'], value: true },
  '--uuid': { verbs: ['create'], value: true },
  '--showkeys': { verbs: ['table'], value: false },
};

const usage = (m: string): DmResult => ({ res: -Errno.EINVAL, message: m });

interface Parsed {
  readonly words: string[];
  readonly options: Map<string, string>;
}

/** Splits dmsetup's options (--table TEXT, --uuid UUID, --showkeys) out of the arguments. */
function parseArgs(argv: readonly string[]): Parsed {
  const words: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const o = OPTIONS[a];
    if (o) options.set(a, o.value ? argv[++i] ?? '' : '');
    else words.push(a);
  }
  const table = options.get('--table');
  if (table !== undefined) options.set('--table', table.replace(/;/g, '\n'));
  return { words, options };
}

/** Text of table/status for one device or, without a name, every device (`NAME: line`). */
function each(lab: Lab, name: string | undefined, fn: (n: string) => DmResult): DmResult {
  if (name) return fn(name);
  const out: string[] = [];
  for (const n of lab.dm.names()) {
    const r = fn(n);
    for (const line of (r.output ?? '').split('\n')) out.push(`${n}: ${line}`);
  }
  return { res: 0, output: out.length ? out.join('\n') : 'No devices found' };
}

/**
 * What is wrong with a dmsetup command line before it meets a lab (an unknown verb, a missing
 * NAME, SECTOR or --table), or undefined when it is well formed. The CLI and the scenario step
 * refuse such a line as unusable (exit 2) instead of running it.
 */
export function dmsetupUsageError(argv: readonly string[]): string | undefined {
  const { words, options } = parseArgs(argv);
  const table = options.get('--table');
  const [verb, name, ...rest] = words;
  if (!(DMSETUP_VERBS as readonly string[]).includes(verb ?? '')) {
    const close = DMSETUP_VERBS.filter((v) => verb !== undefined && isNear(verb, v));
    return `unknown dmsetup command ${JSON.stringify(verb ?? '')}${close.length ? `; did you mean ${close.join(' or ')}?` : ''} (${DMSETUP_VERBS.join(', ')})`;
  }
  const unknown = words.find((w) => w.startsWith('--'));
  if (unknown) return `dmsetup ${verb}: unknown option ${unknown} (${Object.keys(OPTIONS).filter((o) => OPTIONS[o]!.verbs.includes(verb!)).join(', ') || 'it takes none'})`;
  for (const o of options.keys()) if (!OPTIONS[o]!.verbs.includes(verb!)) return `dmsetup ${verb}: ${o} applies to ${OPTIONS[o]!.verbs.join(', ')} only`;
  if (options.get('--uuid') === '') return `usage: dmsetup ${verb} NAME --uuid UUID --table TABLE`;
  if ((verb === 'create' || verb === 'reload') && (!name || table === undefined)) return `usage: dmsetup ${verb} NAME --table TABLE`;
  if ((verb === 'suspend' || verb === 'resume' || verb === 'remove') && !name) return `usage: dmsetup ${verb} NAME`;
  if (verb === 'message' && (!name || rest[0] === undefined || !/^\d+$/.test(rest[0]) || rest.length < 2)) return 'usage: dmsetup message NAME SECTOR MESSAGE…';
  return undefined;
}

export async function dmsetup(lab: Lab, argv: readonly string[]): Promise<DmResult> {
  const bad = dmsetupUsageError(argv);
  if (bad) return usage(bad);
  const { words, options } = parseArgs(argv);
  const table = options.get('--table');
  const [verb, name, ...rest] = words;
  switch (verb) {
    case 'create':
    case 'reload':
      if (!name || table === undefined) return usage(`usage: dmsetup ${verb} NAME --table TABLE`);
      return verb === 'create' ? lab.dm.create(name, table, options.get('--uuid')) : lab.dm.reload(name, table);
    case 'table': {
      const keys = options.has('--showkeys');
      return each(lab, name, (n) => {
        const r = lab.dm.table(n);
        return keys || r.output === undefined ? r : { ...r, output: r.output.split('\n').map(hideKey).join('\n') };
      });
    }
    case 'status':
      return each(lab, name, (n) => lab.dm.status(n));
    case 'info': {
      const names = name ? [name] : lab.dm.names();
      if (!names.length) return { res: 0, output: 'No devices found' };
      const blocks: string[] = [];
      for (const n of names) {
        const r = lab.dm.info(n);
        if (!r.info) return r;
        blocks.push(formatInfo(r.info));
      }
      // dmsetup prints a blank line after each device.
      return { res: 0, output: blocks.map((b) => `${b}\n\n`).join('') };
    }
    case 'suspend':
      return name ? lab.dm.suspend(name) : usage('usage: dmsetup suspend NAME');
    case 'resume':
      return name ? lab.dm.resume(name) : usage('usage: dmsetup resume NAME');
    case 'remove':
      return name ? lab.dm.remove(name) : usage('usage: dmsetup remove NAME');
    case 'ls':
      return lab.dm.ls();
    case 'message': {
      const sector = rest[0];
      if (!name || sector === undefined || !/^\d+$/.test(sector) || rest.length < 2) return usage('usage: dmsetup message NAME SECTOR MESSAGE…');
      return lab.dm.message(name, Number(sector), rest.slice(1));
    }
    default:
      return usage(`unknown dmsetup command ${JSON.stringify(verb ?? '')} (${DMSETUP_VERBS.join(', ')})`);
  }
}
