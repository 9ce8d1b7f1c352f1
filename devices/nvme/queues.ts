/**
 * Submission and completion queues as the controller sees them (Base 3.3): rings of 64-byte and
 * 16-byte entries in host memory (the DMA arena), a head and a tail each, and the phase tag the
 * controller inverts every time it wraps a completion queue.
 */
export interface SubmissionQueue {
  readonly qid: number;
  readonly base: number;
  /** Entries (QSIZE + 1). */
  readonly size: number;
  readonly cqid: number;
  /** Next entry the controller fetches. */
  head: number;
  /** Last tail the host wrote to the doorbell. */
  tail: number;
}

export interface CompletionQueue {
  readonly qid: number;
  readonly base: number;
  readonly size: number;
  /** Next slot the controller writes. */
  tail: number;
  /** Last head the host wrote to the doorbell. */
  head: number;
  /** Phase tag of the entries being written; starts at 1 (Base 4.6). */
  phase: number;
  /** Slots promised to commands whose completion waits for its modeled time (docs/timing.md). */
  reserved?: number;
}

/** No slot left: the entries written and the ones promised fill the queue but one (Base 4.6). */
export const cqFull = (cq: CompletionQueue): boolean => ((cq.tail - cq.head + cq.size) % cq.size) + (cq.reserved ?? 0) >= cq.size - 1;
export const sqEmpty = (sq: SubmissionQueue): boolean => sq.head === sq.tail;
