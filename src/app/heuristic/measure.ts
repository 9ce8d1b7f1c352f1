/**
 * The size heuristic as a measurement (docs/heuristics.md): on one device of a lab, the modeled
 * time of an offloaded copy against an emulated one (read + write through host buffers) for
 * each size, the crossover above which offload pays, and the host bytes it saves. The kernel
 * series leaves the threshold to the driver; copylab's `copy_offload_min_bytes` takes the
 * crossover (`--apply`).
 *
 * Each copy starts on an idle device (the lab's clock is advanced past every buffered program),
 * so sizes do not disturb each other; modeled time is deterministic, so one run per size is
 * the figure.
 */
import type { Lab } from '../lab.js';
import type { BlockDevice } from '../../core/block/device.js';
import { ErrnoError, Errno } from '../../core/util/errno.js';
import { NS_PER_S } from '../../core/time/clock.js';

/** Sizes measured by default: 4 KiB … 64 MiB, ×4 per step. */
export const HEURISTIC_SIZES: readonly number[] = [4, 16, 64, 256, 1024, 4096, 16384, 65536].map((k) => k * 1024);
/** Modeled time allowed to settle between two copies (every buffered program finishes). */
const SETTLE_NS = 2 * NS_PER_S;

export interface HeuristicRow {
  readonly size: number;
  /** Modeled microseconds; null when the path could not run (the reason says why). */
  readonly offload_us: number | null;
  readonly emulated_us: number | null;
  /** emulated / offload: above 1 offload is faster. */
  readonly speedup: number | null;
  /** Host bytes the offload did not move (2 × size when it offloaded). */
  readonly host_bytes_saved: number;
  readonly note?: string;
}

export interface HeuristicResult {
  readonly device: string;
  readonly preset: string;
  readonly rows: readonly HeuristicRow[];
  /**
   * Smallest measured size from which offload is at least as fast at every larger size; 0 when
   * offload wins everywhere; null when it never does.
   */
  readonly crossover: number | null;
  /**
   * When offload wins at small sizes and loses from some size up (a copy manager slower than the
   * host path for bulk data): the first size it loses at. copy_offload_min_bytes can only set a
   * floor, so such a device is best left at 0 with its copy_max_bytes telling the story.
   */
  readonly loses_from: number | null;
}

async function timedCopy(lab: Lab, dev: BlockDevice, size: number, dst: number, emulate: boolean): Promise<{ us: number | null; path: string; host: number; note?: string }> {
  await lab.clock.sleep(SETTLE_NS);
  const q = `/sys/block/${dev.name}/queue`;
  const saved = lab.readSysfs(`${q}/copy_max_bytes`).value ?? '0';
  if (emulate) lab.writeSysfs(`${q}/copy_max_bytes`, '0');
  try {
    const t0 = lab.clock.now();
    const r = await lab.copy(dev, [{ srcOffset: 0, dstOffset: dst, length: size }]);
    const us = (lab.clock.now() - t0) / 1000;
    if (r.res < 0) return { us: null, path: r.path, host: r.host_bytes, note: r.message ?? `copy failed (${r.res})` };
    if (!emulate && r.path !== 'offload') return { us: null, path: r.path, host: r.host_bytes, note: r.reasons.join('; ') || `ran ${r.path}` };
    return { us, path: r.path, host: r.host_bytes };
  } finally {
    if (emulate) lab.writeSysfs(`${q}/copy_max_bytes`, saved);
  }
}

export async function measureHeuristic(lab: Lab, path: string, sizes: readonly number[] = HEURISTIC_SIZES): Promise<HeuristicResult> {
  const dev = lab.device(path);
  if (!dev.timing) throw new ErrnoError(Errno.EINVAL, `${dev.name} has no timing model: give it one (timing: { preset: … }) or use --timing PRESET`);
  if (dev.limits.zoned !== 'none') throw new ErrnoError(Errno.EINVAL, `${dev.name} is zoned: the heuristic copies to fixed offsets, which a sequential-write zone refuses; measure a conventional device with the same timing`);
  const q = `/sys/block/${dev.name}/queue`;
  const minBefore = lab.readSysfs(`${q}/copy_offload_min_bytes`).value ?? '0';
  lab.writeSysfs(`${q}/copy_offload_min_bytes`, '0');
  const rows: HeuristicRow[] = [];
  try {
    const lbs = dev.limits.logical_block_size;
    // The destination starts one flash page past the middle, so source and destination pages sit
    // on different dies (the copy runs through the controller, as an FTL's placement usually
    // makes it); same-die copyback is the model's other path (docs/timing.md).
    const page = Number(dev.timing.params.page_bytes) || lbs;
    const half = Math.floor(dev.capacity / 2 / lbs) * lbs + Math.ceil(page / lbs) * lbs;
    for (const size of sizes) {
      if (size % lbs !== 0) continue;
      if (half + size > dev.capacity) {
        rows.push({ size, offload_us: null, emulated_us: null, speedup: null, host_bytes_saved: 0, note: `larger than half of ${dev.name}` });
        continue;
      }
      // An untimed copy first, so both timed ones find the pages' mapping entries cached on a
      // device with a mapping cache (otherwise whichever ran second would find them there).
      if (Number(dev.timing.params.mapping_cache_bytes) > 0) await timedCopy(lab, dev, size, half, true);
      const off = await timedCopy(lab, dev, size, half, false);
      const emu = await timedCopy(lab, dev, size, half, true);
      const speedup = off.us !== null && emu.us !== null && off.us > 0 ? emu.us / off.us : null;
      rows.push({
        size,
        offload_us: off.us,
        emulated_us: emu.us,
        speedup,
        host_bytes_saved: off.us !== null ? emu.host - off.host : 0,
        ...(off.note ? { note: `offload: ${off.note}` } : emu.note ? { note: `emulation: ${emu.note}` } : {}),
      });
    }
  } finally {
    lab.writeSysfs(`${q}/copy_offload_min_bytes`, minBefore);
  }
  const crossover = crossoverOf(rows);
  const firstWin = rows.find((r) => r.speedup !== null && r.speedup >= 1);
  const losesAfterWin = crossover === null && firstWin ? rows.find((r) => r.size > firstWin.size && r.speedup !== null && r.speedup < 1) : undefined;
  return { device: dev.name, preset: dev.timing.params.preset, rows, crossover, loses_from: losesAfterWin?.size ?? null };
}

/** The smallest size from which offload wins (speedup ≥ 1) at every larger measured size. */
export function crossoverOf(rows: readonly HeuristicRow[]): number | null {
  const measured = rows.filter((r) => r.speedup !== null);
  if (measured.length === 0) return null;
  let from: number | null = null;
  for (let i = measured.length - 1; i >= 0; i--) {
    if (measured[i]!.speedup! >= 1) from = measured[i]!.size;
    else break;
  }
  if (from === null) return null;
  return from === measured[0]!.size ? 0 : from;
}
