/**
 * What the log-structured layer (lfs.ts) asks of a mover whose victim jobs run on another thread
 * (worker-mover.ts): the layer has freed each victim and pointed nothing at its destinations yet
 * when the job is queued, so before it reuses a section, or follows a map entry into a free
 * section, it asks whether a pending job still reads or writes there.
 */

/** Where a block is whose map entry points into a free section (SectionFlight.forward). */
export type Forward =
  /** A pending job moves the block: it rests at `to` (its move taken over from the job, or waited for). */
  | { readonly kind: 'moved'; readonly to: number }
  /** The job that moved the block is done: read the map entry again. */
  | { readonly kind: 'done' }
  /** No job moves the block: it is lost. */
  | { readonly kind: 'gone' };

export const FORWARD_DONE: Forward = Object.freeze({ kind: 'done' });
export const FORWARD_GONE: Forward = Object.freeze({ kind: 'gone' });

export interface SectionFlight {
  /**
   * Waits until no pending job reads the section (as its victim) or writes it (as a
   * destination); true if the section was a pending job's victim since it was last taken.
   */
  settle(section: number): boolean;
  /** The section is being taken for writing (settle returned). */
  taken(section: number): void;
  /**
   * A map entry points at `phys` in free section `section`: where the block is. A job still to
   * run that moves it leaves the block's map entry to the caller.
   */
  forward(section: number, phys: number): Forward;
}
