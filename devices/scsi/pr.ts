/**
 * Persistent reservations of one logical unit (SPC-4 5.13): registrations per I_T nexus (here:
 * per initiator name), one reservation with its type, and the conflict rules of SPC-4 5.13.1
 * table 62 reduced to what a direct-access LU does: reads and writes. The copy manager asks
 * the same question for its own reads and writes, so a reservation blocks it exactly as it
 * blocks a direct command.
 */
import { PrType } from './constants.js';

export type Access = 'read' | 'write';

/** Registrations per LU (a limit on everything). */
export const PR_MAX_REGISTRATIONS = 256;

export class PersistentReservations {
  /** PRGENERATION (SPC-4 6.15.2): bumped by every REGISTER, CLEAR, PREEMPT. */
  generation = 0;
  readonly keys = new Map<string, bigint>();
  holder: string | null = null;
  type = 0;

  get reserved(): boolean {
    return this.type !== 0;
  }

  allRegistrants(): boolean {
    return this.type === PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS || this.type === PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
  }

  isHolder(initiator: string): boolean {
    if (!this.reserved) return false;
    if (this.allRegistrants()) return this.keys.has(initiator);
    return this.holder === initiator;
  }

  /** Whether `initiator` doing `access` conflicts with the reservation (SPC-4 table 62). */
  conflicts(initiator: string, access: Access): boolean {
    if (!this.reserved || this.isHolder(initiator)) return false;
    const registered = this.keys.has(initiator);
    switch (this.type) {
      case PrType.WRITE_EXCLUSIVE:
        return access === 'write';
      case PrType.EXCLUSIVE_ACCESS:
        return true;
      case PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY:
      case PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS:
        return access === 'write' && !registered;
      case PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY:
      case PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS:
        return !registered;
      default:
        return false;
    }
  }

  release(): void {
    this.holder = null;
    this.type = 0;
  }
}

export const VALID_PR_TYPES: readonly number[] = Object.values(PrType);
