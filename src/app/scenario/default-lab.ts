/**
 * The built-in default lab: every command without --scenario works on these devices (shown by
 * `copylab lab`), and `copylab run` (and `npm start`) runs its steps: each way a copy can travel,
 * side by side in one table. Print it with `copylab run --print` to start a scenario of your own.
 * The steps use the nullblk devices only; the NVMe controller, the SCSI array, the dm device and
 * the iSCSI target are there for `copylab nvme`, `scsi`, `dmsetup`, `serve iscsi` and the shell.
 */
export const DEFAULT_SCENARIO_YAML = `\
description: >-
  copylab's default lab: an offloaded copy, a split copy, cross-device copies inside and
  outside a copy domain, an emulated copy with its reason, an injected offload failure that
  falls back, the size heuristic, and requests the block layer refuses.
devices:
  # nullb0 and nullb2 share copy domain d0: they copy between each other inside the "hardware".
  - { kind: nullblk, name: nullb0, size: 64MiB, lbs: 4096, copy_max_hw_bytes: 1MiB, domain: d0 }
  - { kind: nullblk, name: nullb1, size: 64MiB, lbs: 4096, copy_max_hw_bytes: 0 }
  - { kind: nullblk, name: nullb2, size: 64MiB, lbs: 4096, copy_max_hw_bytes: 1MiB, domain: d0 }
  - { kind: nullblk, name: nullb3, size: 64MiB, lbs: 4096, copy_max_hw_bytes: 8MiB, domain: d1 }
  # An NVMe controller: nvme0n1 conventional, nvme0n2 zoned (4 MiB zones); Copy formats 0-3,
  # cross-namespace formats 2/3 refused until the host enables them (cdfe: true).
  - kind: nvme
    name: nvme0
    namespaces:
      - { size: 64MiB, lbs: 4096 }
      - { size: 64MiB, lbs: 4096, zoned: true, zone_size: 4MiB }
  # A SCSI array (one copy manager: EXTENDED COPY, ROD tokens) with two LUs, seen as sda and sdb.
  - kind: scsi
    array: lab
    lus: [ { name: sda, size: 64MiB }, { name: sdb, size: 64MiB } ]
stack:
  # /dev/mapper/lin (dm-0): the second halves of nullb2 and nullb3, end to end.
  - dm: lin
    table: |
      0 65536 linear /dev/nullb2 65536
      65536 65536 linear /dev/nullb3 65536
iscsi:
  # What \`copylab serve iscsi\` exports: the array's LUs as LUNs 0 and 1.
  targets:
    - iqn: iqn.2024-01.org.copylab:lab
      luns: [ /dev/sda, /dev/sdb ]
steps:
  - fill:   { dev: /dev/nullb0, offset: 0, length: 4MiB, seed: 7 }
  # One piece, done inside the device: no host bytes.
  - copy:   { dev: /dev/nullb0, ranges: [ { src: 0, dst: 16MiB, length: 1MiB } ], expect: { path: offload, pieces: 1, host_bytes: 0 } }
  # Split by copy_max_bytes (1 MiB) into four offloaded pieces.
  - copy:   { dev: /dev/nullb0, ranges: [ { src: 0, dst: 32MiB, length: 4MiB } ], expect: { path: offload, pieces: 4 } }
  - verify: { dev: /dev/nullb0, offset: 32MiB, length: 4MiB, seed: 7, pattern_offset: 0 }
  # Four scattered sources gathered onto one contiguous destination: one many-sources command (GC's shape).
  - copy:
      dev: /dev/nullb0
      ranges: [ { src: 0, dst: 40960KiB, length: 64KiB },    { src: 512KiB, dst: 41024KiB, length: 64KiB },
                { src: 1MiB, dst: 41088KiB, length: 64KiB }, { src: 1536KiB, dst: 41152KiB, length: 64KiB } ]
      expect: { path: offload, pieces: 1 }
  - verify: { dev: /dev/nullb0, offset: 41024KiB, length: 64KiB, seed: 7, pattern_offset: 512KiB }
  # Across devices in one copy domain: still offloaded.
  - copy:   { dev: /dev/nullb2, ranges: [ { src_dev: /dev/nullb0, src: 0, dst: 0, length: 2MiB } ], expect: { path: offload, pieces: 2, host_bytes: 0 } }
  - verify: { dev: /dev/nullb2, offset: 0, length: 2MiB, seed: 7, pattern_offset: 0 }
  # The destination cannot offload: emulated through a bounce buffer (read + write = 2 x length host bytes).
  - copy:   { dev: /dev/nullb1, ranges: [ { src_dev: /dev/nullb0, src: 0, dst: 0, length: 1MiB } ], expect: { path: emulated, host_bytes: 2MiB } }
  - verify: { dev: /dev/nullb1, offset: 0, length: 1MiB, seed: 7, pattern_offset: 0 }
  # Both ends can offload, but not to each other: different copy domains.
  - copy:   { dev: /dev/nullb3, ranges: [ { src_dev: /dev/nullb0, src: 0, dst: 0, length: 1MiB } ], expect: { path: emulated } }
  # The device fails the next copy command; the engine falls back to emulation and says why.
  - fault:  { dev: /dev/nullb0, op: copy, errno: EIO, count: 1 }
  - copy:   { dev: /dev/nullb0, ranges: [ { src: 0, dst: 48MiB, length: 2MiB } ], expect: { path: mixed, pieces: 2 } }
  - verify: { dev: /dev/nullb0, offset: 48MiB, length: 2MiB, seed: 7, pattern_offset: 0 }
  # The size heuristic: below copy_offload_min_bytes the engine emulates.
  - sysfs:  { write: /sys/block/nullb0/queue/copy_offload_min_bytes, value: "262144" }
  - copy:   { dev: /dev/nullb0, ranges: [ { src: 0, dst: 56MiB, length: 64KiB } ], expect: { path: emulated } }
  # Refused before anything moves.
  - copy:   { dev: /dev/nullb0, ranges: [ { src: 0, dst: 4KiB, length: 8KiB } ], expect: { errno: EINVAL } }
  - copy:   { dev: /dev/nullb0, ranges: [ { src: 0, dst: 62MiB, length: 4MiB } ], expect: { errno: EINVAL } }
  - sysfs:  { write: /sys/block/nullb0/queue/copy_max_bytes, value: "1000", expect: { errno: EINVAL } }
  - sysfs:  { read: /sys/block/nullb0/queue/copy_max_hw_bytes, expect: "1048576" }
`;
