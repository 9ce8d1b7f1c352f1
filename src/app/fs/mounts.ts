/**
 * The file systems of a lab, by device (scenario steps find the one `mkfs` made). Kept beside the
 * lab rather than in it: a lab without files pays nothing.
 */
import type { Lab } from '../lab.js';
import { Errno, ErrnoError } from '../../core/util/errno.js';
import { CopyFs, type FsOptions } from './fs.js';

const mounted = new WeakMap<Lab, Map<string, CopyFs>>();

/** mkfs on a device of the lab (a new, empty file system replaces any made there before). */
export function mkfs(lab: Lab, dev: string, o: FsOptions = {}): CopyFs {
  const fs = CopyFs.mkfs(lab, dev, o);
  let m = mounted.get(lab);
  if (!m) mounted.set(lab, (m = new Map()));
  m.set(fs.dev.name, fs);
  return fs;
}

/** The file system on a device; ENOENT naming the mkfs step it needs when there is none. */
export function fsOn(lab: Lab, dev: string): CopyFs {
  const name = lab.device(dev).name;
  const fs = mounted.get(lab)?.get(name);
  if (!fs) throw new ErrnoError(Errno.ENOENT, `${dev} has no file system: add a step  - mkfs: { dev: ${dev} }  before it`);
  return fs;
}
