/** What a fault campaign reports: its counts, its wall time, and every failure it saw. */

export interface CampaignReport {
  readonly campaign: string;
  readonly seed: number;
  readonly rounds: number;
  /** Operations issued: writes, copies, reads, commands (each campaign says which). */
  readonly ops: number;
  /** Blocks read back and compared with what they must hold. */
  readonly blocksChecked: number;
  readonly wallMs: number;
  /** Campaign-specific counts (suspends, reloads, copies that ended with EIO, …). */
  readonly counts: Readonly<Record<string, number>>;
  /** One line per failure, naming the round and its seed; empty when every check held. */
  readonly failures: readonly string[];
}

/** Mutable counts a campaign fills in. */
export class Tally {
  rounds = 0;
  ops = 0;
  blocksChecked = 0;
  readonly counts: Record<string, number> = {};
  readonly failures: string[] = [];
  private readonly t0 = performance.now();

  constructor(readonly campaign: string, readonly seed: number) {}

  count(what: string, n = 1): void {
    this.counts[what] = (this.counts[what] ?? 0) + n;
  }

  fail(round: number, roundSeed: number, message: string): void {
    // Bounded: a campaign stops at its first failures; the rest would repeat them.
    if (this.failures.length < 20) this.failures.push(`${this.campaign} round ${round} (round seed ${roundSeed}): ${message}`);
  }

  report(): CampaignReport {
    return { campaign: this.campaign, seed: this.seed, rounds: this.rounds, ops: this.ops, blocksChecked: this.blocksChecked, wallMs: Math.round(performance.now() - this.t0), counts: { ...this.counts }, failures: [...this.failures] };
  }
}
