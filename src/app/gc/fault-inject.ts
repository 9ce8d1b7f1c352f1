/**
 * A deliberate GC bug, for the tests that prove the checks catch one (GcOptions.inject): the n-th
 * moved block of the run is dropped from its victim's moves or written to another block's place.
 * Both backends apply it to the plan a victim job expands to, after the map points at the
 * destinations, so the map and the device disagree as they would after such a bug.
 */
import type { MovePlan } from './lfs.js';
import type { GcOptions } from './options.js';

/** The plan as the buggy GC of a fault-injection run would execute it; true when the fault fell in this plan. */
export function injectFault(plan: MovePlan, movedBefore: number, inject: NonNullable<GcOptions['inject']>): boolean {
  const i = inject.at - movedBefore;
  if (i < 0 || i >= plan.count) return false;
  if (inject.kind === 'drop') {
    // The block is left out of the moves, though the map already points at its destination.
    for (let j = i; j + 1 < plan.count; j++) {
      plan.src[j] = plan.src[j + 1]!;
      plan.dst[j] = plan.dst[j + 1]!;
      plan.lba[j] = plan.lba[j + 1]!;
      plan.tag[j] = plan.tag[j + 1]!;
    }
    plan.count--;
  } else {
    // Two blocks written to each other's place (or one beside its own when it moves alone).
    const k = i + 1 < plan.count ? i + 1 : i - 1;
    if (k >= 0) {
      const d = plan.dst[i]!;
      plan.dst[i] = plan.dst[k]!;
      plan.dst[k] = d;
    } else plan.dst[i] = plan.dst[i]! ^ 1;
  }
  return true;
}
