/**
 * Victim selection, after fs/f2fs/gc.c (get_victim_by_default and its helpers):
 * - greedy: the section with the fewest valid blocks (get_gc_cost, GC_GREEDY; F2FS's foreground
 *   policy). Found through the SIT's valid-count buckets: the same choice as a full scan.
 * - cost-benefit: get_cb_cost, cost = UINT_MAX − 100·(100 − u)·age / (100 + u), u the valid
 *   percentage and age the section's mtime normalised to 0..100 between the oldest and newest
 *   seen (sit_i->min_mtime/max_mtime, widened as sections are looked at). F2FS's background
 *   policy, searching at most MAX_VICTIM_SEARCH sections from where the last search stopped
 *   (last_victim).
 * - age-threshold: ATGC's atgc_lookup_victim: among sections at least `ageThreshold` old, the
 *   oldest max(DEF_GC_THREAD_MAX_CANDIDATE_COUNT, candidate ratio of the dirty sections) are
 *   candidates, scored by age weight 60% and invalid share 40%; the best wins. F2FS refuses ATGC
 *   in LFS mode (zoned devices); the lab offers it anyway so it can be compared. Falls back to
 *   greedy when no section is old enough.
 */
import { DEF_GC_THREAD_AGE_WEIGHT, DEF_GC_THREAD_CANDIDATE_RATIO, DEF_GC_THREAD_MAX_CANDIDATE_COUNT, MAX_VICTIM_SEARCH } from './constants.js';
import { SectionState, type Sit } from './sit.js';

export type VictimPolicyName = 'greedy' | 'cost-benefit' | 'age-threshold';
export const VICTIM_POLICIES: readonly VictimPolicyName[] = ['greedy', 'cost-benefit', 'age-threshold'];

export interface VictimPolicy {
  readonly name: VictimPolicyName;
  /** A full section to clean, or −1 when there is none. `now` is the modification clock. */
  select(sit: Sit, now: number): number;
}

const UINT_MAX = 0xffffffff;

export class Greedy implements VictimPolicy {
  readonly name = 'greedy' as const;
  select(sit: Sit): number {
    return sit.fewestValid();
  }
}

export class CostBenefit implements VictimPolicy {
  readonly name = 'cost-benefit' as const;
  private lastVictim = 0;
  private minMtime = Infinity;
  private maxMtime = -Infinity;
  constructor(private readonly maxSearch = MAX_VICTIM_SEARCH) {}

  select(sit: Sit): number {
    const n = sit.sections;
    const sb = sit.sectionBlocks;
    let best = -1;
    let bestCost = Infinity;
    let seen = 0;
    let s = this.lastVictim;
    // First pass widens min/max mtime over the window, as get_cb_cost does with sit_i's bounds.
    for (let i = 0; i < n && seen < this.maxSearch; i++, s = s + 1 === n ? 0 : s + 1) {
      if (sit.state[s] !== SectionState.FULL) continue;
      seen++;
      const m = sit.mtime[s]!;
      if (m < this.minMtime) this.minMtime = m;
      if (m > this.maxMtime) this.maxMtime = m;
    }
    const span = this.maxMtime - this.minMtime;
    seen = 0;
    s = this.lastVictim;
    let stop = s;
    for (let i = 0; i < n && seen < this.maxSearch; i++, s = s + 1 === n ? 0 : s + 1) {
      if (sit.state[s] !== SectionState.FULL || sit.valid[s] === sb) continue;
      seen++;
      stop = s;
      const u = Math.floor((sit.valid[s]! * 100) / sb);
      const age = span > 0 ? 100 - Math.floor((100 * (sit.mtime[s]! - this.minMtime)) / span) : 0;
      const cost = UINT_MAX - Math.floor((100 * (100 - u) * age) / (100 + u));
      if (cost < bestCost) {
        bestCost = cost;
        best = s;
      }
    }
    this.lastVictim = stop + 1 === n ? 0 : stop + 1;
    return best;
  }
}

export class AgeThreshold implements VictimPolicy {
  readonly name = 'age-threshold' as const;
  private cand = new Int32Array(0);
  constructor(readonly ageThreshold: number) {}

  select(sit: Sit, now: number): number {
    const sb = sit.sectionBlocks;
    let dirty = 0;
    let minM = Infinity;
    for (let s = 0; s < sit.sections; s++) {
      if (sit.state[s] !== SectionState.FULL) continue;
      dirty++;
      if (sit.mtime[s]! < minM) minM = sit.mtime[s]!;
    }
    if (dirty === 0) return -1;
    const want = Math.max(DEF_GC_THREAD_MAX_CANDIDATE_COUNT, Math.floor((DEF_GC_THREAD_CANDIDATE_RATIO * dirty) / 100));
    // The oldest `want` sections at least the threshold old (the rb-tree's first entries).
    if (this.cand.length < dirty) this.cand = new Int32Array(dirty);
    let n = 0;
    const limit = now - this.ageThreshold;
    for (let s = 0; s < sit.sections; s++) {
      // A section with every block valid is not dirty: moving it frees nothing.
      if (sit.state[s] !== SectionState.FULL || sit.mtime[s]! > limit || sit.valid[s] === sb) continue;
      this.cand[n++] = s;
    }
    const cand = this.cand.subarray(0, n);
    if (n > want) cand.sort((a, b) => sit.mtime[a]! - sit.mtime[b]!);
    const k = Math.min(n, want);
    if (k === 0) return sit.fewestValid();
    const total = now + 1 - minM;
    let best = -1;
    let bestCost = Infinity;
    for (let i = 0; i < k; i++) {
      const s = this.cand[i]!;
      const age = ((now - sit.mtime[s]!) / total) * DEF_GC_THREAD_AGE_WEIGHT;
      const inv = ((sb - sit.valid[s]!) / sb) * (100 - DEF_GC_THREAD_AGE_WEIGHT);
      const cost = -(age + inv);
      if (cost < bestCost) {
        bestCost = cost;
        best = s;
      }
    }
    return best;
  }
}

export function makePolicy(name: VictimPolicyName, ageThreshold: number): VictimPolicy {
  switch (name) {
    case 'greedy':
      return new Greedy();
    case 'cost-benefit':
      return new CostBenefit();
    case 'age-threshold':
      return new AgeThreshold(ageThreshold);
  }
}
