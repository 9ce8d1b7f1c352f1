/**
 * The file systems of a lab, by device (scenario steps find the one `mkfs` made). Kept beside the
 * lab rather than in it: a lab without files pays nothing.
 */
import type { Lab } from '../lab.js';
import type { Trace } from '../../core/block/trace.js';
import { Errno, ErrnoError } from '../../core/util/errno.js';
import { CopyFs, type FsOptions } from './fs.js';

const mounted = new WeakMap<Lab, Map<string, CopyFs>>();

function register(lab: Lab, fs: CopyFs): CopyFs {
  let m = mounted.get(lab);
  if (!m) mounted.set(lab, (m = new Map()));
  m.set(fs.dev.name, fs);
  return fs;
}

/** mkfs on a device of the lab (a new, empty file system replaces any made there before). */
export function mkfs(lab: Lab, dev: string, o: FsOptions = {}): CopyFs {
  return register(lab, CopyFs.mkfs(lab, dev, o));
}

/** mkfs with the metadata on the device (CopyFs.format), replacing any file system of the lab there. */
export async function format(lab: Lab, dev: string, o: Omit<FsOptions, 'metadata'> = {}, trace?: Trace): Promise<CopyFs> {
  return register(lab, await CopyFs.format(lab, dev, o, trace));
}

/**
 * mount (CopyFs.mount): what the device holds replaces the lab's file system on it, whose
 * memory (page cache, open files, anything not committed) is dropped, as a crash drops it.
 */
export async function mount(lab: Lab, dev: string, o: Parameters<typeof CopyFs.mount>[2] = {}, trace?: Trace): Promise<CopyFs> {
  return register(lab, await CopyFs.mount(lab, dev, o, trace));
}

/** The file system on a device; ENOENT naming the mkfs step it needs when there is none. */
export function fsOn(lab: Lab, dev: string): CopyFs {
  const name = lab.device(dev).name;
  const fs = mounted.get(lab)?.get(name);
  if (!fs) throw new ErrnoError(Errno.ENOENT, `${dev} has no file system: add a step  - mkfs: { dev: ${dev} }  before it`);
  return fs;
}
