/**
 * What dmsetup prints beyond the kernel's answers (libdm's tools/dmsetup.c): the key of a crypt
 * target replaced by zeros of the same length unless --showkeys (a kernel keyring reference,
 * `:32:logon:…`, is shown: it holds no secret), and `dmsetup info`'s long format.
 */
import type { DmInfo } from '../../core/dm/control.js';

/** One table line with its crypt key zeroed, as dmsetup table prints it without --showkeys. */
export function hideKey(line: string): string {
  const m = /^(\d+ \d+ crypt \S+ )(\S+)(.*)$/.exec(line);
  if (!m || m[2]!.startsWith(':')) return line;
  return `${m[1]}${'0'.repeat(m[2]!.length)}${m[3]}`;
}

/** dmsetup info's block for one device (_display_info_long), without the blank line after it. */
export function formatInfo(i: DmInfo): string {
  const tables = i.liveTable || i.inactiveTable ? [i.liveTable ? 'LIVE' : '', i.liveTable && i.inactiveTable ? ' & ' : '', i.inactiveTable ? 'INACTIVE' : ''].join('') : 'None';
  return [
    `Name:              ${i.name}`,
    `State:             ${i.suspended ? 'SUSPENDED' : 'ACTIVE'}`,
    `Read Ahead:        ${i.readAhead}`,
    `Tables present:    ${tables}`,
    `Open count:        ${i.openCount}`,
    `Event number:      ${i.eventNr}`,
    `Major, minor:      ${i.major}, ${i.minor}`,
    `Number of targets: ${i.targets}`,
    ...(i.uuid ? [`UUID: ${i.uuid}`] : []),
  ].join('\n');
}
