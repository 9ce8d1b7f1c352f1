/**
 * Timing model parameters: what a device's modeled time is made of (docs/timing.md). One flat
 * table of snake_case keys, as a scenario writes them (`timing: { preset: femu, dies_per_channel: 16 }`),
 * each with its unit in the name and its bounds checked before a model is built.
 */
import { LINKS, TIMING_PRESETS, type LinkName } from './presets.js';

/** Copy destination placement (docs/timing.md, "Copies"). */
export const ALLOCATIONS = ['frontier', 'copyback-aware'] as const;
export type AllocationName = (typeof ALLOCATIONS)[number];

export type TimingParams = {
  /** The preset these values started from ('custom' when built from nothing). */
  readonly preset: string;
  // ── flash geometry ──
  readonly channels: number;
  readonly dies_per_channel: number;
  readonly planes: number;
  /** Bytes one die operation (tR / tPROG) moves: the flash page, planes included. */
  readonly page_bytes: number;
  readonly pages_per_block: number;
  // ── flash timings ──
  readonly tr_us: number;
  readonly tprog_us: number;
  readonly tbers_us: number;
  /** Per channel, MB/s (10^6 bytes per second). */
  readonly channel_mbps: number;
  // ── controller ──
  /** Controller time per command (firmware, FTL lookup). */
  readonly ctrl_overhead_us: number;
  /** Commands the controller works on at once (its cores). */
  readonly ctrl_units: number;
  /** Write-back buffer for host writes; 0 = write-through (a write completes when programmed). */
  readonly dram_bytes: number;
  /** The buffer's DRAM as a resource host writes pass through: MB/s (0 = not modeled) and a fixed cost per access. */
  readonly dram_mbps: number;
  readonly dram_access_us: number;
  // ── host link ──
  readonly link: LinkName;
  /** Per direction, MB/s; the link's nominal rate unless overridden. */
  readonly link_mbps: number;
  /** One-way latency of a command reaching the device. */
  readonly link_latency_us: number;
  // ── internal copy paths ──
  /** 1: a copy's destination page on the die of its main source page is programmed from that die's register (copyback); 0: always through the controller. */
  readonly copyback: number;
  /** Where a copy's destination pages go: at the write frontier, or on their main source page's die (ZNS+'s copyback-aware allocation). */
  readonly allocation: AllocationName;
  /** NVMe Copy: controller time per source range (descriptor fetch, FTL lookups). */
  readonly copy_range_us: number;
  /** SCSI copy manager: its data mover's rate and per-segment cost (EXTENDED COPY, WRITE USING TOKEN). */
  readonly xcopy_mbps: number;
  readonly xcopy_segment_us: number;
  /** SCSI POPULATE TOKEN: building the ROD token's representation. */
  readonly populate_token_us: number;
  /** Cross-device copies inside a copy domain: the fabric between the devices. */
  readonly fabric_mbps: number;
  readonly fabric_latency_us: number;
};

type NumericKey = { [K in keyof TimingParams]: TimingParams[K] extends number ? K : never }[keyof TimingParams];

/** Bounds of every numeric key (a limit on everything; keeps every product exact in a double). */
export const TIMING_BOUNDS: Readonly<Record<NumericKey, readonly [number, number, 'int' | 'real']>> = {
  channels: [1, 256, 'int'],
  dies_per_channel: [1, 256, 'int'],
  planes: [1, 16, 'int'],
  page_bytes: [512, 1 << 20, 'int'],
  pages_per_block: [1, 65536, 'int'],
  tr_us: [0, 1e6, 'real'],
  tprog_us: [0, 1e6, 'real'],
  tbers_us: [0, 1e7, 'real'],
  channel_mbps: [1, 1e6, 'real'],
  ctrl_overhead_us: [0, 1e6, 'real'],
  ctrl_units: [1, 1024, 'int'],
  dram_bytes: [0, 2 ** 40, 'int'],
  dram_mbps: [0, 1e6, 'real'],
  dram_access_us: [0, 1e6, 'real'],
  link_mbps: [1, 1e6, 'real'],
  link_latency_us: [0, 1e6, 'real'],
  copyback: [0, 1, 'int'],
  copy_range_us: [0, 1e6, 'real'],
  xcopy_mbps: [1, 1e6, 'real'],
  xcopy_segment_us: [0, 1e6, 'real'],
  populate_token_us: [0, 1e6, 'real'],
  fabric_mbps: [1, 1e6, 'real'],
  fabric_latency_us: [0, 1e6, 'real'],
};

export const TIMING_KEYS: readonly string[] = ['preset', 'link', 'allocation', ...Object.keys(TIMING_BOUNDS)];

/** What a scenario or the library may write: a preset name, or a preset plus overrides. */
export type TimingSpec = string | ({ readonly preset?: string } & Partial<Omit<TimingParams, 'preset'>>);

/** The preset that means "no timing model": commands complete at once, as before modeled time. */
export const TIMING_NONE = 'none';

/**
 * Resolves a spec to parameters, or null for `none` (and for no spec at all). Throws RangeError
 * naming the key on an unknown preset, key or out-of-range value.
 */
export function resolveTiming(spec: TimingSpec | undefined | null): TimingParams | null {
  if (spec === undefined || spec === null) return null;
  const obj: Record<string, unknown> = typeof spec === 'string' ? { preset: spec } : { ...spec };
  if (typeof obj !== 'object' || Array.isArray(obj)) throw new RangeError('timing must be a preset name or a mapping');
  const presetName = obj.preset ?? (typeof spec === 'string' ? spec : undefined);
  if (presetName === TIMING_NONE) {
    const extra = Object.keys(obj).filter((k) => k !== 'preset');
    if (extra.length) throw new RangeError(`timing: preset none takes no parameters (got ${extra.join(', ')})`);
    return null;
  }
  if (presetName === undefined) throw new RangeError(`timing: preset is required (one of ${presetNames().join(', ')})`);
  if (typeof presetName !== 'string' || !(presetName in TIMING_PRESETS)) {
    throw new RangeError(`timing: unknown preset ${JSON.stringify(presetName)} (one of ${presetNames().join(', ')})`);
  }
  const base = TIMING_PRESETS[presetName]!;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'preset') continue;
    if (k === 'link') {
      if (typeof v !== 'string' || !(v in LINKS)) throw new RangeError(`timing.link: unknown link ${JSON.stringify(v)} (one of ${Object.keys(LINKS).join(', ')})`);
      out.link = v;
      // A link named without a rate takes the link's nominal rate and latency.
      if (obj.link_mbps === undefined) out.link_mbps = LINKS[v as LinkName].mbps;
      if (obj.link_latency_us === undefined) out.link_latency_us = LINKS[v as LinkName].latency_us;
      continue;
    }
    if (k === 'allocation') {
      if (typeof v !== 'string' || !(ALLOCATIONS as readonly string[]).includes(v)) {
        throw new RangeError(`timing.allocation must be one of ${ALLOCATIONS.join(', ')}, not ${JSON.stringify(v)}`);
      }
      out.allocation = v;
      continue;
    }
    const b = (TIMING_BOUNDS as Record<string, readonly [number, number, string]>)[k];
    if (!b) throw new RangeError(`timing: unknown key ${k} (keys: ${TIMING_KEYS.join(', ')})`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < b[0] || v > b[1] || (b[2] === 'int' && !Number.isInteger(v))) {
      throw new RangeError(`timing.${k} must be ${b[2] === 'int' ? 'an integer' : 'a number'} in ${b[0]}..${b[1]}, not ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  return Object.freeze(out) as unknown as TimingParams;
}

export function presetNames(): string[] {
  return [TIMING_NONE, ...Object.keys(TIMING_PRESETS)];
}
