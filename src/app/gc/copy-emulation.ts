/**
 * The copy path on a lab device where the copy engine will not offload (docs/gc.md, On lab
 * devices). Before the run: what the device's queue limits make the planner do (copy/plan.ts:
 * its refusal of a copy within the device, and copy_offload_min_bytes against the longest copy
 * the GC sends, one section), with the key that changes it. During the run: what the engine
 * did, bytes emulated per reason, from its results.
 */
import type { BlockDevice } from '../../core/block/device.js';
import { offloadRefusal } from '../../core/block/copy/plan.js';
import type { CopyResult, EmulationReasonCode } from '../../core/block/copy/types.js';
import { formatSize } from '../../core/util/size.js';

/** Most distinct emulation reasons a result keeps (a limit on everything). */
export const EMULATION_MAX_REASONS = 8;

/** Emulated bytes of one reason, with the first detail the engine gave for it. */
export interface CopyEmulationReason {
  readonly code: EmulationReasonCode;
  readonly bytes: number;
  readonly detail: string;
}

/** Where a device's copy_offload_min_bytes is set: its scenario key where it has one, and its sysfs attribute. */
export function minBytesKey(dev: BlockDevice): string {
  const sysfs = `/sys/block/${dev.name}/queue/copy_offload_min_bytes`;
  if (/^nullb\d+$/.test(dev.name)) return `the scenario key copy_offload_min_bytes of the nullblk device, or ${sysfs}`;
  if (/^nvme\d+n\d+$/.test(dev.name)) return `the scenario key copy_offload_min_bytes of the namespace, or ${sysfs}`;
  return sysfs;
}

/**
 * Before a copy-path run: why its copies, or the shorter ones, will be emulated (read and written
 * by the host) and which key changes it; null when every copy can offload. `longest`: the most
 * bytes one GC copy carries (a section: a victim's blocks go to consecutive destinations).
 */
export function copyEmulationNote(dev: BlockDevice, longest: number): string | null {
  const refusal = offloadRefusal(dev, dev);
  if (refusal) {
    const fix = refusal.code === 'no_offload' ? `; /sys/block/${dev.name}/queue/copy_max_bytes enables it where the device can copy (copy_max_hw_bytes above 0)` : '';
    return `every GC copy on ${dev.name} will be emulated (read and written by the host): ${refusal.detail}${fix}`;
  }
  const min = dev.limits.copy_offload_min_bytes;
  if (min <= 0) return null;
  const which = min > longest ? `every GC copy will be (one carries at most a section, ${formatSize(longest)})` : `the GC's shorter copies will be (one carries at most a section, ${formatSize(longest)})`;
  return `copies below ${dev.name}'s copy_offload_min_bytes (${formatSize(min)}) are emulated (read and written by the host), so ${which}; it is set by ${minBytesKey(dev)}`;
}

/** What a run's copies did: bytes emulated, per reason. */
export class CopyEmulationTally {
  bytes = 0;
  private readonly byCode = new Map<EmulationReasonCode, { bytes: number; detail: string }>();

  /** Counts the emulated pieces of one copy. */
  add(r: Pick<CopyResult, 'pieces'>): void {
    for (const p of r.pieces) {
      if (p.path !== 'emulated' || p.res < 0) continue;
      this.bytes += p.length;
      const code = p.reason?.code ?? 'offload_failed';
      const seen = this.byCode.get(code);
      if (seen) seen.bytes += p.length;
      else if (this.byCode.size < EMULATION_MAX_REASONS) this.byCode.set(code, { bytes: p.length, detail: p.reason?.detail ?? '' });
    }
  }

  reasons(): CopyEmulationReason[] {
    return [...this.byCode].map(([code, v]) => ({ code, bytes: v.bytes, detail: v.detail }));
  }
}
