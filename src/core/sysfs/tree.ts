/**
 * A sysfs-like tree: attribute files under directory paths, each with a show() and an optional
 * store(). Reads and writes return the kernel's answers (negative errno plus a message), never
 * throw: writing a read-only attribute is -EACCES (kernfs refuses the open), a missing path
 * -ENOENT, a directory -EISDIR, a value the attribute refuses -EINVAL with nothing changed.
 */
import { Errno } from '../util/errno.js';

export interface Attribute {
  show(): string;
  /** Returns null when the value was taken, or a message for -EINVAL (nothing changed). */
  store?(value: string): string | null;
}

export interface SysfsResult {
  /** 0 (or the bytes written) on success, a negative errno on failure. */
  readonly res: number;
  readonly value?: string;
  readonly message?: string;
}

export interface SysfsEntry {
  readonly name: string;
  readonly type: 'dir' | 'file';
  readonly mode?: 'r' | 'rw';
}

/** Longest value a store accepts (sysfs hands store() at most one page). */
export const SYSFS_MAX_WRITE = 4096;

function norm(path: string): string {
  const parts = path.split('/').filter((p) => p && p !== '.');
  return '/' + parts.join('/');
}

export class Sysfs {
  private readonly files = new Map<string, Attribute>();

  add(path: string, attr: Attribute): void {
    this.files.set(norm(path), attr);
  }

  /** Removes every file under a directory (a device going away). */
  removeTree(dir: string): void {
    const d = norm(dir) + '/';
    for (const p of [...this.files.keys()]) if (p.startsWith(d)) this.files.delete(p);
  }

  private isDir(path: string): boolean {
    const d = path === '/' ? '/' : path + '/';
    for (const p of this.files.keys()) if (p.startsWith(d)) return true;
    return false;
  }

  read(path: string): SysfsResult {
    const p = norm(path);
    const attr = this.files.get(p);
    if (attr) return { res: 0, value: attr.show() };
    if (this.isDir(p)) return { res: -Errno.EISDIR, message: `${p}: Is a directory` };
    return { res: -Errno.ENOENT, message: `${p}: No such file or directory` };
  }

  write(path: string, value: string): SysfsResult {
    const p = norm(path);
    const attr = this.files.get(p);
    if (!attr) {
      if (this.isDir(p)) return { res: -Errno.EISDIR, message: `${p}: Is a directory` };
      return { res: -Errno.ENOENT, message: `${p}: No such file or directory` };
    }
    if (!attr.store) return { res: -Errno.EACCES, message: `${p}: Permission denied (read-only attribute)` };
    if (value.length > SYSFS_MAX_WRITE) return { res: -Errno.EINVAL, message: `${p}: value longer than ${SYSFS_MAX_WRITE} bytes` };
    const problem = attr.store(value);
    if (problem !== null) return { res: -Errno.EINVAL, message: `${p}: Invalid argument: ${problem}` };
    return { res: value.length, value: attr.show() };
  }

  /** Lists a directory: its files and subdirectories, sorted. */
  ls(path: string): SysfsResult & { entries?: SysfsEntry[] } {
    const p = norm(path);
    if (this.files.has(p)) return { res: -Errno.ENOTDIR, message: `${p}: Not a directory` };
    const prefix = p === '/' ? '/' : p + '/';
    const entries = new Map<string, SysfsEntry>();
    for (const [f, attr] of this.files) {
      if (!f.startsWith(prefix)) continue;
      const rest = f.slice(prefix.length);
      const slash = rest.indexOf('/');
      const name = slash < 0 ? rest : rest.slice(0, slash);
      if (slash < 0) entries.set(name, { name, type: 'file', mode: attr.store ? 'rw' : 'r' });
      else if (!entries.has(name)) entries.set(name, { name, type: 'dir' });
    }
    if (entries.size === 0) return { res: -Errno.ENOENT, message: `${p}: No such file or directory` };
    return { res: 0, entries: [...entries.values()].sort((a, b) => a.name.localeCompare(b.name)) };
  }

  /**
   * The files and directories a shell glob names (`*`, `?` and `[…]` within one path component,
   * as sh expands them), sorted; [] when none: `/sys/block/nullb[02]/queue/copy_max_*`.
   */
  glob(pattern: string): string[] {
    const want = norm(pattern).split('/').slice(1);
    const res = want.map(globPart);
    const found = new Set<string>();
    for (const f of this.files.keys()) {
      const parts = f.split('/').slice(1);
      if (parts.length < want.length) continue;
      if (res.every((re, i) => re.test(parts[i]!))) found.add('/' + parts.slice(0, want.length).join('/'));
    }
    return [...found].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  }

  /** Every file path under a directory, sorted (for `sysfs ls -R`). */
  walk(path: string): string[] {
    const p = norm(path);
    const prefix = p === '/' ? '/' : p + '/';
    return [...this.files.keys()].filter((f) => f.startsWith(prefix) || f === p).sort();
  }
}

/** True when a path has glob characters (`*`, `?`, `[`). */
export function isGlob(path: string): boolean {
  return /[*?[]/.test(path);
}

/** One path component's glob as a regular expression: `*` any run, `?` one character, `[…]` / `[!…]` a set. */
function globPart(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = part.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let set = part.slice(i + 1, end);
      const negate = set.startsWith('!') || set.startsWith('^');
      if (negate) set = set.slice(1);
      re += `[${negate ? '^' : ''}${set.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Parses an unsigned decimal as the kernel's kstrtoull(buf, 10) does for a sysfs store:
 * optional '+', digits, one optional trailing newline. Returns undefined when it is not one.
 */
export function parseSysfsUnsigned(value: string): number | undefined {
  const m = /^\+?(\d+)\n?$/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}
