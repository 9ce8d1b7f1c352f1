/**
 * copy_offload_min_bytes for a device with a timing preset: the crossover `copylab heuristic
 * --timing all` measures in modeled time (offload against read + write emulation on an idle
 * device, 4 KiB … 64 MiB, ×4 per step; docs/heuristics.md keeps the tables). A test re-measures
 * and fails when a preset's model changes without this table.
 *
 * Every preset offloads at every measured size: a device copy senses each source page once and
 * completes once its bytes are in the controller's buffer, a subset of the emulation's work
 * (which also crosses the host link twice and pays two more commands); docs/heuristics.md.
 */
export const PRESET_OFFLOAD_MIN_BYTES: Readonly<Record<string, number>> = {
  femu: 0,
  'femu-zns-tlc': 0,
  'nvmevirt-zns': 0,
  'nvmevirt-zn540': 0,
  mqsim: 0,
  simplessd: 0,
  confzns: 0,
  'sas-array': 0,
};

/** The measured default for a preset; 0 (every copy offloads) for custom parameters. */
export function offloadMinBytesFor(preset: string): number {
  return PRESET_OFFLOAD_MIN_BYTES[preset] ?? 0;
}
