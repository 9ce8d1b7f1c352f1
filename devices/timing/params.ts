/**
 * Timing model parameters: what a device's modeled time is made of (docs/timing.md). One flat
 * table of snake_case keys, as a scenario writes them (`timing: { preset: femu, dies_per_channel: 16 }`),
 * each with its unit in the name and its bounds checked before a model is built.
 */
import { LRU_MAX_ENTRIES } from './lru.js';
import { LINKS, TIMING_PRESETS, type LinkName } from './presets.js';

/** Copy destination placement (docs/timing.md, "Copies"). */
export const ALLOCATIONS = ['frontier', 'copyback-aware'] as const;
export type AllocationName = (typeof ALLOCATIONS)[number];

/**
 * What a flash command occupies (docs/timing.md, "How the device schedules"): one die, or the
 * whole chip (package) its die is in. MQSim's transaction scheduling unit issues a command to a
 * chip only when the chip is idle and a command drives one die of it (TSU_Base
 * issue_command_to_chip; its FTL reports 0 interleaved multi-die reads on random 4 KiB loads), so
 * a chip is one server; FEMU and NVMeVirt keep one timeline per LUN (die).
 */
export const ISSUES = ['die', 'chip'] as const;
export type IssueName = (typeof ISSUES)[number];

/**
 * What one host write programs: `page` packs writes into whole flash pages at the frontier (an
 * FTL with a write buffer that fills pages, FEMU, NVMeVirt); `write` programs a page for each
 * write's piece of a page, paying a full tPROG however few bytes it holds (MQSim writes each
 * cached 4 KiB sector group back as its own flash transaction).
 */
export const PROGRAM_UNITS = ['page', 'write'] as const;
export type ProgramUnitName = (typeof PROGRAM_UNITS)[number];

/**
 * Where host data pages go: `dynamic`, the write frontier moving a die on per page (FEMU,
 * NVMeVirt); `cwdp`, statically by logical page number, channel then chip, die and plane, each
 * plane filled in order (MQSim's Plane_Allocation_Scheme CWDP).
 */
export const PLANE_ALLOCATIONS = ['dynamic', 'cwdp'] as const;
export type PlaneAllocationName = (typeof PLANE_ALLOCATIONS)[number];

/**
 * What evicting a changed (dirty) entry from the cached mapping table does (docs/timing.md, "The
 * mapping cache"): `none`, nothing is charged; `program`, its translation page is written back as
 * DFTL does (ASPLOS'09; MQSim's generate_flash_writeback_request_for_mapping_data): the page is
 * read (a translation read that later misses in the page share), every changed cached entry of the
 * page is merged in and made clean, and the page is programmed; until the program is done the page
 * is in controller memory and a miss in it reads no flash; `held`, the same without the program:
 * the page stays in controller memory from then on (MQSim at 7ec40e3: its PRIORITY_OUT_OF_ORDER
 * scheduler queues translation writes in a queue it never serves, TSU_Priority_OutOfOrder::
 * service_write_transaction, so the page never leaves DepartingMappingEntries).
 */
export const MAPPING_WRITEBACKS = ['none', 'program', 'held'] as const;
export type MappingWritebackName = (typeof MAPPING_WRITEBACKS)[number];

/**
 * How host reads get their flash time (docs/timing.md, "Reads dispatched on events"): `reserve`,
 * each read reserves its die and channel slots in their calendars when it is issued, its
 * completion time fixed then; `event`, a read waits in its chip's (or die's) queue and is
 * dispatched when its chip and channel get to it, by the rules of MQSim's flash back end (a page
 * sensed takes the channel's first free slot, the pages already waiting first; an idle chip is
 * commanded only when its channel is free, the channel's chips in round robin, one command per
 * free slot: NVM_PHY_ONFI_NVDDR2 and TSU_Base at MQSim 7ec40e3), its completion time known when
 * its page has been sensed. Reads a device submits through TimingModel.readThen are dispatched so;
 * everything else (programs, erases, copies, translation reads, reads charged synchronously)
 * keeps the calendars, and an event read in flight on a chip is given its remaining slots before
 * any of that is placed there.
 */
export const READ_DISPATCHES = ['reserve', 'event'] as const;
export type ReadDispatchName = (typeof READ_DISPATCHES)[number];

/** The string keys and the values each takes. */
export const TIMING_ENUMS = {
  link: Object.keys(LINKS) as readonly string[],
  allocation: ALLOCATIONS as readonly string[],
  issue: ISSUES as readonly string[],
  program_unit: PROGRAM_UNITS as readonly string[],
  plane_allocation: PLANE_ALLOCATIONS as readonly string[],
  mapping_writeback: MAPPING_WRITEBACKS as readonly string[],
  read_dispatch: READ_DISPATCHES as readonly string[],
} as const;

export type TimingParams = {
  /** The preset these values started from ('custom' when built from nothing). */
  readonly preset: string;
  // ── flash geometry ──
  readonly channels: number;
  readonly dies_per_channel: number;
  /** Dies in one chip (package); a channel's dies form dies_per_channel / dies_per_chip chips. */
  readonly dies_per_chip: number;
  /** What a flash command occupies: its die, or its whole chip. */
  readonly issue: IssueName;
  /** Planes per die: pages of one page number on distinct planes are programmed together (multi-plane). */
  readonly planes: number;
  /** How host reads get their flash time: reserved at issue, or dispatched on events (READ_DISPATCHES). */
  readonly read_dispatch: ReadDispatchName;
  /** Where host data pages go: the write frontier, or statically by logical page (MQSim's CWDP). */
  readonly plane_allocation: PlaneAllocationName;
  /** Bytes of one plane's flash page: a read senses one (tR), a program writes one per plane (tPROG). */
  readonly page_bytes: number;
  readonly pages_per_block: number;
  // ── flash timings ──
  readonly tr_us: number;
  /**
   * 1: a die is free for its next sense once tR ends; the page leaves over the channel from its
   * cache register meanwhile (ONFI READ CACHE; FEMU frees a LUN after tR). 0: the die stays
   * busy until its page register has been emptied onto the channel (NVMeVirt holds a LUN until
   * the channel transfer ends).
   */
  readonly cache_read: number;
  readonly tprog_us: number;
  readonly tbers_us: number;
  /** Per channel, MB/s (10^6 bytes per second). */
  readonly channel_mbps: number;
  /**
   * Channel time of one flash command's command and address cycles, ns (ONFI: the command and
   * address latch cycles, then tWB and tRR before the die works). A read's cycles need a free slot
   * on the channel, then the die senses at once and holds its page until the channel takes it; a
   * program's and an erase's cross the channel with (before) its data. 0: commands take no channel
   * time and a sense is timed to meet its channel slot (every preset but mqsim).
   */
  readonly command_cycle_ns: number;
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
  /**
   * Bytes of host-write data on their way to flash at once (the write window): a write waits while
   * this many bytes are buffered and not yet programmed. 0: the whole write-back buffer.
   */
  readonly write_window_bytes: number;
  /** What one host write programs: packed whole pages, or a page per write. */
  readonly program_unit: ProgramUnitName;
  /**
   * Controller DRAM for the page-mapping table (the cached mapping table, CMT): 0 keeps every
   * entry in DRAM; otherwise it holds mapping_cache_bytes / mapping_entry_bytes entries, least
   * recently used out first, and a read whose entry is missing first reads its translation page
   * from flash (DFTL, ASPLOS'09; MQSim's CMT).
   */
  readonly mapping_cache_bytes: number;
  /** Bytes one cached mapping entry takes (MQSim: ⌈(2·log2(physical pages) + sectors per page) / 8⌉). */
  readonly mapping_entry_bytes: number;
  /**
   * Bytes one entry takes in a translation page on flash, which need not hold the logical page
   * number its place gives (page_bytes / this entries per translation page); 0: mapping_entry_bytes.
   * MQSim: ⌈(log2(physical pages) + sectors per page) / 8⌉ (its GTD_entry_size).
   */
  readonly translation_entry_bytes: number;
  /** What evicting a changed mapping entry does: nothing, a write-back of its translation page, or the same held in memory without its program. */
  readonly mapping_writeback: MappingWritebackName;
  /**
   * 1: the first read of a logical page never written gives it a physical page there and then, so
   * its new mapping entry is changed (dirty) and is written back when evicted (MQSim's
   * online_create_entry_for_reads: its device's data predates the run); 0: such a read changes nothing.
   */
  readonly map_on_read: number;
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
  dies_per_chip: [1, 16, 'int'],
  planes: [1, 16, 'int'],
  page_bytes: [512, 1 << 20, 'int'],
  pages_per_block: [1, 65536, 'int'],
  tr_us: [0, 1e6, 'real'],
  tprog_us: [0, 1e6, 'real'],
  tbers_us: [0, 1e7, 'real'],
  channel_mbps: [1, 1e6, 'real'],
  command_cycle_ns: [0, 1e5, 'real'],
  ctrl_overhead_us: [0, 1e6, 'real'],
  ctrl_units: [1, 1024, 'int'],
  dram_bytes: [0, 2 ** 40, 'int'],
  dram_mbps: [0, 1e6, 'real'],
  dram_access_us: [0, 1e6, 'real'],
  write_window_bytes: [0, 2 ** 40, 'int'],
  mapping_cache_bytes: [0, 2 ** 40, 'int'],
  mapping_entry_bytes: [1, 64, 'int'],
  translation_entry_bytes: [0, 64, 'int'],
  map_on_read: [0, 1, 'int'],
  link_mbps: [1, 1e6, 'real'],
  link_latency_us: [0, 1e6, 'real'],
  copyback: [0, 1, 'int'],
  cache_read: [0, 1, 'int'],
  copy_range_us: [0, 1e6, 'real'],
  xcopy_mbps: [1, 1e6, 'real'],
  xcopy_segment_us: [0, 1e6, 'real'],
  populate_token_us: [0, 1e6, 'real'],
  fabric_mbps: [1, 1e6, 'real'],
  fabric_latency_us: [0, 1e6, 'real'],
};

export const TIMING_KEYS: readonly string[] = ['preset', ...Object.keys(TIMING_ENUMS), ...Object.keys(TIMING_BOUNDS)];

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
    const values = (TIMING_ENUMS as Record<string, readonly string[]>)[k];
    if (values) {
      if (typeof v !== 'string' || !values.includes(v)) throw new RangeError(`timing.${k} must be one of ${values.join(', ')}, not ${JSON.stringify(v)}`);
      out[k] = v;
      continue;
    }
    const b = (TIMING_BOUNDS as Record<string, readonly [number, number, string]>)[k];
    if (!b) throw new RangeError(`timing: unknown key ${k} (keys: ${TIMING_KEYS.join(', ')})`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < b[0] || v > b[1] || (b[2] === 'int' && !Number.isInteger(v))) {
      throw new RangeError(`timing.${k} must be ${b[2] === 'int' ? 'an integer' : 'a number'} in ${b[0]}..${b[1]}, not ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  if ((out.mapping_cache_bytes as number) / (out.mapping_entry_bytes as number) > LRU_MAX_ENTRIES) {
    throw new RangeError(`timing.mapping_cache_bytes / mapping_entry_bytes: at most ${LRU_MAX_ENTRIES} cached entries`);
  }
  if ((out.dies_per_channel as number) % (out.dies_per_chip as number) !== 0) {
    throw new RangeError(`timing.dies_per_chip (${String(out.dies_per_chip)}) must divide dies_per_channel (${String(out.dies_per_channel)})`);
  }
  return Object.freeze(out) as unknown as TimingParams;
}

export function presetNames(): string[] {
  return [TIMING_NONE, ...Object.keys(TIMING_PRESETS)];
}
