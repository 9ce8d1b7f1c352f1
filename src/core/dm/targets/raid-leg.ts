/**
 * What raid1 and raid5 share: a leg (one data device) and its health character in the dm-raid
 * status line (Documentation/admin-guide/device-mapper/dm-raid.rst): 'A' alive and in sync,
 * 'a' alive but not in sync (recovering), 'D' dead/failed. The table parser (raid.ts) builds
 * the targets; the targets import this module, never the parser.
 */
import type { BlockDevice } from '../../block/device.js';

export type LegHealth = 'A' | 'a' | 'D';

export interface RaidLeg {
  readonly dev: BlockDevice;
  health: LegHealth;
}

/**
 * A leg whose health changes call `onChange` (the dm device's table event, as dm-raid raises
 * dm_table_event when a device fails and when a recovery ends): the event number of `dmsetup
 * info` counts them.
 */
export function raidLeg(dev: BlockDevice, health: LegHealth, onChange: () => void): RaidLeg {
  let h = health;
  return {
    dev,
    get health(): LegHealth {
      return h;
    },
    set health(next: LegHealth) {
      if (next === h) return;
      h = next;
      onChange();
    },
  };
}

/** Parses a leg index of a `dmsetup message` (fail N, revive N). */
export function legIndex(text: string | undefined, legs: number): number | null {
  if (text === undefined || !/^\d+$/.test(text)) return null;
  const i = Number(text);
  return i < legs ? i : null;
}
