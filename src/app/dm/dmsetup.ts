/**
 * dmsetup's verbs over a Lab's device mapper (dmsetup(8)), shared by the `copylab dmsetup`
 * command and the `dmsetup` scenario step:
 *   create NAME --table TABLE | table [NAME] | status [NAME] | reload NAME --table TABLE |
 *   suspend NAME | resume NAME | remove NAME | ls | message NAME SECTOR WORDS…
 * A table given with --table may separate lines with newlines or ';' (as in shell usage).
 */
import type { Lab } from '../lab.js';
import { Errno } from '../../core/util/errno.js';
import type { DmResult } from '../../core/dm/control.js';

export const DMSETUP_VERBS = ['create', 'table', 'status', 'reload', 'suspend', 'resume', 'remove', 'ls', 'message'] as const;

const usage = (m: string): DmResult => ({ res: -Errno.EINVAL, message: m });

/** Splits `--table TEXT` out of the arguments. */
function takeTable(args: string[]): string | undefined {
  const i = args.indexOf('--table');
  if (i < 0) return undefined;
  const t = args[i + 1];
  args.splice(i, 2);
  return t?.replace(/;/g, '\n');
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
  const args = [...argv];
  const table = takeTable(args);
  const [verb, name, ...rest] = args;
  if (!(DMSETUP_VERBS as readonly string[]).includes(verb ?? '')) return `unknown dmsetup command ${JSON.stringify(verb ?? '')} (${DMSETUP_VERBS.join(', ')})`;
  if ((verb === 'create' || verb === 'reload') && (!name || table === undefined)) return `usage: dmsetup ${verb} NAME --table TABLE`;
  if ((verb === 'suspend' || verb === 'resume' || verb === 'remove') && !name) return `usage: dmsetup ${verb} NAME`;
  if (verb === 'message' && (!name || rest[0] === undefined || !/^\d+$/.test(rest[0]) || rest.length < 2)) return 'usage: dmsetup message NAME SECTOR MESSAGE…';
  return undefined;
}

export async function dmsetup(lab: Lab, argv: readonly string[]): Promise<DmResult> {
  const args = [...argv];
  const table = takeTable(args);
  const [verb, name, ...rest] = args;
  switch (verb) {
    case 'create':
    case 'reload':
      if (!name || table === undefined) return usage(`usage: dmsetup ${verb} NAME --table TABLE`);
      return verb === 'create' ? lab.dm.create(name, table) : lab.dm.reload(name, table);
    case 'table':
      return each(lab, name, (n) => lab.dm.table(n));
    case 'status':
      return each(lab, name, (n) => lab.dm.status(n));
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
