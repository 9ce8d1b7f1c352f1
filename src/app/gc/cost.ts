/**
 * Modeled time for the GC lab, asked of one place: every user write and every victim's moves
 * go through a GcTimer, which turns them into device commands on a timing model and answers
 * when they complete (nanoseconds of modeled time). Without a timing model (`none`) everything
 * completes at once and the run reports 0 modeled seconds.
 */
import type { MovePlan } from './lfs.js';
import type { GcPathName } from './paths.js';

export interface GcTimer {
  readonly preset: string;
  /** Modeled time now (ns). */
  now(): number;
  /** A user write of one 4 KiB block at dense physical block p, issued now; returns its completion (ns). */
  userWrite(p: number): number;
  /** One victim's moves on `path`, issued now; returns when the last of them completes (ns). */
  gcMoves(plan: MovePlan, path: GcPathName): number;
  /** A section's reset (zone reset / discard), issued now. */
  reset(section: number): number;
  /** Moves the host's notion of now forward to t (the host waited for a completion). */
  advanceTo(t: number): void;
  /** Destination pages device copies programmed so far, and how many by copyback. */
  deviceCopy(): { pages: number; copyback: number };
}

export class NoTimer implements GcTimer {
  readonly preset = 'none';
  now(): number {
    return 0;
  }
  userWrite(): number {
    return 0;
  }
  gcMoves(): number {
    return 0;
  }
  reset(): number {
    return 0;
  }
  advanceTo(): void {}
  deviceCopy(): { pages: number; copyback: number } {
    return { pages: 0, copyback: 0 };
  }
}
