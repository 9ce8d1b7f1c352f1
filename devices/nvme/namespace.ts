/**
 * A namespace: its media (a backing store), its LBA format, copy limits and, when zoned, its
 * zones. Namespaces belong to a subsystem and are attached to every controller in it.
 */
import type { TimingModel } from '../timing/model.js';
import type { Backing } from '../backing/backing.js';
import { MemoryBacking } from '../backing/memory.js';
import { SparseBacking } from '../backing/sparse.js';
import { NVME_DEFAULTS, namespaceProblem, type NvmeNamespaceOptions } from './defaults.js';
import { ZoneSet } from './zns.js';
import { ZoneState } from './spec.js';

/** A media error the lab injects: LBAs whose reads (or writes) fail. */
export interface MediaFault {
  readonly slba: number;
  readonly nlb: number;
  readonly op: 'read' | 'write';
}

/** Media faults kept per namespace. */
export const MEDIA_FAULTS_MAX = 64;

export class NvmeNamespace {
  readonly lbs: number;
  /** Namespace size in logical blocks (NSZE). */
  readonly nsze: number;
  readonly pif: 0 | 1 | 2;
  readonly mssrl: number;
  readonly mcl: number;
  readonly msrc: number;
  readonly backing: Backing;
  /** This namespace's own timing model (docs/timing.md); null: the controller's, if any. */
  timing: TimingModel | null = null;
  readonly zones: ZoneSet | null;
  readonly faults: MediaFault[] = [];

  constructor(readonly nsid: number, o: NvmeNamespaceOptions) {
    const opts = {
      size: o.size,
      lbs: o.lbs ?? NVME_DEFAULTS.lbs,
      backing: o.backing ?? NVME_DEFAULTS.backing,
      memory_limit: o.memory_limit ?? NVME_DEFAULTS.memory_limit,
      pif: o.pif ?? NVME_DEFAULTS.pif,
      mssrl: o.mssrl ?? NVME_DEFAULTS.mssrl,
      mcl: o.mcl ?? NVME_DEFAULTS.mcl,
      msrc: o.msrc ?? NVME_DEFAULTS.msrc,
      zoned: o.zoned ?? NVME_DEFAULTS.zoned,
      zone_size: o.zone_size ?? NVME_DEFAULTS.zone_size,
      zone_capacity: o.zone_capacity ?? NVME_DEFAULTS.zone_capacity,
      max_open: o.max_open ?? NVME_DEFAULTS.max_open,
      max_active: o.max_active ?? NVME_DEFAULTS.max_active,
      auto_transition: o.auto_transition ?? NVME_DEFAULTS.auto_transition,
    };
    const problem = namespaceProblem(opts);
    if (problem) throw new RangeError(`namespace ${nsid}: ${problem}`);
    this.lbs = opts.lbs;
    this.nsze = opts.size / opts.lbs;
    this.pif = opts.pif;
    this.mssrl = opts.mssrl;
    this.mcl = opts.mcl;
    this.msrc = opts.msrc;
    this.backing = opts.backing === 'memory' ? new MemoryBacking(opts.size) : new SparseBacking(opts.size, opts.memory_limit);
    if (opts.zoned) {
      const zsze = opts.zone_size / opts.lbs;
      const zcap = (opts.zone_capacity || opts.zone_size) / opts.lbs;
      this.zones = new ZoneSet({
        zsze,
        zcap,
        // QEMU rounds the namespace down to whole zones; so does copylab (the remainder is not addressable).
        nzones: Math.floor(this.nsze / zsze),
        maxOpen: opts.max_open,
        maxActive: opts.max_active,
        autoTransition: opts.auto_transition,
      });
      this.nsze = this.zones.cfg.nzones * zsze;
      for (const [list, state] of [[o.read_only_zones, ZoneState.READ_ONLY], [o.offline_zones, ZoneState.OFFLINE]] as const) {
        for (const i of list ?? []) {
          const z = this.zones.zones[i];
          if (!z) throw new RangeError(`namespace ${nsid}: zone ${i} does not exist`);
          this.zones.fail(z, state);
        }
      }
    } else {
      this.zones = null;
    }
  }

  get size(): number {
    return this.nsze * this.lbs;
  }

  /** LBA data size as a power of two (LBADS). */
  get lbads(): number {
    return Math.log2(this.lbs);
  }

  injectFault(f: MediaFault): void {
    if (this.faults.length >= MEDIA_FAULTS_MAX) this.faults.shift();
    this.faults.push(f);
  }

  /** A media fault that covers any of [slba, slba+nlb) for op, or undefined. */
  faultAt(op: 'read' | 'write', slba: number, nlb: number): MediaFault | undefined {
    return this.faults.find((f) => f.op === op && f.slba < slba + nlb && slba < f.slba + f.nlb);
  }

  /** Bounds check (nvme_check_bounds): LBA_RANGE when [slba, slba+nlb) leaves the namespace. */
  inBounds(slba: number, nlb: number): boolean {
    return Number.isSafeInteger(slba) && slba >= 0 && nlb >= 0 && slba + nlb <= this.nsze;
  }
}
