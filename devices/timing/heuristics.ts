/**
 * copy_offload_min_bytes for a device with a timing preset: the crossover `copylab heuristic
 * --timing all` measures in modeled time (offload against read + write emulation on an idle
 * device, 4 KiB … 64 MiB, ×4 per step; docs/heuristics.md keeps the tables). A test re-measures
 * and fails when a preset's model changes without this table.
 *
 * Why most presets cross over at 4 MiB: a whole-page copy is a same-die copyback that completes
 * only once programmed (tR + tPROG), while the emulated copy's writes complete in the write-back
 * buffer; offload wins once the copy is large enough that programs, not latency, bound both
 * paths and the emulation pays the link twice. confzns crosses at 1 MiB (its 16 KiB pages and
 * 450 µs tPROG keep copyback short); on the SAS array every size offloads (25 µs controller time
 * per command and a 4.8 GB/s link make each host round trip dear).
 */
const MiB = 1024 * 1024;

export const PRESET_OFFLOAD_MIN_BYTES: Readonly<Record<string, number>> = {
  femu: 4 * MiB,
  'femu-zns-tlc': 4 * MiB,
  'nvmevirt-zns': 4 * MiB,
  'nvmevirt-zn540': 4 * MiB,
  mqsim: 4 * MiB,
  simplessd: 4 * MiB,
  confzns: 1 * MiB,
  'sas-array': 0,
};

/** The measured default for a preset; 0 (every copy offloads) for custom parameters. */
export function offloadMinBytesFor(preset: string): number {
  return PRESET_OFFLOAD_MIN_BYTES[preset] ?? 0;
}
