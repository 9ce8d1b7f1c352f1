/**
 * An NVM subsystem: an NQN, namespaces by NSID, and the controllers that reach them. Every
 * namespace is attached to every controller of its subsystem (QEMU's `shared=on`), so a Copy sent
 * to any controller may name any namespace of the subsystem as a source (formats 2 and 3).
 */
import { CommandTimer } from './command-timer.js';
import type { NvmeNamespace } from './namespace.js';
import { NVME_LIMITS } from './defaults.js';

export class NvmeSubsystem {
  readonly nqn: string;
  readonly namespaces = new Map<number, NvmeNamespace>();
  /** The order its inline controllers' I/O commands are timed in (command-timer.ts). */
  readonly timer = new CommandTimer();
  private nextCntlid = 1;

  constructor(readonly name: string) {
    this.nqn = `nqn.2024-01.io.copylab:subsys.${name}`;
  }

  /** The next free NSID (1-based, as the spec numbers them). */
  nextNsid(): number {
    for (let n = 1; n <= NVME_LIMITS.maxNamespaces; n++) if (!this.namespaces.has(n)) return n;
    throw new RangeError(`subsystem ${this.name} holds at most ${NVME_LIMITS.maxNamespaces} namespaces`);
  }

  addNamespace(ns: NvmeNamespace): void {
    if (this.namespaces.has(ns.nsid)) throw new RangeError(`subsystem ${this.name}: NSID ${ns.nsid} exists`);
    this.namespaces.set(ns.nsid, ns);
  }

  allocCntlid(): number {
    return this.nextCntlid++;
  }
}
