/**
 * Timing presets from the public simulators' published defaults (facts sheet "GC copy paths and
 * storage simulation"), plus host links. Where a simulator publishes no value for a key the
 * preset says what was assumed and why, next to the value.
 */
import type { TimingParams } from './params.js';

/**
 * Host links, per direction. PCIe: GT/s × lanes × 128b/130b (PCIe 3.0+ encoding) / 8 bits.
 * SAS-3: 12 Gb/s with 8b/10b → 1200 MB/s per lane; SAS-4 "24G": 22.5 Gb/s with 128b/150b
 * → 2400 MB/s. FC 32GFC: 3200 MB/s nominal (FC-PI-6). Ethernet: line rate / 8, before
 * protocol overhead. Latencies are typical one-way figures for the link plus its HBA/NIC.
 */
export const LINKS = {
  pcie3x4: { mbps: 3938, latency_us: 1 },
  pcie4x4: { mbps: 7877, latency_us: 1 },
  pcie5x4: { mbps: 15754, latency_us: 1 },
  sas12: { mbps: 1200, latency_us: 5 },
  sas12x4: { mbps: 4800, latency_us: 5 },
  sas24: { mbps: 2400, latency_us: 5 },
  fc32: { mbps: 3200, latency_us: 10 },
  eth25: { mbps: 3125, latency_us: 15 },
  eth100: { mbps: 12500, latency_us: 10 },
} as const;
export type LinkName = keyof typeof LINKS;

/**
 * MQSim's read command on its ONFI NVDDR2 channel, ns: tCS + 6 × tWC (command, five address
 * cycles, confirm) + tWB + tRR with its defaults tCS 20, tWC 25, tWB 100, tRR 20
 * (src/ssd/ONFI_Channel_NVDDR2.h; ReadCommandTime[1] in ONFI_Channel_NVDDR2.cpp at 7ec40e3). Its
 * program command is 361 ns (ProgramCommandTime[1]); one value serves both here.
 */
const MQSIM_COMMAND_NS = 20 + 6 * 25 + 100 + 20;

/** What every preset shares unless it says otherwise. */
const COMMON = {
  dies_per_chip: 1,
  issue: 'die' as const,
  read_dispatch: 'reserve' as const,
  planes: 1,
  plane_allocation: 'dynamic' as const,
  ctrl_overhead_us: 2,
  ctrl_units: 4,
  command_cycle_ns: 0,
  dram_bytes: 64 << 20,
  dram_mbps: 0,
  dram_access_us: 0,
  write_window_bytes: 0,
  program_unit: 'page' as const,
  mapping_cache_bytes: 0,
  mapping_entry_bytes: 8,
  translation_entry_bytes: 0,
  mapping_writeback: 'none' as const,
  map_on_read: 0,
  link: 'pcie3x4' as LinkName,
  link_mbps: LINKS.pcie3x4.mbps,
  link_latency_us: LINKS.pcie3x4.latency_us,
  copyback: 1,
  cache_read: 0,
  allocation: 'frontier' as const,
  copy_range_us: 0.5,
  xcopy_mbps: 2000,
  xcopy_segment_us: 20,
  populate_token_us: 50,
  fabric_mbps: 3200,
  fabric_latency_us: 2,
};

export const TIMING_PRESETS: Readonly<Record<string, TimingParams>> = {
  // FEMU blackbox (hw/femu/bbssd): tR 40 µs, tPROG 200 µs, erase 2 ms, 8 ch × 8 LUNs, 256 pages
  // per block, 4 KiB pages. FEMU's channel transfer latency defaults to 0; 800 MB/s (ONFI 4) is
  // assumed here so that channels can bind at all. FEMU frees a LUN after tR (its read-side
  // channel step is compiled out in ssd_advance_status): cache_read 1.
  femu: {
    ...COMMON, preset: 'femu', channels: 8, dies_per_channel: 8, page_bytes: 4096, pages_per_block: 256,
    tr_us: 40, tprog_us: 200, tbers_us: 2000, channel_mbps: 800, cache_read: 1,
  },
  // FEMU ZNS with TLC timings (read 32 µs, program 937.5 µs); geometry as blackbox, 16 KiB pages.
  'femu-zns-tlc': {
    ...COMMON, preset: 'femu-zns-tlc', channels: 8, dies_per_channel: 8, page_bytes: 16384, pages_per_block: 256,
    tr_us: 32, tprog_us: 937.5, tbers_us: 2000, channel_mbps: 800, cache_read: 1,
  },
  // NVMeVirt ZNS: 8 ch × 16 LUNs, 64 KiB page, 32 MiB zones, tR 40.95 µs, tPROG 1.91 ms,
  // channel 800 MB/s, PCIe 3200 MB/s. Erase: NVMeVirt's NAND_ERASE_LATENCY is not in the sheet;
  // 3.5 ms (a TLC erase) is assumed.
  'nvmevirt-zns': {
    ...COMMON, preset: 'nvmevirt-zns', channels: 8, dies_per_channel: 16, page_bytes: 65536, pages_per_block: 512,
    tr_us: 40.95, tprog_us: 1910, tbers_us: 3500, channel_mbps: 800, link_mbps: 3200,
  },
  // NVMeVirt's ZN540 preset: the same flash with 2 GiB zones (the zone size is the namespace's).
  'nvmevirt-zn540': {
    ...COMMON, preset: 'nvmevirt-zn540', channels: 8, dies_per_channel: 16, page_bytes: 65536, pages_per_block: 512,
    tr_us: 40.95, tprog_us: 1910, tbers_us: 3500, channel_mbps: 800, link_mbps: 3200,
  },
  // MQSim's shipped ssdconfig.xml (CMU-SAFARI/MQSim at 7ec40e3; bench/peers/mqsim.json): MLC, 8 KiB
  // pages, read 75 µs, program 750 µs, erase 3.8 ms; 8 channels × 4 chips × 2 dies × 2 planes,
  // data placed by logical page in CWDP order (a multi-plane program needs the same page number on
  // both planes: sequential writes get it, random ones rarely; multi-plane reads, 0.9% of its
  // random reads, are not modeled); its ONFI
  // NVDDR2 channel at 333 MT/s × 8 bits = 333 MB/s, each command's cycles on it (MQSIM_COMMAND_NS:
  // a chip is commanded only when its channel is idle and holds its sensed page until the channel
  // takes it); PCIe 4 lanes × 1.0 GB/s; no firmware time per command. Its scheduler issues a command to an idle chip, one die at a time (issue: chip).
  // Its data cache is 256 MiB of DRAM at 100 MT/s, which its model charges about 10.6 µs + 2.42 ns
  // per byte for each access (measured: 20.5 µs per 4 KiB, 328 µs per 128 KiB); host writes pass
  // through it, and it writes each cached write back as its own flash transaction (a page
  // program per write), at most one page per plane of the device in flight (its back-pressure
  // buffer: 8 × 4 × 2 × 2 pages × 8 KiB = 1 MiB). Its cached mapping table is 2 MiB of entries of
  // ⌈(2·26 + 16) / 8⌉ = 9 bytes (2^26 physical pages, 16 sectors per page); a translation page
  // holds 8192 / 6 = 1365 entries of ⌈(26 + 16) / 8⌉ = 6 bytes (no logical page number on flash;
  // GTD_entry_size in Address_Mapping_Unit_Page_Level.cpp). Evicting a changed entry reads its
  // translation page and queues its write, which its scheduler never issues, so the page stays in
  // memory and later misses in it read no flash (mapping_writeback: held); and the first read of a
  // page never written maps it then (online_create_entry_for_reads), a changed entry (map_on_read).
  mqsim: {
    ...COMMON, preset: 'mqsim', channels: 8, dies_per_channel: 8, dies_per_chip: 2, issue: 'chip', planes: 2, plane_allocation: 'cwdp',
    page_bytes: 8192, pages_per_block: 256,
    tr_us: 75, tprog_us: 750, tbers_us: 3800, channel_mbps: 333, command_cycle_ns: MQSIM_COMMAND_NS, ctrl_overhead_us: 0,
    link_mbps: 4000, link_latency_us: 0,
    dram_bytes: 256 << 20, dram_mbps: 413, dram_access_us: 10.6,
    write_window_bytes: 1 << 20, program_unit: 'write', mapping_cache_bytes: 2 << 20, mapping_entry_bytes: 9,
    translation_entry_bytes: 6, mapping_writeback: 'held', map_on_read: 1,
    // Reads wait in their chips' queues and are commanded on channel-idle events, waiting page
    // transfers first, then round robin (TSU_Base::handle_channel_idle_signal; docs/timing.md).
    read_dispatch: 'event',
    copyback: 0, // Use_Copyback_for_GC=false
  },
  // SimpleSSD: read 40 µs (LSB), program 500 µs (LSB), erase 3.5 ms; 8 ch × 4 packages assumed,
  // 8 KiB pages, 400 MB/s channels (ONFI 3).
  simplessd: {
    ...COMMON, preset: 'simplessd', channels: 8, dies_per_channel: 4, page_bytes: 8192, pages_per_block: 512,
    tr_us: 40, tprog_us: 500, tbers_us: 3500, channel_mbps: 400,
  },
  // ConfZNS: tR 65 µs, tPROG 450 µs, erase 2 ms, channel transfer 25 µs per page; with 16 KiB
  // pages that is 655 MB/s. 8 ch × 8 dies assumed.
  confzns: {
    ...COMMON, preset: 'confzns', channels: 8, dies_per_channel: 8, page_bytes: 16384, pages_per_block: 256,
    tr_us: 65, tprog_us: 450, tbers_us: 2000, channel_mbps: 655.36,
  },
  // A SAS-attached all-flash array: many SSDs behind a RAID controller (modeled as one wide
  // flash pool), a 12G SAS x4 wide port, a controller that costs more per command than an SSD's,
  // a large write cache, and a copy manager that moves data at 2 GB/s with 20 µs per segment.
  'sas-array': {
    ...COMMON, preset: 'sas-array', channels: 32, dies_per_channel: 8, page_bytes: 16384, pages_per_block: 256,
    tr_us: 60, tprog_us: 600, tbers_us: 3000, channel_mbps: 800,
    ctrl_overhead_us: 25, ctrl_units: 16, dram_bytes: 4 << 30,
    link: 'sas12x4', link_mbps: LINKS.sas12x4.mbps, link_latency_us: LINKS.sas12x4.latency_us,
    xcopy_mbps: 2000, xcopy_segment_us: 20, populate_token_us: 100, fabric_mbps: 2400, fabric_latency_us: 5,
  },
};
